package io.meshguard.cli.access;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.RoleBindings;
import io.meshguard.access.Scope;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.apikey.ApiKeyAdminApi;
import io.meshguard.cli.authz.ExtAuthzCommand;
import io.meshguard.cli.common.ServerAudit;
import io.meshguard.cli.xds.XdsCommand;
import io.meshguard.extauthz.quota.QuotaAdminApi;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.testing.FixturePolicies;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.admin.AdminApi;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every permission of every role in the shipped {@code policies/access.yaml}, called through the API: one persona per
 * shipped binding (a real RS256 access token from a real JWKS issuer, carrying the binding's group) against the
 * servers started from their config as {@code meshguard xds} and {@code meshguard extauthz} start them, on a real
 * PostgreSQL. The operations are the servers' own route tables, the ones their gates admit from; nothing here lists
 * permissions or routes a second time.
 *
 * <p>For each operation and persona the expectation follows from the file and the documented scope rules (a grant
 * covers its own scope, system covers all; a tenant grant admits tenant routes, which the server then confines to
 * the grant's tenants): admitted, or 403. Admitted means any answer but 401, 403 and 5xx: the path parameters name
 * objects that do not exist, so 404 and the bodies' 400/422 are the handler's answers after the gate let the call
 * in. That this is the gate's decision and not an unmounted path is shown on the same path: no token answers 401
 * and a persona without the grant answers 403 (an unrouted path answers 404 to everyone).
 */
@IntegrationTest
class PersonaMatrixTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static final Path ACCESS_FILE =
            Path.of("..", "policies", "access.yaml").toAbsolutePath().normalize();
    static final RoleBindings SHIPPED = RoleBindings.load(ACCESS_FILE);
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient client = HttpClient.newHttpClient();
    /** A name no object has: calls on it reach the handler's own "not found" once the gate admits them. */
    static final String ABSENT = "matrix-absent";
    /** The gateway groups the shipped bindings name: each gateway route is called on both. */
    static final List<String> GATEWAYS = List.of("edge-prod", "local");
    /** Answers that show the gate admitted the call (why: the class comment). */
    static final Set<Integer> ADMITTED = Set.of(200, 201, 202, 204, 400, 404, 409, 422);

    static TestIssuer issuer;
    static XdsCommand.Running xds;
    static ExtAuthzCommand.Running extauthz;

    /** Where a route table is served: base URL and the routes called there with a bearer token. */
    record Surface(String name, String base, List<AdminRoute> routes) {}

    /** One caller: the shipped binding it holds (none for a signed-in user the file grants nothing). */
    record Persona(String group, Optional<RoleBindings.Binding> binding) {
        Set<String> permissions() {
            return binding.map(b -> SHIPPED.permissionsOf(b.role())).orElse(Set.of());
        }

        String describe() {
            return binding.map(b -> b.role() + "@" + b.scope()).orElse("no role") + " (" + group + ")";
        }
    }

    /** A route with its path parameters filled: what is called. */
    record Operation(Surface surface, AdminRoute route, String path, Scope target) {
        String describe() {
            return route.method() + " " + path + " [" + route.permission() + " at " + target + "]";
        }
    }

    static List<Surface> surfaces;
    static List<Persona> personas;

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer();
        Path token = Files.writeString(tmp.resolve("token"), "persona-matrix-admin-token-0123456789\n");
        Map<String, String> common = Map.of(
                "MESHGUARD_DB_URL", PG.jdbcUrl(),
                "MESHGUARD_DB_USER", PG.user(),
                "MESHGUARD_DB_PASSWORD", PG.password(),
                "MESHGUARD_HTTP_BIND", "127.0.0.1",
                "MESHGUARD_HTTP_PORT", "0",
                "MESHGUARD_ADMIN_OIDC_ISSUER", issuer.issuer(),
                "MESHGUARD_ADMIN_ACCESS_FILE", ACCESS_FILE.toString());
        Map<String, String> xdsEnv = new HashMap<>(common);
        xdsEnv.putAll(Map.of(
                "MESHGUARD_XDS_ADS_BIND", "127.0.0.1",
                "MESHGUARD_XDS_ADS_PORT", "0",
                "MESHGUARD_XDS_ADS_PEER_IDENTITY", "local-development",
                "MESHGUARD_XDS_ADMIN_TOKEN_FILE", token.toString(),
                // central's zone port, so the zone routes (cluster:register, cluster:revoke) are served
                "MESHGUARD_XDS_ZONE_HUB_ENABLED", "true",
                "MESHGUARD_XDS_ZONE_HUB_BIND", "127.0.0.1",
                "MESHGUARD_XDS_ZONE_HUB_PORT", "0",
                "MESHGUARD_AUDIT_SPOOL_DIR", tmp.resolve("xds-spool").toString()));
        xds = XdsCommand.start(ConfigLoader.load(XdsCommand.schema(), Optional.empty(), xdsEnv), Map.of());
        Map<String, String> authzEnv = new HashMap<>(common);
        authzEnv.putAll(Map.of(
                "MESHGUARD_GRPC_BIND",
                "127.0.0.1",
                "MESHGUARD_GRPC_PORT",
                "0",
                "MESHGUARD_POLICY_FILE",
                FixturePolicies.directory().resolve("authz.yaml").toString(),
                "MESHGUARD_AUDIT_SPOOL_DIR",
                tmp.resolve("extauthz-spool").toString()));
        extauthz = ExtAuthzCommand.start(
                ConfigLoader.load(ServerAudit.withAuditKeys(ExtAuthzConfig.SCHEMA), Optional.empty(), authzEnv),
                Map.of());
        // the console's routes are admitted from a session cookie, not a bearer token: its own tests call them
        surfaces = List.of(
                new Surface(
                        "xds admin port",
                        "http://127.0.0.1:" + xds.http().port(),
                        Stream.of(AdminApi.PORT_ROUTES, CatalogApi.ROUTES, ApiKeyAdminApi.ROUTES)
                                .flatMap(List::stream)
                                .filter(r -> !r.isOpen())
                                .toList()),
                // a cluster serves the API keys' operations on extauthz's port as well
                new Surface(
                        "extauthz http port",
                        "http://127.0.0.1:" + extauthz.http().port(),
                        Stream.of(QuotaAdminApi.ROUTES, ApiKeyAdminApi.ROUTES)
                                .flatMap(List::stream)
                                .toList()));
        catalogueBodies = bodiesFromOpenApi(JSON.readTree(
                call(surfaces.get(0).base(), Optional.empty(), "GET", "/v1/openapi.json", Optional.empty())
                        .body()));
        // the port's one document describes the controller's operations too: their calls stay empty objects
        catalogueBodies
                .keySet()
                .retainAll(CatalogApi.ROUTES.stream()
                        .map(r -> r.method() + " " + r.path())
                        .toList());
        assertThat(catalogueBodies)
                .as("catalogue operations with a request body")
                .hasSizeGreaterThan(10);
        List<Persona> all = new ArrayList<>(SHIPPED.bindings().stream()
                .map(b -> new Persona(b.match(), Optional.of(b)))
                .toList());
        all.add(new Persona("matrix-visitors", Optional.empty()));
        personas = List.copyOf(all);
    }

    @AfterAll
    static void stop() {
        if (extauthz != null) {
            extauthz.close();
        }
        if (xds != null) {
            xds.close();
        }
        if (issuer != null) {
            issuer.close();
        }
    }

    /** Every route of every surface with its parameters filled; a gateway route once per shipped gateway. */
    static List<Operation> operations() {
        List<Operation> out = new ArrayList<>();
        for (Surface s : surfaces) {
            for (AdminRoute r : s.routes()) {
                List<String> template = List.of(r.path().substring(1).split("/"));
                // which parameter names the gateway group: the route's own scope function says, given markers
                List<String> markers = new ArrayList<>();
                for (int i = 0; i < template.size(); i++) {
                    markers.add(template.get(i).startsWith("{") ? "param-" + i : template.get(i));
                }
                Scope marked = r.scope().apply(markers);
                int groupIndex = marked.kind().equals("gateway") ? markers.indexOf(marked.name()) : -1;
                for (String gateway : groupIndex >= 0 ? GATEWAYS : List.of("")) {
                    List<String> segments = new ArrayList<>();
                    for (int i = 0; i < template.size(); i++) {
                        String t = template.get(i);
                        segments.add(
                                i == groupIndex
                                        ? gateway
                                        : !t.startsWith("{")
                                                ? t
                                                : Set.of("{revision}", "{from}", "{to}")
                                                                .contains(t)
                                                        ? "999999"
                                                        : ABSENT);
                    }
                    out.add(new Operation(
                            s, r, "/" + String.join("/", segments), r.scope().apply(segments)));
                }
            }
        }
        return out;
    }

    /**
     * Whether the shipped file lets {@code p} run {@code op}, by the rules operator-guide "Access control" states:
     * the role carries the permission, and its scope covers the target (system all; a tenant grant any tenant
     * route; a gateway grant its own group's routes).
     */
    static boolean grants(Persona p, Operation op) {
        if (p.binding().isEmpty() || !p.permissions().contains(op.route().permission())) {
            return false;
        }
        Scope grant = p.binding().get().scope();
        return switch (grant.kind()) {
            case "system" -> true;
            case "tenant" -> op.target().kind().equals("tenant");
            case "gateway" -> op.target().equals(grant);
            default -> false;
        };
    }

    static String token(Persona p) {
        return issuer.accessToken("matrix-" + p.group(), "meshguard-admin", List.of(p.group()));
    }

    static HttpResponse<String> call(
            String base, Optional<String> bearer, String method, String path, Optional<String> body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(
                        method,
                        body.map(HttpRequest.BodyPublishers::ofString).orElseGet(HttpRequest.BodyPublishers::noBody));
        bearer.ifPresent(t -> b.header("Authorization", "Bearer " + t));
        body.ifPresent(x -> b.header("Content-Type", "application/json"));
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The body a call carries: for a catalogue operation, every required field of the request schema its served
     * OpenAPI document gives (so the handler gets past reading the body to the object the path names); elsewhere an
     * empty object. Either names no existing object: the handler acts on nothing (404) or refuses it (400/422).
     */
    static Optional<String> probeBody(AdminRoute r) {
        if (r.method().equals("GET") || r.method().equals("DELETE")) {
            return Optional.empty();
        }
        return Optional.of(catalogueBodies.getOrDefault(r.method() + " " + r.path(), "{}"));
    }

    static Map<String, String> catalogueBodies;

    /** Each catalogue operation's required request fields, filled: mostly a name no object has. */
    static Map<String, String> bodiesFromOpenApi(JsonNode doc) {
        Map<String, String> out = new HashMap<>();
        doc.path("paths")
                .fields()
                .forEachRemaining(path -> path.getValue().fields().forEachRemaining(op -> {
                    JsonNode schema = op.getValue()
                            .path("requestBody")
                            .path("content")
                            .path("application/json")
                            .path("schema");
                    if (schema.isMissingNode()) {
                        return;
                    }
                    com.fasterxml.jackson.databind.node.ObjectNode body = JSON.createObjectNode();
                    schema.path("required").forEach(field -> {
                        String type = schema.path("properties")
                                .path(field.asText())
                                .path("type")
                                .asText();
                        switch (type) {
                            case "array" -> body.putArray(field.asText());
                            case "object" -> body.putObject(field.asText());
                            // a state every lifecycle has, so the handler goes on to the object rather than refuse the
                            // word
                            default ->
                                body.put(
                                        field.asText(),
                                        switch (field.asText()) {
                                            case "reason" -> "persona matrix";
                                            case "state" -> "published";
                                            default -> ABSENT;
                                        });
                        }
                    });
                    out.put(op.getKey().toUpperCase(java.util.Locale.ROOT) + " " + path.getKey(), body.toString());
                }));
        return out;
    }

    @Test
    void adminPort_servesOneOpenApiDocument_atBothUrls_withEveryRouteOfEveryTableAndItsPermission() throws Exception {
        String base = surfaces.get(0).base();
        HttpResponse<byte[]> root = client.send(
                HttpRequest.newBuilder(URI.create(base + "/openapi.json")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        HttpResponse<byte[]> v1 = client.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/openapi.json")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(root.statusCode()).isEqualTo(200);
        assertThat(v1.statusCode()).isEqualTo(200);
        assertThat(v1.body()).as("the same document at both URLs").isEqualTo(root.body());
        JsonNode doc = JSON.readTree(root.body());
        assertThat(doc.path("info").path("description").asText()).contains("/v1/openapi.json");
        List<AdminRoute> served = Stream.of(AdminApi.PORT_ROUTES, CatalogApi.ROUTES, ApiKeyAdminApi.ROUTES)
                .flatMap(List::stream)
                .toList();
        for (AdminRoute r : served) {
            assertThat(doc.path("paths")
                            .path(r.path())
                            .path(r.method().toLowerCase(java.util.Locale.ROOT))
                            .path("x-meshguard-permission")
                            .asText())
                    .as("%s %s", r.method(), r.path())
                    .isEqualTo(r.permission());
        }
    }

    @Test
    void everyPersona_onEveryOperation_isAdmittedExactlyWhereTheShippedFileGrants() throws Exception {
        long started = System.nanoTime();
        List<Operation> operations = operations();
        Map<String, String> tokens = new HashMap<>();
        personas.forEach(p -> tokens.put(p.group(), token(p)));
        List<String> wrong = new ArrayList<>();
        Map<Integer, Integer> admittedAnswers = new TreeMap<>();
        int cases = 0;
        for (Operation op : operations) {
            HttpResponse<String> anonymous =
                    call(op.surface().base(), Optional.empty(), op.route().method(), op.path(), probeBody(op.route()));
            cases++;
            if (anonymous.statusCode() != 401) {
                wrong.add("no token: " + op.describe() + " answered " + anonymous.statusCode() + " (not gated?)");
            }
            for (Persona p : personas) {
                HttpResponse<String> r = call(
                        op.surface().base(),
                        Optional.of(tokens.get(p.group())),
                        op.route().method(),
                        op.path(),
                        probeBody(op.route()));
                cases++;
                boolean expected = grants(p, op);
                boolean ok = expected ? ADMITTED.contains(r.statusCode()) : r.statusCode() == 403;
                if (expected) {
                    admittedAnswers.merge(r.statusCode(), 1, Integer::sum);
                }
                if (!ok) {
                    wrong.add(p.describe() + ": " + op.describe() + " expected " + (expected ? "admitted" : "403")
                            + ", got " + r.statusCode() + " " + abbreviate(r.body()));
                }
            }
        }
        System.out.printf(
                "persona matrix: %d personas x %d operations, %d calls, %d wrong, %d ms; admitted calls"
                        + " answered (status=count) %s%n",
                personas.size(),
                operations.size(),
                cases,
                wrong.size(),
                (System.nanoTime() - started) / 1_000_000,
                admittedAnswers);
        assertThat(wrong).as("calls the shipped access.yaml decides otherwise").isEmpty();
    }

    /**
     * Malformed and invalid are told apart alike on every route that takes a body, on both ports (docs/problem-codes.md):
     * a body that is not JSON is 400 wherever the body is read (a handler that finds the path's object missing first
     * answers 404 without reading it); an empty object reads, so it is never 400: the handler refuses it as missing
     * what it needs (422, saying what) or goes on to the object the path names (404, 409). Neither is ever a 5xx.
     */
    @Test
    void everyRouteTakingABody_answersMalformedJson400_andMissingRequiredFields422() throws Exception {
        Map<String, String> tokens = new HashMap<>();
        List<String> wrong = new ArrayList<>();
        Map<Integer, Integer> malformedAnswers = new TreeMap<>();
        Map<Integer, Integer> emptyAnswers = new TreeMap<>();
        Set<String> missingRefused = new TreeSet<>();
        for (Operation op : operations()) {
            String method = op.route().method();
            Optional<Persona> admitted =
                    personas.stream().filter(p -> grants(p, op)).findFirst();
            if (method.equals("GET") || method.equals("DELETE") || admitted.isEmpty()) {
                continue;
            }
            Optional<String> bearer =
                    Optional.of(tokens.computeIfAbsent(admitted.get().group(), g -> token(admitted.get())));
            HttpResponse<String> malformed =
                    call(op.surface().base(), bearer, method, op.path(), Optional.of("{\"reason\": "));
            malformedAnswers.merge(malformed.statusCode(), 1, Integer::sum);
            if (!Set.of(400, 404).contains(malformed.statusCode()) || !refusal(malformed)) {
                wrong.add("malformed JSON: " + op.describe() + " answered " + malformed.statusCode() + " "
                        + abbreviate(malformed.body()));
            }
            HttpResponse<String> empty = call(op.surface().base(), bearer, method, op.path(), Optional.of("{}"));
            if (empty.statusCode() == 400) {
                // a path parameter that must be a number (a request's id) does not parse, which is 400 by the table:
                // the empty body is asked again on a path that parses
                empty = call(
                        op.surface().base(), bearer, method, op.path().replace(ABSENT, "999999"), Optional.of("{}"));
            }
            emptyAnswers.merge(empty.statusCode(), 1, Integer::sum);
            boolean refused = empty.statusCode() >= 400;
            if (!Set.of(200, 201, 202, 204, 404, 409, 422).contains(empty.statusCode())
                    || (refused && !refusal(empty))) {
                wrong.add("{}: " + op.describe() + " answered " + empty.statusCode() + " " + abbreviate(empty.body()));
            }
            if (empty.statusCode() == 422) {
                missingRefused.add(method + " " + op.route().path());
            }
        }
        System.out.printf(
                "malformed JSON answered (status=count) %s; {} answered %s%n", malformedAnswers, emptyAnswers);
        assertThat(wrong)
                .as("routes answering malformed or incomplete bodies otherwise")
                .isEmpty();
        // the walk reached the handlers: the routes that need fields before they look at the path's object said so
        assertThat(missingRefused)
                .as("routes refusing {} as missing required fields")
                .contains("POST /publish", "PUT /groups/{name}/template", "POST /apikeys");
        assertThat(malformedAnswers).containsKey(400);
    }

    /** An answer of the admin plane's refusal shape: a JSON object with a non-empty {@code error}. */
    private static boolean refusal(HttpResponse<String> r) {
        try {
            return !JSON.readTree(r.body()).path("error").asText().isBlank();
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /**
     * The coverage the matrix above rests on: each permission of each shipped role is reached by some operation at
     * the scope the role is bound at (else the permission is unusable), and each operation by some shipped persona
     * (else no one can call it).
     */
    @Test
    void everyPermissionOfEveryShippedBinding_reachesAnOperation_andEveryOperationAPersona() {
        List<Operation> operations = operations();
        Map<String, List<String>> unusable = new TreeMap<>();
        for (Persona p : personas) {
            for (String permission : new TreeSet<>(p.permissions())) {
                boolean reached = operations.stream()
                        .anyMatch(op -> op.route().permission().equals(permission) && grants(p, op));
                if (!reached) {
                    unusable.computeIfAbsent(p.describe(), x -> new ArrayList<>())
                            .add(permission);
                }
            }
        }
        assertThat(unusable)
                .as("permissions no operation admits at the binding's scope")
                .isEmpty();
        List<String> unreachable = operations.stream()
                .filter(op -> personas.stream().noneMatch(p -> grants(p, op)))
                .map(Operation::describe)
                .toList();
        assertThat(unreachable).as("operations no shipped persona can call").isEmpty();
    }

    /** Listings whose answer needs a window: the last hour, so the fixtures' own rows are in it. */
    static final Map<String, String> LISTING_QUERIES = Map.of(
            "/audit/events",
            "?since=1h",
            "/audit/export",
            "?since=1h&until=" + java.time.Instant.now().plusSeconds(3600));

    /** What every acme fixture carries in a field that is not its id: an answer holding it shows the object. */
    static final List<String> ACME_MARKERS = List.of("zq7secret", "10.77.77.77");

    /**
     * The cross-tenant class: acme's personas create their objects through the API (each creation must succeed, the
     * tenant-scoped success path), then every tenant-scoped operation of the route tables whose parameters name one
     * of them is called by each globex persona the shipped file grants its permission. Each answer is the answer the
     * same call gets on a missing object (403 or 404; or the same 422 when the body is refused before any lookup),
     * so nothing tells the object exists, and holds none of the object's content; globex's listings hold none
     * either; afterwards acme still reads each object with its content (the writes above acted on nothing).
     */
    @Test
    void tenantPersonas_callingAnotherTenantsObjects_getWhatAMissingObjectGets_neverTheObject() throws Exception {
        Persona system = persona("meshguard-system-admins");
        String base = surfaces.get(0).base();
        for (String tenant : List.of("acme", "globex")) {
            expect2xx(call(
                    base,
                    Optional.of(token(system)),
                    "POST",
                    "/v1/operator/tenants",
                    Optional.of("{\"id\": \"" + tenant + "\"}")));
        }
        expect2xx(call(base, Optional.of(token(system)), "PUT", "/groups/edge-prod", Optional.of("""
                {"name": "edge-prod", "environment": "prod", "region": "eu", "listener_port": 8080}""")));
        assignGroup(base, system, "persona-eu", "edge-prod", "acme");
        Persona acmeAdmin = persona("acme-admins");
        Persona acmeCustomer = persona("acme-customer-admins");
        expect2xx(call(base, Optional.of(token(acmeAdmin)), "PUT", "/upstreams/acme-up", Optional.of("""
                {"name": "acme-up", "protocol": "http1", "endpoints": [{"address": "10.77.77.77", "port": 8080}]}""")));
        expect2xx(call(base, Optional.of(token(acmeAdmin)), "PUT", "/apis/acme-api", Optional.of("""
                {"name": "acme-api", "base_path": "/zq7secret", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}""")));
        expect2xx(call(base, Optional.of(token(acmeAdmin)), "PUT", "/routes/edge-prod/acme-route", Optional.of("""
                {"name": "acme-route", "group": "edge-prod", "api": "acme-api", "version": "v1",
                 "match": {"path_prefix": "/zq7secret"}, "destinations": [{"upstream": "acme-up", "weight": 100}],
                 "authz_profile": "orders", "dlp_profile": "default"}""")));
        JsonNode key = expect2xx(call(base, Optional.of(token(acmeCustomer)), "POST", "/apikeys", Optional.of("""
                {"name": "zq7secret-key", "owner": "zq7secret-owner", "tenant": "acme", "reason": "persona matrix"}""")));
        expect2xx(call(base, Optional.of(token(acmeAdmin)), "POST", "/v1/provider/products", Optional.of("""
                {"id": "acme-product", "tenant": "acme", "name": "zq7secret product"}""")));
        JsonNode plan = expect2xx(call(
                base,
                Optional.of(token(acmeAdmin)),
                "POST",
                "/v1/provider/products/acme-product/plans",
                Optional.of("""
                {"name": "gold", "auth_modes": ["apikey"]}""")));
        JsonNode app = expect2xx(call(
                base,
                Optional.of(token(acmeCustomer)),
                "POST",
                "/v1/customer/applications",
                Optional.of("{\"name\": \"zq7secret app\"}")));
        // each parameter of a tenant route, by the collection it indexes: acme's object there
        Map<String, Map<String, String>> acmeObjects = new LinkedHashMap<>();
        acmeObjects.put("/upstreams/", Map.of("{name}", "acme-up"));
        acmeObjects.put("/apis/", Map.of("{name}", "acme-api"));
        acmeObjects.put("/routes/", Map.of("{group}", "edge-prod", "{name}", "acme-route"));
        acmeObjects.put("/apikeys/", Map.of("{id}", key.path("key_id").asText()));
        acmeObjects.put("/v1/provider/products/", Map.of("{id}", "acme-product"));
        acmeObjects.put("/v1/customer/products/", Map.of("{id}", "acme-product"));
        acmeObjects.put("/v1/provider/plans/", Map.of("{id}", plan.path("id").asText()));
        acmeObjects.put(
                "/v1/customer/applications/", Map.of("{id}", app.path("id").asText()));

        List<String> wrong = new ArrayList<>();
        List<String> objectReads = new ArrayList<>();
        int cases = 0;
        int confined = 0;
        List<String> unconfined = new ArrayList<>();
        for (Surface surface : surfaces) {
            for (AdminRoute r : surface.routes()) {
                if (!r.scope()
                        .apply(List.of(r.path().substring(1).split("/")))
                        .kind()
                        .equals("tenant")) {
                    continue;
                }
                Optional<Map<String, String>> objects = acmeObjects.entrySet().stream()
                        .filter(e -> r.path().startsWith(e.getKey()))
                        .map(Map.Entry::getValue)
                        .findFirst();
                boolean listing = !r.path().contains("{") && r.method().equals("GET");
                if (objects.isEmpty() && !listing) {
                    continue;
                }
                String acmePath = objects.map(o -> substitute(r.path(), o)).orElse(r.path())
                        + LISTING_QUERIES.getOrDefault(r.path(), "");
                String absentPath =
                        objects.map(o -> substitute(r.path(), absent(o))).orElse(r.path());
                Optional<String> body = probeBody(r);
                if (r.method().equals("PUT") && !r.path().startsWith("/v1/")) {
                    // the object as its owner sees it: a write that would succeed were the caller acme's
                    HttpResponse<String> asOwner =
                            call(surface.base(), Optional.of(token(acmeAdmin)), "GET", acmePath, Optional.empty());
                    assertThat(asOwner.statusCode())
                            .as("acme reads %s", acmePath)
                            .isEqualTo(200);
                    body = Optional.of(asOwner.body());
                }
                for (Persona p : personas) {
                    if (p.binding().isEmpty()
                            || !p.binding().get().scope().equals(Scope.tenant("globex"))
                            || !p.permissions().contains(r.permission())) {
                        continue;
                    }
                    HttpResponse<String> answer =
                            call(surface.base(), Optional.of(token(p)), r.method(), acmePath, body);
                    cases++;
                    String what = p.describe() + ": " + r.method() + " " + acmePath;
                    if (ACME_MARKERS.stream().anyMatch(answer.body()::contains)) {
                        wrong.add(what + " answered acme's object: " + abbreviate(answer.body()));
                    }
                    if (listing) {
                        if (answer.statusCode() != 200) {
                            wrong.add(what + " (a listing) answered " + answer.statusCode());
                        }
                        continue;
                    }
                    if (body.isPresent()
                            && r.method().equals("PUT")
                            && !r.path().startsWith("/v1/")) {
                        // acme's own body names acme's object: a missing name would be a create, so no comparison
                        if (!Set.of(403, 404).contains(answer.statusCode())) {
                            wrong.add(what + " answered " + answer.statusCode() + " " + abbreviate(answer.body()));
                        }
                        continue;
                    }
                    // nothing in the answer may tell an acme object from a missing one
                    HttpResponse<String> missing =
                            call(surface.base(), Optional.of(token(p)), r.method(), absentPath, body);
                    boolean sameAsMissing = answer.statusCode() == missing.statusCode()
                            && (answer.statusCode() >= 300 || answer.body().equals(missing.body()));
                    if (!sameAsMissing || !ADMITTED.contains(answer.statusCode()) && answer.statusCode() != 403) {
                        wrong.add(what + " answered " + answer.statusCode() + " " + abbreviate(answer.body())
                                + "; a missing object answers " + missing.statusCode() + " "
                                + abbreviate(missing.body()));
                    }
                    if (answer.statusCode() == 404 || answer.statusCode() == 403) {
                        confined++;
                    } else {
                        unconfined.add(what + " " + answer.statusCode());
                    }
                }
                if (r.method().equals("GET") && objects.isPresent() && r.path().endsWith("}")) {
                    objectReads.add(acmePath);
                }
            }
        }
        // the owner still sees each object, unchanged by the calls above: the 404s were not of missing objects
        for (String path : objectReads) {
            Persona reader = path.startsWith("/apikeys") || path.startsWith("/v1/customer") ? acmeCustomer : acmeAdmin;
            HttpResponse<String> own = call(base, Optional.of(token(reader)), "GET", path, Optional.empty());
            if (own.statusCode() != 200 || ACME_MARKERS.stream().noneMatch(own.body()::contains)) {
                wrong.add("acme's own " + reader.describe() + " GET " + path + " answered " + own.statusCode() + " "
                        + abbreviate(own.body()));
            }
        }
        System.out.printf(
                "cross-tenant: %d calls by globex personas on acme's objects and listings, %d answered"
                        + " 403/404, %d wrong%n",
                cases, confined, wrong.size());
        assertThat(objectReads).as("acme objects read back").hasSizeGreaterThanOrEqualTo(5);
        System.out.println("answered as a missing object is, before any tenant check: " + unconfined);
        assertThat(confined).as("calls the server confined by tenant").isGreaterThan(cases / 3);
        assertThat(wrong).as("cross-tenant answers").isEmpty();
    }

    /**
     * Every permission of the gateway owner's role as the shipped file binds it (gateway:local), used for what it is
     * for, with 2xx answers: two owners of one group, one protects it and publishes, the other approves; the
     * publisher cannot approve its own request, an owner of another group cannot approve it; an owner rolls back to
     * an approved revision and the group's rendering serves it again.
     */
    @Test
    void twoOwnersOfOneGateway_protectPublishApproveAndRollBack_throughTheirGroupsRoutes() throws Exception {
        String base = surfaces.get(0).base();
        Persona system = persona("meshguard-system-admins");
        Persona acmeAdmin = persona("acme-admins");
        Persona owners = persona("local-owners");
        Persona otherOwners = persona("edge-prod-owners");
        String alice = issuer.accessToken("alice", "meshguard-admin", List.of(owners.group()));
        String bob = issuer.accessToken("bob", "meshguard-admin", List.of(owners.group()));
        String group = """
                {"name": "local", "environment": "dev", "region": "eu", "listener_port": 8081}""";
        expect2xx(call(base, Optional.of(token(system)), "PUT", "/groups/local", Optional.of(group)));
        assignGroup(base, system, "persona-journey", "local", "acme");
        expect2xx(call(base, Optional.of(token(acmeAdmin)), "PUT", "/upstreams/journey-up", Optional.of("""
                {"name": "journey-up", "protocol": "http1", "endpoints": [{"address": "10.1.0.9", "port": 8080}]}""")));
        expect2xx(call(base, Optional.of(token(acmeAdmin)), "PUT", "/apis/journey-api", Optional.of("""
                {"name": "journey-api", "base_path": "/journey", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}""")));
        journeyRoute(base, acmeAdmin, "/journey-v1");

        expect2xx(call(base, Optional.of(alice), "GET", "/groups/local", Optional.empty()));
        expect2xx(call(base, Optional.of(alice), "PUT", "/groups/local", Optional.of(group)));
        expect2xx(call(
                base,
                Optional.of(alice),
                "PUT",
                "/groups/local/protection",
                Optional.of("{\"reason\": \"production from now on\"}")));
        long first = approvedRevision(base, alice, bob, token(otherOwners), "first release");
        journeyRoute(base, acmeAdmin, "/journey-v2");
        long second = approvedRevision(base, alice, bob, token(otherOwners), "second release");
        assertThat(first).isPositive();
        assertThat(second).isGreaterThan(first);
        assertThat(call(base, Optional.of(bob), "GET", "/render/local", Optional.empty())
                        .body())
                .contains("/journey-v2");
        JsonNode revisions =
                expect2xx(call(base, Optional.of(bob), "GET", "/groups/local/revisions", Optional.empty()));
        assertThat(revisions.toString()).contains(String.valueOf(first)).contains(String.valueOf(second));
        // back to an approved revision: on-call needs no second person
        expect2xx(call(
                base,
                Optional.of(alice),
                "POST",
                "/groups/local/rollback/" + first,
                Optional.of("{\"reason\": \"on-call: v2 breaks checkout\"}")));
        String rendered = call(base, Optional.of(bob), "GET", "/render/local", Optional.empty())
                .body();
        assertThat(rendered).contains("/journey-v1").doesNotContain("/journey-v2");
    }

    /**
     * What an operator does before a tenant publishes into a gateway group: the tenant exists, and a cluster carries
     * the group with the tenant assigned to it.
     */
    private static void assignGroup(String base, Persona system, String cluster, String group, String tenant)
            throws Exception {
        HttpResponse<String> created = call(
                base,
                Optional.of(token(system)),
                "POST",
                "/v1/operator/tenants",
                Optional.of("{\"id\": \"" + tenant + "\"}"));
        assertThat(created.statusCode()).as(created.body()).isIn(201, 200, 409);
        expect2xx(call(
                base,
                Optional.of(token(system)),
                "PUT",
                "/v1/operator/clusters/" + cluster,
                Optional.of("{\"region\": \"eu\", \"gateway_groups\": {\"" + group + "\": [\"" + tenant + "\"]}}")));
    }

    private static void journeyRoute(String base, Persona author, String prefix) throws Exception {
        expect2xx(
                call(base, Optional.of(token(author)), "PUT", "/routes/local/journey-route", Optional.of("""
                {"name": "journey-route", "group": "local", "api": "journey-api", "version": "v1",
                 "match": {"path_prefix": "%s"}, "destinations": [{"upstream": "journey-up", "weight": 100}],
                 "authz_profile": "orders", "dlp_profile": "default"}""".formatted(
                                prefix))));
    }

    /** {@code publisher} publishes the group (a request: it is protected), {@code approver} approves it. */
    private static long approvedRevision(
            String base, String publisher, String approver, String otherGatewaysOwner, String reason) throws Exception {
        HttpResponse<String> published = call(
                base,
                Optional.of(publisher),
                "POST",
                "/groups/local/publish",
                Optional.of("{\"reason\": \"" + reason + "\"}"));
        assertThat(published.statusCode()).as(published.body()).isEqualTo(202);
        JsonNode request = JSON.readTree(published.body()).path("requests").get(0);
        assertThat(request.path("state").asText()).as(published.body()).isEqualTo("pending");
        String approve = "/publish-requests/local/" + request.path("id").asText() + "/approve";
        Optional<String> why = Optional.of("{\"reason\": \"reviewed\"}");
        assertThat(call(base, Optional.of(publisher), "POST", approve, why).statusCode())
                .as("own request")
                .isEqualTo(403);
        assertThat(call(base, Optional.of(otherGatewaysOwner), "POST", approve, why)
                        .statusCode())
                .as("another gateway's owner")
                .isEqualTo(403);
        expect2xx(call(
                base,
                Optional.of(approver),
                "GET",
                "/publish-requests/local/" + request.path("id").asText(),
                Optional.empty()));
        return expect2xx(call(base, Optional.of(approver), "POST", approve, why))
                .path("id")
                .asLong();
    }

    static Persona persona(String group) {
        return personas.stream()
                .filter(p -> p.group().equals(group))
                .findFirst()
                .orElseThrow();
    }

    static Map<String, String> absent(Map<String, String> objects) {
        Map<String, String> out = new HashMap<>();
        objects.forEach((param, value) -> out.put(param, param.equals("{group}") ? value : ABSENT));
        return out;
    }

    static String substitute(String template, Map<String, String> values) {
        String out = template;
        for (Map.Entry<String, String> e : values.entrySet()) {
            // a path segment: a space is %20 (the server reads '+' in a path as a plus)
            out = out.replace(
                    e.getKey(),
                    URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return out;
    }

    static JsonNode expect2xx(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode())
                .as("%s %s: %s", r.request().method(), r.request().uri(), r.body())
                .isBetween(200, 299);
        return JSON.readTree(r.body().isEmpty() ? "{}" : r.body());
    }

    private static String abbreviate(String body) {
        String oneLine = body.replace('\n', ' ');
        return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "…";
    }
}
