package io.meshguard.devstack.demo;

import io.meshguard.cli.common.RunningStack;
import io.meshguard.cli.dev.DevIssuerFiles;
import io.meshguard.cli.dev.DevSigningKey;
import io.meshguard.cli.dev.DevToken;
import io.meshguard.cli.idp.UpIdp;
import io.meshguard.cli.xds.AdminClient;
import io.meshguard.emulator.AdsSubscription;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.emulator.UpstreamServer;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshguard demo}: plays the product's journeys against a running {@code meshguard up} through an emulated
 * Envoy gateway (the e2e module's Envoy emulator, fed over ADS with the config the controller publishes) and prints
 * each one the way an operator reads it: the route chosen, the decision and why, what the upstream received, what the
 * client received, the audit rows. It publishes its own gateway group {@code demo} next to yours (the journeys need
 * their upstreams, which it starts on free loopback ports).
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "Play requests through an emulated Envoy gateway against the running `meshguard up` and show "
                + "what each part of meshguard did.")
public final class DemoCommand implements Callable<Integer> {
    /** The gateway group the demo publishes and the emulated node joins. */
    static final String GROUP = "demo";

    @Option(
            names = "--data-dir",
            defaultValue = ".meshguard",
            description = "Data directory of the running up (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(
            names = "--zones",
            defaultValue = "0",
            description = "Play the zones journey instead: this many"
                    + " clusters (at least 2) registered against up, a zone controller for each on loopback with emulated"
                    + " Envoy nodes; a publish to one cluster, central stopped and restarted, a revocation.")
    int zones;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        Optional<RunningStack> running = RunningStack.find(dataDir);
        if (running.isEmpty()) {
            System.err.println("meshguard demo: " + RunningStack.notRunning(dataDir));
            return 1;
        }
        RunningStack up = running.get();
        String password = up.dbPassword();
        if (zones > 0) {
            if (zones < 2) {
                System.err.println("meshguard demo: --zones needs at least 2");
                return 2;
            }
            try (com.zaxxer.hikari.HikariDataSource db = io.meshguard.db.DataSourceFactory.create(
                    io.meshguard.db.DbSettings.of(up.jdbcUrl(), up.dbUser(), password))) {
                return playZones(new AdminClient(up.xdsAdminUrl(), up.xdsAdminTokenFile()), db, zones, out);
            }
        }
        // up --idp keycloak: its one realm is also where the catalogue creates customers' clients (LocalIdp.productIdp)
        UpIdp idp = up.state().idp();
        Optional<CustomerTokens> customers =
                idp.kind().equals("keycloak") && !idp.issuer().isEmpty()
                        ? Optional.of(CustomerTokens.ofIssuer(idp.issuer()))
                        : Optional.empty();
        Target target = new Target(
                "127.0.0.1",
                up.port(RunningStack.ADS),
                up.xdsAdminUrl(),
                up.xdsAdminTokenFile(),
                up.dataDir(),
                () -> DriverManager.getConnection(up.jdbcUrl(), up.dbUser(), password),
                customers);
        return play(target, out);
    }

    /**
     * Where the demo finds the running stack.
     *
     * @param dataDir the stack's data directory (the development issuer's key is under it)
     * @param customers where customers' OAuth2 clients get tokens ({@code up --idp keycloak}); empty without an IdP
     */
    public record Target(
            String adsHost,
            int adsPort,
            String adminUrl,
            Path adminTokenFile,
            Path dataDir,
            AuditTrail.Database audit,
            Optional<CustomerTokens> customers) {}

    /** Publishes the demo group, plays every journey through the emulated gateway and prints it; the exit code. */
    public static int play(Target target, PrintStream out) throws Exception {
        try (DemoGateway.Upstreams upstreams = DemoGateway.Upstreams.start()) {
            String published = publish(new AdminClient(target.adminUrl(), target.adminTokenFile()), upstreams);
            if (published != null) {
                System.err.println("meshguard demo: " + published);
                return 1;
            }
            EnvoyNode node = new EnvoyNode("meshguard-demo", GROUP, Map.of());
            try (AdsSubscription subscription = AdsSubscription.connect(target.adsHost(), target.adsPort(), node);
                    Gateway gateway =
                            new Gateway(subscription, node, DemoGateway.LISTENER_PORT, System.nanoTime(), 1)) {
                subscription.await(
                        r -> AdsSubscription.isComplete(r)
                                && r.listeners().values().stream()
                                        .anyMatch(l -> l.getAddress()
                                                        .getSocketAddress()
                                                        .getPortValue()
                                                == DemoGateway.LISTENER_PORT),
                        Duration.ofSeconds(30));
                out.println(
                        "meshguard demo — an EMULATION of an Envoy gateway, built from Envoy's documented behaviour,");
                out.println("playing the config the xDS controller published for gateway group '" + GROUP
                        + "' (ADS " + target.adsHost() + ":" + target.adsPort()
                        + ") against the running extauthz, DLP and audit.");
                if (!subscription.problems().isEmpty()) {
                    out.println("The emulator does not model this config, so it cannot play it: "
                            + subscription.problems());
                    return 1;
                }
                Journeys journeys = new Journeys(
                        out,
                        gateway,
                        upstreams,
                        DevSigningKey.load(DevIssuerFiles.under(target.dataDir())),
                        target.audit());
                journeys.playAll();
                new ProductsDemo(
                                new AdminClient(target.adminUrl(), target.adminTokenFile()),
                                gateway,
                                out,
                                GROUP,
                                target.customers())
                        .play();
                journeys.agent();
            }
        }
        return 0;
    }

    /**
     * The zones journey ({@link ZonesDemo}); the exit code.
     *
     * @param database {@code up}'s database: the demo's zone hub is a central replica on it
     */
    public static int playZones(AdminClient admin, javax.sql.DataSource database, int zones, PrintStream out)
            throws Exception {
        return new ZonesDemo(admin, database, out, zones).play().passed() ? 0 : 1;
    }

    /** Adds (or replaces) the demo's group, upstreams, APIs and routes in the draft and publishes; null when done. */
    private static String publish(AdminClient admin, DemoGateway.Upstreams upstreams) throws Exception {
        HttpResponse<String> current = admin.send("GET", "/config", null);
        if (current.statusCode() != 200) {
            return "reading the controller's config failed (" + current.statusCode() + "): " + current.body();
        }
        GatewayConfig mine = GatewayYaml.read("meshguard demo", DemoGateway.yaml(GROUP, upstreams));
        GatewayConfig theirs = ConfigJson.readConfig(current.body());
        GatewayConfig merged;
        try {
            merged = DemoDraft.merge(theirs, mine, GROUP);
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        HttpResponse<String> put = admin.send("PUT", "/config", ConfigJson.write(merged));
        if (put.statusCode() != 200) {
            return "the controller refused the demo's gateway config (" + put.statusCode() + "): " + put.body();
        }
        HttpResponse<String> publish = admin.send(
                "POST",
                "/publish",
                ConfigJson.mapper()
                        .createObjectNode()
                        .put("reason", "meshguard demo")
                        .toString());
        return publish.statusCode() == 200
                ? null
                : "publishing failed (" + publish.statusCode() + "): " + publish.body();
    }

    /** The journeys and how each is shown. */
    private record Journeys(
            PrintStream out,
            Gateway gateway,
            DemoGateway.Upstreams upstreams,
            DevSigningKey key,
            AuditTrail.Database db) {

        void playAll() throws Exception {
            String alice = token("alice", "t-demo", List.of("demo"), List.of());
            show(
                    "1. An allowed JSON call: the upstream sees who called, never the credential",
                    DownstreamRequest.get(
                            DemoGateway.HOST,
                            "/demo/v2/accounts/7",
                            "authorization",
                            "Bearer " + alice,
                            "x-tenant-id",
                            "t-demo"),
                    upstreams.accounts());
            show(
                    "2. No token: extauthz denies before any upstream",
                    DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts/7", "x-tenant-id", "t-demo"),
                    upstreams.accounts());
            show(
                    "3. A token without the route's role",
                    DownstreamRequest.get(
                            DemoGateway.HOST,
                            "/demo/v2/accounts/7",
                            "authorization",
                            "Bearer " + token("bob", "t-demo", List.of("viewer"), List.of()),
                            "x-tenant-id",
                            "t-demo"),
                    upstreams.accounts());
            show(
                    "4. A deprecated API version: answered, with Deprecation, Sunset and the successor Link",
                    DownstreamRequest.get(
                            DemoGateway.HOST,
                            "/demo/v1/accounts",
                            "authorization",
                            "Bearer " + alice,
                            "x-tenant-id",
                            "t-demo"),
                    upstreams.accounts());
            show(
                    "5. A sunset API version: 410 from the gateway itself",
                    DownstreamRequest.get(DemoGateway.HOST, "/demo/v0/accounts"),
                    upstreams.accounts());
            show(
                    "6. An LLM answer streamed as server-sent events, a card number split across three events",
                    DownstreamRequest.withBody(
                            "POST",
                            DemoGateway.HOST,
                            "/demo/chat/completions",
                            "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"my card?\"}]}",
                            "authorization",
                            "Bearer " + alice,
                            "x-tenant-id",
                            "t-demo",
                            "content-type",
                            "application/json"),
                    upstreams.llm());
            show(
                    "7. A request carrying a private key: blocked before the upstream gets a byte of it",
                    DownstreamRequest.withBody(
                            "POST",
                            DemoGateway.HOST,
                            "/demo/v2/accounts/import",
                            "{\"key\":\"" + DemoGateway.PRIVATE_KEY.replace("\n", "\\n") + "\"}",
                            "authorization",
                            "Bearer " + alice,
                            "x-tenant-id",
                            "t-demo",
                            "content-type",
                            "application/json"),
                    upstreams.accounts());
            show(
                    "8. The gateway route names the bank policy's rule accounts-read and the DLP profile llm",
                    DownstreamRequest.get(
                            DemoGateway.BANK_HOST,
                            "/v1/accounts/9",
                            "authorization",
                            "Bearer " + token("dave", "t-demo", List.of("customer"), List.of("accounts:read")),
                            "x-tenant-id",
                            "t-demo"),
                    upstreams.ledger());
            show(
                    "9. A browser's CORS preflight: answered by the gateway, no credential needed, no Check",
                    DownstreamRequest.get(
                                    DemoGateway.HOST,
                                    "/demo/v2/accounts",
                                    "origin",
                                    DemoGateway.ALLOWED_ORIGIN,
                                    "access-control-request-method",
                                    "GET")
                            .withMethod("OPTIONS"),
                    upstreams.accounts());
            canary();
        }

        private String token(String sub, String tenant, List<String> roles, List<String> scopes) {
            return token(sub, tenant, roles, scopes, List.of("meshguard"));
        }

        private String token(
                String sub, String tenant, List<String> roles, List<String> scopes, List<String> audiences) {
            return key.sign(
                    new DevToken(sub, tenant, roles, scopes, audiences, Duration.ofMinutes(10)).claims(Instant.now()));
        }

        /**
         * An agent's MCP tool calls (docs/agents.md): decided on the {@code Mcp-*} headers by the shipped rule
         * {@code mcp-tools}, the JSON-RPC body held to them by the DLP server, the tool's result scanned. The agent's
         * token names the MCP server as audience (RFC 8707) and its tenant, so it sends no {@code x-tenant-id}.
         */
        void agent() throws Exception {
            String agent = token(
                    "agent-7", "t-demo", List.of("agent"), List.of(), List.of("meshguard", "https://mcp.local/mcp"));
            show(
                    "13. An agent's MCP tool call: allowed on its headers, the card in the tool's result masked",
                    toolCall(agent, "get_balance", "get_balance"),
                    upstreams.mcp());
            show(
                    "14. A tool the agent's role may not call: refused on its headers, the MCP server sees nothing",
                    toolCall(agent, "transfer_funds", "transfer_funds"),
                    upstreams.mcp());
            show(
                    "15. Headers naming one tool, a body running another: 400 and JSON-RPC -32020, no byte of it upstream",
                    toolCall(agent, "get_balance", "transfer_funds"),
                    upstreams.mcp());
        }

        private static DownstreamRequest toolCall(String token, String headerTool, String bodyTool) {
            return DownstreamRequest.withBody(
                    "POST",
                    DemoGateway.MCP_HOST,
                    "/mcp",
                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\""
                            + bodyTool + "\",\"arguments\":{\"account\":\"CH93-0000\"},\"_meta\":"
                            + "{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}",
                    "authorization",
                    "Bearer " + token,
                    "content-type",
                    "application/json",
                    "accept",
                    "application/json, text/event-stream",
                    "mcp-protocol-version",
                    "2026-07-28",
                    "mcp-method",
                    "tools/call",
                    "mcp-name",
                    headerTool);
        }

        private void show(String title, DownstreamRequest request, UpstreamServer upstream) throws Exception {
            upstream.clear();
            out.println();
            out.println("== " + title);
            Exchange e = gateway.send(request);
            out.println("  client sends     " + request.method() + " http://" + request.authority() + request.path()
                    + (request.headers().has("authorization") ? "  (with a bearer token)" : ""));
            for (String step : e.steps()) {
                out.println("  gateway          " + step.strip());
            }
            List<UpstreamServer.Received> seen = upstream.received();
            for (int i = 0; i < 20 && seen.isEmpty() && e.upstreamReached(); i++) {
                Thread.sleep(50); // the upstream records a reset request once its handler sees the reset
                seen = upstream.received();
            }
            if (seen.isEmpty()) {
                out.println("  upstream saw     nothing");
            } else {
                UpstreamServer.Received r = seen.getLast();
                out.println("  upstream saw     " + r.method() + " " + r.path() + "  x-user-id="
                        + r.headers().first("x-user-id").orElse("-")
                        + " x-tenant-id=" + r.headers().first("x-tenant-id").orElse("-") + " authorization="
                        + (r.headers().has("authorization") ? "PRESENT" : "(stripped)") + "  body " + r.body().length
                        + " bytes" + (r.complete() ? "" : " (connection reset)"));
            }
            out.println("  client received  " + e.status() + interesting(e) + "  " + abbreviate(e.body()));
            AuditTrail trail = awaitAudit(e.requestId());
            out.println("  audit rows       request id " + e.requestId()
                    + (trail.rows().isEmpty() ? ": none yet" : ""));
            for (AuditTrail.Row row : trail.rows()) {
                out.println("                     " + row.summary());
            }
        }

        private void canary() throws Exception {
            out.println();
            out.println("== 10. A 90/10 canary: 200 requests of tenant acme-corp (enterprise tier)");
            Map<String, Integer> clusters = new java.util.TreeMap<>();
            Map<Integer, Integer> statuses = new java.util.TreeMap<>();
            String acme = token("carol", "acme-corp", List.of("demo"), List.of());
            for (int i = 0; i < 200; i++) {
                Exchange e = gateway.send(DownstreamRequest.get(
                        DemoGateway.HOST,
                        "/demo/quotes",
                        "authorization",
                        "Bearer " + acme,
                        "x-tenant-id",
                        "acme-corp"));
                clusters.merge(e.cluster().isEmpty() ? "(none)" : e.cluster(), 1, Integer::sum);
                statuses.merge(e.status(), 1, Integer::sum);
            }
            out.println("  clusters picked  " + clusters);
            out.println("  client received  " + statuses);
        }

        private AuditTrail awaitAudit(String requestId) throws Exception {
            AuditTrail trail = AuditTrail.of(db, requestId);
            for (int i = 0; i < 20 && trail.rows().size() < 2; i++) {
                Thread.sleep(100); // the audit writer batches; give it a moment
                trail = AuditTrail.of(db, requestId);
            }
            return trail;
        }

        private static String interesting(Exchange e) {
            StringBuilder b = new StringBuilder();
            for (String h : List.of(
                    "content-type",
                    "www-authenticate",
                    "deprecation",
                    "sunset",
                    "link",
                    "access-control-allow-origin")) {
                e.header(h).ifPresent(v -> b.append("  ").append(h).append(": ").append(v));
            }
            return b.toString();
        }

        private static String abbreviate(String body) {
            String one = body.replace("\n", "\\n");
            return one.length() <= 300 ? one : one.substring(0, 300) + "…";
        }
    }
}
