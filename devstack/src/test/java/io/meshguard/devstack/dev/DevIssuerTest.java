package io.meshguard.devstack.dev;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jwt.JWTClaimsSet;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.cli.CliRun;
import io.meshguard.cli.dev.DevIssuer;
import io.meshguard.cli.dev.DevIssuerFiles;
import io.meshguard.cli.dev.DevJwksServer;
import io.meshguard.cli.dev.DevPolicyWriter;
import io.meshguard.cli.dev.DevSigningKey;
import io.meshguard.cli.dev.DevToken;
import io.meshguard.devstack.DevCliRun;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.IntegrationTest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local development issuer wired as {@code up} wires it (key in a data directory, JWKS over HTTP on loopback,
 * the generated dev policy loaded by a real extauthz server), driven with tokens printed by
 * {@code meshguard dev token} and Envoy-shaped Check calls over gRPC.
 */
@IntegrationTest
class DevIssuerTest {
    private static final Path BASE_POLICY = io.meshguard.testing.FixturePolicies.file("authz.yaml");

    @TempDir
    static Path dataDir;

    static DevIssuerFiles files;
    static DevJwksServer jwks;
    static DevPolicyWriter writer;
    static ExtAuthzServer devServer;
    static ExtAuthzServer shippedServer;
    static final List<ManagedChannel> channels = new ArrayList<>();
    static final java.util.Queue<AuthzDecisionEvent> decisions = new java.util.concurrent.ConcurrentLinkedQueue<>();
    static final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @BeforeAll
    static void startLikeUp() throws Exception {
        files = DevIssuerFiles.under(dataDir);
        DevSigningKey key = DevSigningKey.createOrLoad(files);
        jwks = new DevJwksServer("127.0.0.1", 0, key.publicJwks());
        jwks.start();
        writer = new DevPolicyWriter(
                BASE_POLICY,
                files.policy(),
                () -> DevIssuer.jwksUri(jwks.port()),
                Optional.empty(),
                Duration.ofHours(1),
                meters);
        writer.start();
        devServer = extauthz(files.policy());
        // The same server on the shipped policy: what a cluster runs.
        shippedServer = extauthz(BASE_POLICY);
    }

    private static ExtAuthzServer extauthz(Path policy) throws Exception {
        ExtAuthzConfig config = ExtAuthzConfig.onLoopback(policy, Duration.ofMillis(200));
        ExtAuthzServer server = new ExtAuthzServer(
                config, new SimpleMeterRegistry(), Optional.empty(), decisions::add, Clock.systemUTC());
        server.start();
        return server;
    }

    @AfterAll
    static void stop() {
        channels.forEach(ManagedChannel::shutdownNow);
        for (AutoCloseableQuietly c :
                List.<AutoCloseableQuietly>of(devServer::close, shippedServer::close, writer::close, jwks::close)) {
            c.close();
        }
    }

    private interface AutoCloseableQuietly {
        void close();
    }

    private static CheckResponse check(ExtAuthzServer server, String host, String path, Map<String, String> headers) {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                .usePlaintext()
                .build();
        channels.add(channel);
        Map<String, List<String>> h = new LinkedHashMap<>();
        headers.forEach((k, v) -> h.put(k, List.of(v)));
        CheckRequest request = CheckRequests.of("GET", host, path, h, Map.of(), CheckRequests.Encoding.HEADERS);
        return AuthorizationGrpc.newBlockingStub(channel)
                .withDeadlineAfter(Duration.ofSeconds(30))
                .check(request);
    }

    private static CheckResponse demo(ExtAuthzServer server, Map<String, String> headers) {
        return check(server, DevIssuer.DEMO_HOST, "/demo/v1/chat", headers);
    }

    private static int httpStatus(CheckResponse r) {
        return r.hasDeniedResponse() ? r.getDeniedResponse().getStatus().getCodeValue() : 200;
    }

