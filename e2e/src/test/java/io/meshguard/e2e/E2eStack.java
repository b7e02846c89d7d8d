package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.audit.AuditWriterStatus;
import io.meshguard.cli.Main;
import io.meshguard.cli.dev.DevSigningKey;
import io.meshguard.cli.dev.DevToken;
import io.meshguard.cli.idp.ProductIdp;
import io.meshguard.devstack.LocalStack;
import io.meshguard.devstack.audit.AuditPart;
import io.meshguard.devstack.dev.DevIssuerStackPart;
import io.meshguard.devstack.part.StackContext;
import io.meshguard.devstack.part.UpPorts;
import io.meshguard.devstack.xds.XdsStackPart;
import io.meshguard.emulator.AdsSubscription;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.emulator.Gateway;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.metrics.ProcessMetrics;
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.PostgresDatabase;
import io.meshguard.testing.SharedRedis;
import io.meshguard.testing.TemporaryDirectories;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The stack exactly as {@code meshguard up} wires it ({@link LocalStack}: audit, dev issuer, extauthz, DLP, xDS
 * controller), every server on a free port, on the test's PostgreSQL and the tests' shared Redis (global rate limits,
 * each stack under a key prefix of its own), loading the product tests' fixture policies (test-support {@code FixturePolicies}, not the working tree's {@code policies/});
 * plus one emulated Envoy gateway subscribed to the controller over ADS. The data directory it is given is its own:
 * deleted when it closes.
 */
final class E2eStack implements AutoCloseable {
    private static final ObjectMapper ADMIN_JSON = new ObjectMapper();
    /** Tests run on a shared 2-core machine: filter deadlines are the emitted ones times this. */
    static final double TIMEOUT_SCALE = 25;

    static final Path POLICIES = io.meshguard.testing.FixturePolicies.directory();

    private final ComponentStack stack;
    private final LocalStack local;
    private final Path dataDir;
    private final PostgresDatabase db;
    private final ProcessMetrics metrics;
    /** Where customers' OAuth2 clients are created, as {@code up --idp keycloak} wires it; empty without. */
    private final Optional<ProductIdp> productIdp;

    private AdsSubscription ads;
    private Gateway gateway;

    private E2eStack(
            ComponentStack stack,
            LocalStack local,
            Path dataDir,
            PostgresDatabase db,
            ProcessMetrics metrics,
            Optional<ProductIdp> productIdp) {
        this.productIdp = productIdp;
        this.stack = stack;
        this.metrics = metrics;
        this.local = local;
        this.dataDir = dataDir;
        this.db = db;
    }

    static E2eStack start(PostgresDatabase db, Path dataDir) throws Exception {
        return start(db, dataDir, Map.of());
    }

    /** As {@link #start(PostgresDatabase, Path)}, with tracing set up from these {@code OTEL_*} variables, as up does. */
    static E2eStack start(PostgresDatabase db, Path dataDir, Map<String, String> otelEnvironment) throws Exception {
        return start(db, dataDir, otelEnvironment, Optional.empty());
    }

    /**
     * As {@code up --idp keycloak} wires the catalogue and the product routes: customers' OAuth2 clients are created in
     * {@code productIdp}'s realm and its tokens are accepted on product routes.
     */
    static E2eStack start(PostgresDatabase db, Path dataDir, ProductIdp productIdp) throws Exception {
        return start(db, dataDir, Map.of(), Optional.of(productIdp));
    }

    /** As {@link #start(PostgresDatabase, Path)} on another policy set (a test's edited copy of the fixture set). */
    static E2eStack start(PostgresDatabase db, Path dataDir, Path policiesDir) throws Exception {
        return start(db, dataDir, Map.of(), Optional.empty(), policiesDir);
    }

    /**
     * As {@link #start(PostgresDatabase, Path)} with {@code hops} load balancers in front of the gateway, each appending
     * its client to {@code x-forwarded-for} (the controller's {@code xds.gateway.xff_num_trusted_hops}).
     */
    static E2eStack startBehindLoadBalancers(PostgresDatabase db, Path dataDir, int hops) throws Exception {
        return start(db, dataDir, Map.of(), Optional.empty(), POLICIES, hops);
    }

