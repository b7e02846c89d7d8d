package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Published class "a Check without {@code :path}, or with an authority-form, absolute-form, asterisk or CONNECT
 * target" (Envoy GHSA-rj35-4m94-77jh / CVE-2025-64763 on CONNECT; opa-envoy-plugin GHSA-9f29-v6mm-pw6w /
 * CVE-2026-26205, a leading {@code //x} read as an authority): a target that is not origin-form names no path a route
 * can be matched on, so it is refused (400) even where a public route covers {@code /}, and audited as such.
 */
@IntegrationTest
class CheckTargetFormsTest {
    @TempDir
    static Path dir;

    static ExtAuthzServer server;
    static ManagedChannel channel;
    static AuthorizationGrpc.AuthorizationBlockingStub stub;
    static final ConcurrentLinkedQueue<AuthzDecisionEvent> audit = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void start() throws Exception {
        Path policy = dir.resolve("authz.yaml");
        // a public route on every path: whatever reaches route matching is allowed, so only the target check denies
        Files.writeString(policy, """
                routes:
                  - {name: open, match: {path_prefix: /}, auth: none, header_contract: exempt}
                """);
        ExtAuthzConfig config = ExtAuthzConfig.defaults()
                .withGrpc("127.0.0.1", 0)
                .withShutdown(Duration.ZERO, Duration.ofSeconds(5))
                .withPolicy(policy, Duration.ofMillis(100));
        server = new ExtAuthzServer(config, new SimpleMeterRegistry(), Optional.empty(), audit::add, Clock.systemUTC());
        server.start();
        channel = LoopbackGrpc.channelTo(server.grpcPort());
        stub = AuthorizationGrpc.newBlockingStub(channel).withDeadlineAfter(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        channel.shutdownNow();
        server.close();
    }

    /** A Check as Envoy sends it, the target in both the attribute and the pseudo-header (or in neither). */
    static CheckRequest check(String method, String path, boolean pathHeader) {
        AttributeContext.HttpRequest.Builder http = AttributeContext.HttpRequest.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setMethod(method)
                .setHost("bank.example:443")
                .setPath(path)
                .setProtocol("HTTP/2")
                .setScheme("https")
                .putHeaders(":authority", "bank.example:443")
                .putHeaders(":method", method);
        if (pathHeader) {
            http.putHeaders(":path", path);
        }
        return CheckRequest.newBuilder()
                .setAttributes(AttributeContext.newBuilder()
                        .setRequest(AttributeContext.Request.newBuilder().setHttp(http)))
                .build();
    }

    @Test
    void originFormTarget_onThePublicRoute_isAllowed_theControl() {
        CheckResponse r = stub.check(check("GET", "/accounts", true));
        assertThat(r.hasOkResponse()).isTrue();
    }

    @Test
    void checkWithoutPath_orWithAConnectAuthorityAbsoluteOrAsteriskTarget_isRefused400_neverRouted() {
        record Target(String method, String path, boolean pathHeader) {}
        List<Target> targets = List.of(
                // HTTP/2 and HTTP/3 CONNECT carry no :path; Envoy's Check then has an empty path
                new Target("CONNECT", "", false),
                new Target("GET", "", false),
                new Target("GET", "", true),
                // authority-form (HTTP/1.1 CONNECT), absolute-form, asterisk-form
                new Target("CONNECT", "bank.example:443", true),
                new Target("GET", "https://bank.example/admin", true),
                new Target("OPTIONS", "*", true),
                new Target("GET", "bank.example/admin", true),
                // a leading double slash an URI parser reads as an authority
                new Target("GET", "//admin/keys", true));
        for (Target t : targets) {
            CheckResponse r = stub.check(check(t.method(), t.path(), t.pathHeader()));
            assertThat(r.hasOkResponse()).as("%s '%s'", t.method(), t.path()).isFalse();
            assertThat(r.getDeniedResponse().getStatus().getCodeValue())
                    .as("%s '%s'", t.method(), t.path())
                    .isEqualTo(400);
            assertThat(r.getDeniedResponse().getBody())
                    .as("%s '%s'", t.method(), t.path())
                    .contains("\"reason\":\"invalid_path\"");
        }
        // every refusal is a whole audit row: the refusal, its reason, and no route
        await().atMost(Duration.ofSeconds(5))
                .until(() -> audit.stream()
                                .filter(e -> e.reason().equals("invalid_path"))
                                .count()
                        >= targets.size());
        assertThat(audit.stream().filter(e -> e.reason().equals("invalid_path")))
                .allSatisfy(e -> {
                    assertThat(e.decision()).isEqualTo("deny");
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.route()).isEmpty();
                });
    }
}