    private static String devToken(String... extra) {
        List<String> args = new ArrayList<>(List.of("dev", "token", "--data-dir", dataDir.toString()));
        args.addAll(List.of(extra));
        CliRun run = DevCliRun.of(args.toArray(String[]::new));
        assertThat(run.exit()).as(run.err()).isZero();
        return run.out().trim();
    }

    private static Map<String, String> bearer(String token, String tenant) {
        return Map.of("authorization", "Bearer " + token, "x-tenant-id", tenant);
    }

    @Test
    void devToken_forTheDemoRoute_isAllowed_withIdentityFromTheToken() {
        String token = devToken("--sub", "alice", "--tenant", "t1", "--roles", "demo,analyst", "--scopes", "chat:read");

        CheckResponse r = await().atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(() -> demo(devServer, bearer(token, "t1")), x -> x.hasOkResponse());

        Map<String, String> set = r.getOkResponse().getHeadersList().stream()
                .collect(Collectors.toMap(
                        h -> h.getHeader().getKey(), h -> h.getHeader().getValue()));
        assertThat(set)
                .containsEntry("x-user-id", "alice")
                .containsEntry("x-tenant-id", "t1")
                .containsEntry("x-user-scopes", "chat:read");
        assertThat(set.get("x-user-roles")).contains("demo").contains("analyst");
        assertThat(r.getOkResponse().getHeadersToRemoveList()).contains("authorization");
        assertThat(r.getOkResponse().getHeadersList())
                .filteredOn(h -> h.getHeader().getKey().equals("x-user-id"))
                .extracting(HeaderValueOption::getAppendAction)
                .containsExactly(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
    }

    @Test
    void devToken_withAnotherTenantInTheHeader_isDenied403() {
        String token = devToken("--tenant", "t1");
        awaitDevPolicyServing();
        assertThat(httpStatus(demo(devServer, bearer(token, "t2")))).isEqualTo(403);
    }

    @Test
    void noToken_isDenied401() {
        awaitDevPolicyServing();
        assertThat(httpStatus(demo(devServer, Map.of("x-tenant-id", "t1")))).isEqualTo(401);
    }

    @Test
    void expiredDevToken_isDenied401() throws Exception {
        awaitDevPolicyServing();
        Instant hourAgo = Instant.now().minus(Duration.ofHours(1));
        JWTClaimsSet claims = new DevToken(
                        "alice", "t1", List.of("demo"), List.of(), List.of("meshguard"), Duration.ofMinutes(15))
                .claims(hourAgo);
        String expired = DevSigningKey.load(files).sign(claims);
        CheckResponse r = demo(
                devServer,
                Map.of("authorization", "Bearer " + expired, "x-tenant-id", "t1", "x-request-id", "expired-dev-token"));
        assertThat(httpStatus(r)).isEqualTo(401);
        assertThat(r.getDeniedResponse().getBody()).contains("token_expired");
        String requestId = "expired-dev-token";
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(decisions)
                .filteredOn(d -> d.requestId().equals(requestId))
                .singleElement()
                .satisfies(d -> assertThat(d.reason()).isEqualTo("token_expired")));
    }

    @Test
    void devTokenWithoutTheDemoRole_isDenied403() {
        String token = devToken("--tenant", "t1", "--roles", "analyst");
        awaitDevPolicyServing();
        assertThat(httpStatus(demo(devServer, bearer(token, "t1")))).isEqualTo(403);
    }

    @Test
    void tokenSignedByAnotherDataDirsKey_isDenied401(@TempDir Path otherDir) throws Exception {
        awaitDevPolicyServing();
        String foreign = DevSigningKey.createOrLoad(DevIssuerFiles.under(otherDir))
                .sign(new DevToken(
                                "mallory",
                                "t1",
                                List.of("demo"),
                                List.of(),
                                List.of("meshguard"),
                                Duration.ofMinutes(5))
                        .claims(Instant.now()));
        assertThat(httpStatus(demo(devServer, bearer(foreign, "t1")))).isEqualTo(401);
    }