    private static E2eStack start(
            PostgresDatabase db, Path dataDir, Map<String, String> otelEnvironment, Optional<ProductIdp> productIdp)
            throws Exception {
        return start(db, dataDir, otelEnvironment, productIdp, POLICIES);
    }

    private static E2eStack start(
            PostgresDatabase db,
            Path dataDir,
            Map<String, String> otelEnvironment,
            Optional<ProductIdp> productIdp,
            Path policiesDir)
            throws Exception {
        return start(db, dataDir, otelEnvironment, productIdp, policiesDir, 0);
    }

    private static E2eStack start(
            PostgresDatabase db,
            Path dataDir,
            Map<String, String> otelEnvironment,
            Optional<ProductIdp> productIdp,
            Path policiesDir,
            int gatewayTrustedHops)
            throws Exception {
        ComponentStack stack = new ComponentStack();
        ProcessMetrics metrics = ProcessMetrics.create();
        try {
            Tracing tracing = Tracing.fromEnvironment(otelEnvironment, "meshguard", metrics.registry());
            stack.start(tracing); // closed (flushed) after every server, as in up
            // every server on a free port (UpPorts.ANY): a well-known port free now may be another run's a moment
            // later; the tests' shared Redis in place of up's own, so the journeys run the global rate limits as up
            // does
            StackContext context = new StackContext(
                    metrics,
                    db.dataSource(),
                    db.dbSettings(),
                    dataDir,
                    policiesDir,
                    UpPorts.ANY,
                    RedisSettings.none()
                            .withUrl(SharedRedis.get().url())
                            .withKeyPrefix(SharedRedis.keyPrefix(E2eStack.class)),
                    tracing);
            if (productIdp.isPresent()) {
                context = context.withProductIdp(productIdp.get());
            }
            context = context.withGatewayTrustedHops(gatewayTrustedHops);
            return new E2eStack(
                    stack, LocalStack.start(stack, context, component -> {}), dataDir, db, metrics, productIdp);
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }
    }

    /**
     * Applies and publishes a gateway configuration the way an operator does ({@code meshguard xds apply --publish}
     * against the admin API), then connects the emulated gateway (once) and waits until it holds the new config.
     */
    Gateway publish(String yaml, String group, int listenerPort) throws Exception {
        Path file = Files.createTempFile(dataDir, "gateway", ".yaml");
        Files.writeString(file, yaml);
        XdsStackPart xds = local.part(XdsStackPart.class);
        int exit = Main.execute(
                "xds",
                "apply",
                file.toString(),
                "--publish",
                "--reason",
                "e2e",
                "--url",
                xds.adminUrl(),
                "--token-file",
                xds.tokenFile().toString());
        if (exit != 0) {
            throw new IllegalStateException("xds apply failed with exit " + exit + " for\n" + yaml);
        }
        if (ads == null) {
            EnvoyNode node = new EnvoyNode("e2e-envoy-1", group, java.util.Map.of());
            ads = AdsSubscription.connect("127.0.0.1", xds.adsPort(), node);
            gateway = new Gateway(ads, node, listenerPort, 20261122L, TIMEOUT_SCALE);
        }
        ads.await(
                r -> AdsSubscription.isComplete(r)
                        && r.listeners().values().stream()
                                .anyMatch(l -> l.getAddress().getSocketAddress().getPortValue() == listenerPort),
                Duration.ofSeconds(30));
        return gateway;
    }

    AdsSubscription ads() {
        return ads;
    }

    /** A token from the dev issuer {@code up} runs (the one its extauthz trusts). */
    String token(String subject, String tenant, List<String> roles) throws Exception {
        return token(subject, tenant, roles, List.of());
    }

    String token(String subject, String tenant, List<String> roles, List<String> scopes) throws Exception {
        DevSigningKey key =
                DevSigningKey.load(local.part(DevIssuerStackPart.class).issuerFiles());
        return key.sign(new DevToken(subject, tenant, roles, scopes, List.of("meshguard"), Duration.ofMinutes(10))
                .claims(Instant.now()));
    }

    /** Where {@code meshguard demo} finds this stack (what it reads from up.json for a real up). */
    io.meshguard.devstack.demo.DemoCommand.Target demoTarget() {
        XdsStackPart xds = local.part(XdsStackPart.class);
        return new io.meshguard.devstack.demo.DemoCommand.Target(
                "127.0.0.1",
                xds.adsPort(),
                xds.adminUrl(),
                xds.tokenFile(),
                dataDir,
                db.dataSource()::getConnection,
                productIdp.map(idp -> io.meshguard.devstack.demo.CustomerTokens.ofIssuer(idp.issuer())));
    }

