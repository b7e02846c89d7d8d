package io.meshguard.xds.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.meshguard.emulator.Headers;
import io.meshguard.emulator.RouteTable;
import io.meshguard.xds.approval.GatewayRoutes;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.ConfigValidator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The replay's route selection ({@link GatewayRoutes}, written in the controller) against an independent peer: the
 * Envoy emulator's {@link RouteTable}, which the e2e harness plays real traffic through. Over generated gateway
 * revisions (APIs with versioned and default paths, sunset and retired versions, prefix, exact and regex routes,
 * methods, header matches, CORS preflights) and many spellings of each request (segment boundaries, trailing and
 * doubled slashes, case, escapes, dot segments, queries, unknown hosts and ports), both pick the same route or both
 * answer 404. Lives in the emulator's package to reach its package-private table; the emulator is a test dependency
 * only.
 */
class GatewayRoutesAgreeWithEmulatorTest {
    private static final List<String> WORDS = List.of("payments", "pay", "orders", "order", "v1x", "admin", "a", "ab");
    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "OPTIONS");
    private static final List<String> HEADERS = List.of("x-tenant-id", "x-canary");

    @Test
    void generatedRevisionsAndRequests_pickTheSameRouteAsTheEmulator() {
        Random random = new Random(47);
        int compared = 0;
        int routed = 0;
        int revisions = 0;
        for (int n = 0; n < 60; n++) {
            GatewayConfig config = GatewayYaml.read("generated-" + n + ".yaml", revision(random));
            if (!new ConfigValidator().validate(config).errors().isEmpty()) {
                continue;
            }
            revisions++;
            GatewayRoutes ours = GatewayRoutes.of(config, "edge");
            RouteConfiguration table = ours.table();
            for (String path : paths(table, random)) {
                for (String host : List.of(
                        "api.bank.example", "API.Bank.Example", "other.example", "meshguard-readiness.invalid")) {
                    String method = METHODS.get(random.nextInt(METHODS.size()));
                    Map<String, String> headers = headers(random);
                    String query = random.nextBoolean() ? "" : "?q=" + WORDS.get(random.nextInt(WORDS.size())) + "/x";
                    String theirs = emulator(table, method, host, path + query, headers);
                    String mine = name(ours.select(request(method, host, path, headers)));
                    assertThat(mine)
                            .as("%s %s%s %s on revision %d", method, host, path + query, headers, n)
                            .isEqualTo(theirs);
                    compared++;
                    if (!mine.equals("404")) {
                        routed++;
                    }
                }
            }
        }
        assertThat(revisions).as("valid generated revisions").isGreaterThan(30);
        assertThat(compared).isGreaterThan(10_000);
        assertThat(routed).as("requests that some route took").isGreaterThan(compared / 10);
    }

    /** A gateway group with two APIs and random routes, as its YAML. */
    private static String revision(Random random) {
        StringBuilder routes = new StringBuilder();
        int count = 2 + random.nextInt(6);
        for (int i = 0; i < count; i++) {
            String api = random.nextBoolean() ? "payments" : "orders";
            String version = random.nextBoolean() ? "v1" : "v2";
            String path = "/" + WORDS.get(random.nextInt(WORDS.size()))
                    + (random.nextInt(3) == 0 ? "/" + WORDS.get(random.nextInt(WORDS.size())) : "");
            String match =
                    switch (random.nextInt(5)) {
                        case 0 -> "path_exact: " + path;
                        case 1 -> "path_regex: '" + path + "/[0-9]+'";
                        case 2 -> "path_prefix: " + path + "/";
                        default -> "path_prefix: " + path;
                    };
            if (random.nextInt(3) == 0) {
                match += ", methods: [" + METHODS.get(random.nextInt(2)) + "]";
            }
            if (random.nextInt(4) == 0) {
                String header = HEADERS.get(random.nextInt(HEADERS.size()));
                match += switch (random.nextInt(4)) {
                    case 0 -> ", headers: [{name: " + header + ", exact: acme}]";
                    case 1 -> ", headers: [{name: " + header + ", prefix: ac}]";
                    case 2 -> ", headers: [{name: " + header + ", regex: 'a[a-z]+'}]";
                    default -> ", headers: [{name: " + header + "}]";
                };
            }
            routes.append("  - {name: r")
                    .append(i)
                    .append(", group: edge, api: ")
                    .append(api)
                    .append(", version: ")
                    .append(version)
                    .append(", authz_profile: p")
                    .append(i)
                    .append(", match: {")
                    .append(match)
                    .append("}, destinations: [{upstream: be, weight: 100}]}\n");
        }
        String v2Status = List.of("active", "deprecated", "sunset", "retired").get(random.nextInt(4));
        String cors = random.nextBoolean() ? "    cors: {allowed_origins: [https://app.bank.example]}\n" : "";
        return """
                groups:
                  - name: edge
                    environment: dev
                    hostnames: [api.bank.example]
                %supstreams: [{name: be, endpoints: [{address: be.svc.cluster.local, port: 8080}]}]
                apis:
                  - {name: payments, base_path: /payments, default_version: v1,
                     versions: [{version: v1}, {version: v2, status: %s, sunset_at: 2026-01-01T00:00:00Z}]}
                  - {name: orders, base_path: /orders/api, default_version: v2, versions: [{version: v1}, {version: v2}]}
                routes:
                %s""".formatted(cors, v2Status, routes);
    }

    /** Spellings around every path the table matches on, and some it never names. */
    private static List<String> paths(RouteConfiguration table, Random random) {
        List<String> roots = new ArrayList<>(List.of("/", "/payments", "/orders/api", "/nothing"));
        for (VirtualHost vh : table.getVirtualHostsList()) {
            for (Route r : vh.getRoutesList()) {
                switch (r.getMatch().getPathSpecifierCase()) {
                    case PREFIX -> roots.add(r.getMatch().getPrefix());
                    case PATH_SEPARATED_PREFIX -> roots.add(r.getMatch().getPathSeparatedPrefix());
                    case PATH -> roots.add(r.getMatch().getPath());
                    case SAFE_REGEX ->
                        roots.add(r.getMatch()
                                .getSafeRegex()
                                .getRegex()
                                .replaceAll("\\\\Q|\\\\E", "")
                                .replace("/[0-9]+", "/42"));
                    default -> {}
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (String root : roots) {
            out.add(root);
            out.add(root + "/");
            out.add(root + "/1");
            out.add(root + "x");
            out.add(root + "/" + WORDS.get(random.nextInt(WORDS.size())));
            out.add(root + "//1");
            out.add(root.toUpperCase(Locale.ROOT));
            out.add(root.replaceFirst("/", "/%70"));
            out.add(root + "/./1");
            out.add(root + "/../" + WORDS.get(random.nextInt(WORDS.size())));
            out.add(root + "/42");
            out.add(root + ";p=1");
        }
        return out;
    }

    private static Map<String, String> headers(Random random) {
        Map<String, String> h = new TreeMap<>();
        for (String name : HEADERS) {
            switch (random.nextInt(4)) {
                case 0 -> h.put(name, "acme");
                case 1 -> h.put(name, "Acme");
                case 2 -> h.put(name, "globex");
                default -> {}
            }
        }
        if (random.nextBoolean()) {
            h.put("origin", "https://app.bank.example");
            h.put("access-control-request-method", "POST");
        }
        return h;
    }

    private static String emulator(
            RouteConfiguration table, String method, String host, String path, Map<String, String> headers) {
        Headers h = Headers.of(":method", method);
        headers.forEach(h::add);
        return RouteTable.virtualHost(table, host)
                .flatMap(vh -> RouteTable.route(vh, path, h))
                .map(r -> r.getName().endsWith(".not-found") ? "404" : r.getName())
                .orElse("404");
    }

    private static String name(GatewayRoutes.Selection s) {
        return switch (s) {
            case GatewayRoutes.Checked c -> c.route();
            case GatewayRoutes.Unchecked u -> u.route().endsWith(".not-found") ? "404" : u.route();
            case GatewayRoutes.NoVirtualHost n -> "404";
            case GatewayRoutes.Unknown u -> "unknown: " + u.reason();
        };
    }

    private static GatewayRoutes.Request request(String method, String host, String path, Map<String, String> headers) {
        Map<String, String> lower = new LinkedHashMap<>();
        headers.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
        return new GatewayRoutes.Request() {
            @Override
            public String method() {
                return method;
            }

            @Override
            public String host() {
                return host;
            }

            @Override
            public String path() {
                return path;
            }

            @Override
            public GatewayRoutes.Header header(String name) {
                return Optional.ofNullable(lower.get(name))
                        .<GatewayRoutes.Header>map(GatewayRoutes.Value::new)
                        .orElse(new GatewayRoutes.Absent());
            }
        };
    }
}