    @Test
    void shippedPolicy_doesNotTrustTheDevIssuer() throws Exception {
        String token = devToken("--tenant", "t1");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> shippedServer.watcher().current().isPresent());
        assertThat(shippedServer.watcher().current().orElseThrow().value().issuerNamed(DevIssuer.NAME))
                .isEmpty();
        assertThat(Files.readString(BASE_POLICY))
                .doesNotContain(DevIssuer.ISSUER)
                .doesNotContain(DevIssuer.NAME);
        CheckResponse r = demo(shippedServer, bearer(token, "t1"));
        assertThat(r.hasOkResponse()).isFalse();
    }

    @Test
    void devPolicyDirectory_isACompletePolicySet_andTheDemoConfigPassesItWithoutWarnings() throws Exception {
        Path dir = files.policy().getParent();
        Path demo = dataDir.resolve("demo-gateway.yaml");
        try (io.meshguard.devstack.demo.DemoGateway.Upstreams upstreams =
                io.meshguard.devstack.demo.DemoGateway.Upstreams.start()) {
            java.nio.file.Files.writeString(demo, io.meshguard.devstack.demo.DemoGateway.yaml("demo", upstreams));
        }
        io.meshguard.cli.CliRun r = io.meshguard.devstack.DevCliRun.of(
                "xds", "apply", "--dry-run", "--policies", dir.toString(), demo.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).doesNotContain(" error ").doesNotContain(" warning ");
        assertThat(io.meshguard.devstack.DevCliRun.of("policy", "check", dir.toString())
                        .exit())
                .isZero();
    }

    @Test
    void devPolicy_isTheBasePlusIssuerAndTheDemoAndProductsRoutesLast() throws Exception {
        var dev = devServer.watcher().current().orElseThrow().value();
        var base = shippedServer.watcher().current().orElseThrow().value();
        assertThat(dev.issuers()).hasSize(base.issuers().size() + 1);
        assertThat(dev.issuerNamed(DevIssuer.NAME).orElseThrow().jwksUri()).contains(DevIssuer.jwksUri(jwks.port()));
        assertThat(dev.routes().subList(base.routes().size(), dev.routes().size()))
                .extracting(r -> r.name())
                .containsExactly(DevIssuer.DEMO_ROUTE, DevIssuer.PRODUCTS_ROUTE);
        assertThat(dev.routes().subList(0, base.routes().size()))
                .extracting(r -> r.name())
                .containsExactlyElementsOf(
                        base.routes().stream().map(r -> r.name()).toList());
    }

    @Test
    void jwksServer_servesThePublicKeyOnly() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(DevIssuer.jwksUri(jwks.port())).build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).contains("application/json");
        assertThat(r.body())
                .contains("\"kid\":\"" + DevSigningKey.load(files).keyId() + "\"")
                .contains("\"crv\":\"P-256\"")
                .doesNotContain("\"d\"");
        assertThat(Files.readString(files.publicJwks())).doesNotContain("\"d\"");
        HttpResponse<String> other = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + jwks.port() + "/signing-key.jwk"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(other.statusCode()).isEqualTo(404);
    }

    @Test
    void signingKey_isPrivateToTheUser_andReusedAcrossStarts() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.signingKey())))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.dir())))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.publicJwks())))
                .isEqualTo("rw-r--r--");
        String kid = DevSigningKey.load(files).keyId();
        assertThat(DevSigningKey.createOrLoad(files).keyId()).isEqualTo(kid);
    }

    @Test
    void devToken_beforeUpEverRan_failsWithOneLine(@TempDir Path empty) {
        CliRun run = DevCliRun.of("dev", "token", "--data-dir", empty.toString());
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().strip())
                .doesNotContain("\n")
                .startsWith("meshguard dev token: no development issuer key at")
                .contains("run ./meshguard up");
    }

    @Test
    void devToken_withTooLongTtlOrEmptyTenant_isRefusedWithoutAToken() {
        CliRun ttl = DevCliRun.of("dev", "token", "--data-dir", dataDir.toString(), "--ttl", "7d");
        assertThat(ttl.exit()).isEqualTo(2);
        assertThat(ttl.out()).isEmpty();
        assertThat(ttl.err()).contains("--ttl must be between 1s and 24h");
        CliRun bad = DevCliRun.of("dev", "token", "--data-dir", dataDir.toString(), "--ttl", "soon");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--ttl");
        CliRun tenant = DevCliRun.of("dev", "token", "--data-dir", dataDir.toString(), "--tenant", " ");
        assertThat(tenant.exit()).isEqualTo(2);
        assertThat(tenant.err()).contains("--tenant must not be empty");
    }

    @Test
    void signingKeyReadableByOthers_isRefused(@TempDir Path other) throws Exception {
        DevIssuerFiles loose = DevIssuerFiles.under(other);
        DevSigningKey.createOrLoad(loose);
        Files.setPosixFilePermissions(loose.signingKey(), PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> DevSigningKey.load(loose)).hasMessageContaining("chmod 600");
    }

    @Test
    void baseEdits_invalidKeepsTheLastDevPolicy_showsInReadinessAndTheReloadMetric_validOneIsWrittenThrough(
            @TempDir Path dir) throws Exception {
        Path base = dir.resolve("authz.yaml");
        Files.copy(BASE_POLICY, base);
        Path target = dir.resolve("dev").resolve("authz.yaml");
        Files.createDirectories(target.getParent());
        SimpleMeterRegistry own = new SimpleMeterRegistry();
        DevPolicyWriter w = new DevPolicyWriter(
                base, target, () -> DevIssuer.jwksUri(9180), Optional.empty(), Duration.ofHours(1), own);
        w.start();
        try {
            String good = Files.readString(target);
            io.meshguard.runtime.lifecycle.ReadinessCheck readiness =
                    w.readinessChecks().get(0);
            assertThat(readiness.check().detail()).doesNotContain("refused");
            Files.writeString(base, Files.readString(BASE_POLICY).replace("routes:", "routez:"));
            assertThatThrownBy(w::refreshNow).hasMessageContaining(base + ":");
            assertThat(Files.readString(target)).isEqualTo(good);
            // Seen where an operator looks, not only in a log line: /readyz detail (still ready) and the metric.
            assertThat(readiness.name()).isEqualTo("policy:authz-source");
            assertThat(readiness.check().ready()).isTrue();
            assertThat(readiness.check().detail())
                    .contains("last edit of " + base + " refused")
                    .contains("keeps serving")
                    .contains("routez");
            assertThat(own.get("meshguard.policy.reload")
                            .tags("policy", "authz", "result", "invalid")
                            .counter()
                            .count())
                    .isEqualTo(1.0);

            Files.writeString(base, Files.readString(BASE_POLICY).replace("name: login", "name: sign-in"));
            assertThat(w.refreshNow()).isTrue();
            assertThat(readiness.check().detail()).doesNotContain("refused");
            assertThat(Files.readString(target))
                    .contains("name: sign-in")
                    .contains(DevIssuer.ISSUER)
                    .startsWith("# GENERATED for local development only");
        } finally {
            w.close();
        }
    }

    @Test
    void devPolicyWriter_withoutABasePolicy_saysWhereItLooked(@TempDir Path dir) {
        Path missing = dir.resolve("authz.yaml");
        DevPolicyWriter w = new DevPolicyWriter(
                missing,
                dir.resolve("out.yaml"),
                () -> DevIssuer.jwksUri(9180),
                Optional.empty(),
                Duration.ofHours(1),
                meters);
        assertThatThrownBy(w::start).hasMessageContaining("no authz policy at " + missing);
        assertThat(dir.resolve("out.yaml")).doesNotExist();
        w.close();
    }

    private static void awaitDevPolicyServing() {
        await().atMost(Duration.ofSeconds(30))
                .until(() -> devServer.watcher().current().isPresent());
    }
}