    /**
     * Starts the combined status listener {@code up} runs ({@code --status-port}: /metrics of the process's one
     * registry) on a free port, closed with the stack; returns its port.
     */
    int startStatusListener() throws Exception {
        StatusHttpServer status =
                new StatusHttpServer("e2e-status", new HttpServerSettings("127.0.0.1", 0), metrics.registry());
        stack.start(status);
        return status.port();
    }

    /** host:port of extauthz's Check listener and of the DLP server's, for {@code meshguard authz|dlp send}. */
    String extauthzTarget() {
        return "127.0.0.1:"
                + local.part(io.meshguard.devstack.authz.ExtAuthzStackPart.class)
                        .grpcPort();
    }

    /** The audit access-log receiver's port (where proxies send their access log, as {@code up} serves it). */
    int accessLogPort() {
        return local.part(AuditPart.class).ports().get(io.meshguard.cli.common.RunningStack.ACCESS_LOG);
    }

    String dlpTarget() {
        return "127.0.0.1:"
                + local.part(io.meshguard.devstack.dlp.DlpStackPart.class).grpcPort();
    }

    int adsPort() {
        return local.part(XdsStackPart.class).adsPort();
    }

    /** The admin token {@code up} writes (its holder is system-admin on the local admin port). */
    String adminToken() throws java.io.IOException {
        String line = Files.readAllLines(local.part(XdsStackPart.class).tokenFile()).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .findFirst()
                .orElseThrow();
        return line.substring(line.indexOf(':') + 1); // "name:token" or the token alone (BearerTokens)
    }

    /** A call to the admin API as {@code up}'s admin token holder; anything but 200-202 fails the test. */
    JsonNode admin(String method, String path, String body) throws Exception {
        return adminAs(adminToken(), method, path, body);
    }

    /** A call to the admin API with {@code token}; anything but 200-202 fails the test, naming the answer. */
    JsonNode adminAs(String token, String method, String path, String body) throws Exception {
        HttpResponse<String> r = AdminHttp.send(URI.create(xdsAdminUrl() + path), token, method, body);
        assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 202);
        return ADMIN_JSON.readTree(r.body());
    }

    /** A key of {@code tenant}, created through the admin API as {@code meshguard apikey create} does. */
    String apiKey(String tenant, String reason) throws Exception {
        return admin("POST", "/apikeys", """
                {"name": "%1$s-web", "owner": "%1$s", "tenant": "%1$s", "tier": "free", "reason": "%2$s"}""".formatted(tenant, reason))
                .path("key")
                .asText();
    }

    /** The admin token file {@code up} writes. */
    Path adminTokenFile() {
        return local.part(XdsStackPart.class).tokenFile();
    }

    /** Base URL of the xDS controller's admin listener (which also serves /metrics). */
    String xdsAdminUrl() {
        return local.part(XdsStackPart.class).adminUrl();
    }

    DataSource database() {
        return db.dataSource();
    }

    /** The audit writer's state now (database reachable, spool in use, events queued). */
    AuditWriterStatus auditStatus() {
        return local.part(AuditPart.class).component().writer().status();
    }

    /** The process's one registry, which every server of the stack registers into. */
    ProcessMetrics metrics() {
        return metrics;
    }

    /** The process's {@code /metrics} text, as {@code up}'s status port serves it. */
    String scrapeMetrics() {
        return metrics.scrape();
    }

    /** A JDBC URL with credentials, for commands run with {@code --db}. */
    String jdbcUrlWithCredentials() {
        String sep = db.jdbcUrl().contains("?") ? "&" : "?";
        return db.jdbcUrl() + sep + "user=" + db.user() + "&password=" + db.password();
    }

    @Override
    public void close() {
        if (gateway != null) {
            gateway.close();
        }
        if (ads != null) {
            ads.close();
        }
        stack.close();
        // the servers are stopped: nothing writes under it any more (spool, keys, policies)
        TemporaryDirectories.deleteQuietly(dataDir);
    }
}
