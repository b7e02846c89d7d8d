package io.meshguard.bench.console;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.access.AdminGate;
import io.meshguard.console.ConsoleSettings;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.server.NodeStatus;
import io.meshguard.xds.server.PgNodeStatusWriter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;

/**
 * Console pages beside the admin API's JSON for the same data, same controller, same PostgreSQL, interleaved rounds:
 * the Revisions page (timeline), the Revisions page with the diff of two 2,000-route revisions, and the Fleet page
 * with 500 nodes, against {@code GET /revisions}, {@code GET /revisions/A/diff/B} and {@code GET /fleet}. Latency is
 * measured by the client over loopback (an upper bound of the server time). {@code java -cp ... ConsoleBench [calls]}
 */
public final class ConsoleBench {
    private static final String TOKEN = "console-bench-token-0123456789abcdef";
    private static final int ROUTES = 2_000;
    private static final int NODES = 500;
    private static final int REVISIONS = 30;
    /** Server time per console page, from its Server-Timing header (the warm-up rounds are cleared). */
    private static final Map<String, Histogram> server = new LinkedHashMap<>();

    public static void main(String[] args) throws Exception {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        Path dir = Files.createTempDirectory("console-bench");
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, TOKEN + "\n");
        try (LocalPostgres pg = LocalPostgres.start(dir.resolve("pg"), 0);
                HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"))) {
            Migrations.apply(ds);
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            XdsController xds =
                    XdsController.create(XdsSettings.onLoopback("bench", Optional.of(tokens)), ds, registry, c -> {});
            StatusHttpServer http = new StatusHttpServer("bench-console", HttpServerSettings.onPort(0), registry);
            AdminGate gate = AdminGate.local(new BearerTokens(Optional.of(tokens)), "xds.admin.token_file");
            xds.mountAdminApi(http, gate);
            io.meshguard.console.Console console = io.meshguard.console.ConsoleMount.mount(
                    xds,
                    http,
                    gate,
                    ConsoleSettings.of(Optional.empty(), "meshguard-console", Optional.empty(), "http://127.0.0.1"));
            xds.start();
            http.start();
            try {
                List<Long> ids = publishRevisions(xds);
                seedNodes(ds, ids.get(ids.size() - 1));
                String base = "http://127.0.0.1:" + http.port();
                HttpClient client = HttpClient.newHttpClient();
                String session = signIn(client, base);
                long a = ids.get(ids.size() - 2);
                long b = ids.get(ids.size() - 1);
                Map<String, HttpRequest> pairs = new LinkedHashMap<>();
                pairs.put("console Revisions", console(base, "/console/revisions", session));
                pairs.put("API GET /revisions", api(base, "/revisions"));
                pairs.put(
                        "console Revisions + diff",
                        console(base, "/console/revisions?from=" + ids.get(0) + "&to=" + b, session));
                pairs.put("API GET /revisions/A/diff/B", api(base, "/revisions/" + ids.get(0) + "/diff/" + b));
                pairs.put("console Fleet (500 nodes)", console(base, "/console/fleet", session));
                pairs.put("API GET /fleet", api(base, "/fleet"));
                Map<String, Histogram> h = new LinkedHashMap<>();
                server.clear();
                Map<String, Integer> bytes = new LinkedHashMap<>();
                pairs.keySet().forEach(k -> h.put(k, new Histogram(3)));
                for (int warm = 0; warm < 2; warm++) {
                    for (var e : pairs.entrySet()) {
                        run(client, e.getValue(), Math.max(10, calls / 5), new Histogram(3), bytes, e.getKey());
                    }
                }
                int rounds = 5;
                for (int r = 0; r < rounds; r++) {
                    for (var e : pairs.entrySet()) {
                        run(client, e.getValue(), calls, h.get(e.getKey()), bytes, e.getKey());
                    }
                }
                System.out.printf(
                        "%d routes, %d nodes, %d revisions (diff %d -> %d); %d interleaved rounds of %d"
                                + " calls per page:%n",
                        ROUTES, NODES, ids.size(), ids.get(0), b, rounds, calls);
                System.out.printf(
                        "| page | client p50 ms | client p95 ms | client p99 ms | server p50 ms | server p95 ms"
                                + " | bytes |%n|---|---|---|---|---|---|---|%n");
                for (var e : h.entrySet()) {
                    Histogram s = server.get(e.getKey());
                    System.out.printf(
                            "| %s | %.1f | %.1f | %.1f | %s | %s | %,d |%n",
                            e.getKey(),
                            e.getValue().getValueAtPercentile(50) / 1e6,
                            e.getValue().getValueAtPercentile(95) / 1e6,
                            e.getValue().getValueAtPercentile(99) / 1e6,
                            s == null ? "—" : String.format("%.1f", s.getValueAtPercentile(50) / 1e3),
                            s == null ? "—" : String.format("%.1f", s.getValueAtPercentile(95) / 1e3),
                            bytes.get(e.getKey()));
                }
                if (a <= 0) {
                    throw new IllegalStateException("no revisions");
                }
            } finally {
                console.closeStreams();
                http.close();
                xds.close();
            }
        }
    }

    /** The sample configuration grown to {@link #ROUTES} routes, published {@link #REVISIONS} times with a change. */
    private static List<Long> publishRevisions(XdsController xds) throws Exception {
        GatewayConfig sample = XdsController.sampleConfig();
        Route template = sample.routes().stream()
                .filter(r -> r.name().equals("status-health"))
                .findFirst()
                .orElseThrow();
        List<Long> ids = new ArrayList<>();
        for (int rev = 0; rev < REVISIONS; rev++) {
            List<Route> routes = new ArrayList<>(sample.routes());
            for (int i = routes.size(); i < ROUTES; i++) {
                ObjectNode json = ConfigJson.mapper().valueToTree(template);
                json.put("name", "bulk-" + i);
                // each revision moves a tenth of the routes: the diff has real work
                ObjectNode match = (ObjectNode) json.path("match");
                match.remove(List.of("path_exact", "path_regex"));
                match.put("path_prefix", "/bulk/" + i + (i % 10 == rev % 10 ? "/r" + rev : ""));
                routes.add(ConfigJson.mapper().treeToValue(json, Route.class));
            }
            GatewayConfig config = new GatewayConfig(sample.groups(), sample.upstreams(), sample.apis(), routes);
            xds.draft().replace(config);
            var result = xds.publisher().publish(config, "bench", "revision " + rev);
            if (!result.published()) {
                throw new IllegalStateException("publish refused: "
                        + result.problems().stream()
                                .filter(p -> p.severity() == io.meshguard.xds.validate.Problem.Severity.ERROR)
                                .limit(3)
                                .toList());
            }
            ids.add(result.revisions().get("local").id());
        }
        return ids;
    }

    private static void seedNodes(javax.sql.DataSource ds, long revision) {
        Instant now = Instant.now();
        try (PgNodeStatusWriter w = new PgNodeStatusWriter(ds, "bench")) {
            for (int i = 0; i < NODES; i++) {
                boolean nack = i % 25 == 0;
                w.changed(new NodeStatus(
                        "gateway-" + i,
                        "spiffe://cluster.local/ns/gw/sa/gateway-" + (i % 7),
                        "local",
                        i % 50 != 0,
                        1,
                        "envoy/1.34." + (i % 3),
                        Map.of(),
                        nack ? Optional.empty() : Optional.of(revision),
                        nack
                                ? Optional.of(new NodeStatus.Nack(
                                        "type.googleapis.com/envoy." + "config.route.v3.RouteConfiguration",
                                        String.valueOf(revision),
                                        "route rejected",
                                        now))
                                : Optional.empty(),
                        now.minusSeconds(i)));
            }
        }
    }

    private static String signIn(HttpClient client, String base) throws Exception {
        HttpResponse<String> form = client.send(
                HttpRequest.newBuilder(URI.create(base + "/console/signin")).build(),
                HttpResponse.BodyHandlers.ofString());
        String binding = cookieValue(form, "mg_signin");
        Matcher m = Pattern.compile("name=\"_signin\" value=\"([^\"]+)\"").matcher(form.body());
        if (!m.find()) {
            throw new IllegalStateException("no sign-in form");
        }
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(base + "/console/signin"))
                        .header("Cookie", "mg_signin=" + binding)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("_signin=" + m.group(1) + "&token=" + TOKEN))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return "mg_console=" + cookieValue(r, "mg_console");
    }

    private static String cookieValue(HttpResponse<String> r, String name) {
        String c = r.headers().allValues("Set-Cookie").stream()
                .filter(x -> x.startsWith(name + "="))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no cookie " + name + ": " + r.statusCode()));
        return c.substring(name.length() + 1, c.indexOf(';'));
    }

    private static HttpRequest console(String base, String path, String session) {
        return HttpRequest.newBuilder(URI.create(base + path))
                .header("Cookie", session)
                .build();
    }

    private static HttpRequest api(String base, String path) {
        return HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + TOKEN)
                .build();
    }

    private static void run(
            HttpClient client, HttpRequest request, int calls, Histogram into, Map<String, Integer> bytes, String name)
            throws Exception {
        for (int i = 0; i < calls; i++) {
            long start = System.nanoTime();
            HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            into.recordValue(System.nanoTime() - start);
            if (r.statusCode() != 200) {
                throw new IllegalStateException(request.uri() + " answered " + r.statusCode());
            }
            bytes.put(name, r.body().length);
            // the console's own measure (Server-Timing, in ms with one decimal), recorded in microseconds
            r.headers()
                    .firstValue("Server-Timing")
                    .map(v -> v.substring(v.indexOf("dur=") + 4))
                    .ifPresent(ms -> server.computeIfAbsent(name, k -> new Histogram(3))
                            .recordValue(Math.round(Double.parseDouble(ms) * 1000)));
        }
    }
}
