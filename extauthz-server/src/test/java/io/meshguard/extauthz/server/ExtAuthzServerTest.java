package io.meshguard.extauthz.server;

import static io.meshguard.extauthz.Fixtures.RS1;
import static io.meshguard.extauthz.Fixtures.claims;
import static io.meshguard.extauthz.Fixtures.headers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.rpc.Code;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.meshguard.authz.decision.CheckSize;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.JwksServer;
import io.meshguard.testing.LoopbackGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server over real gRPC on loopback, as Envoy and grpc-java call it. */
@IntegrationTest
class ExtAuthzServerTest {
    @TempDir
    static Path dir;

    static JwksServer jwks;
    static ExtAuthzServer server;
    static ManagedChannel channel;
    static AuthorizationGrpc.AuthorizationBlockingStub stub;
    static SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static final ConcurrentLinkedQueue<AuthzDecisionEvent> audit = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void start() throws Exception {
        jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)));
        Path policy = dir.resolve("authz.yaml");
        Files.writeString(policy, Fixtures.policyYaml("discovery: " + jwks.discoveryUri(), ""));
        ExtAuthzConfig config = ExtAuthzConfig.onLoopback(policy, Duration.ofMillis(100));
        server = new ExtAuthzServer(config, registry, Optional.empty(), audit::add, Clock.systemUTC());
        server.start();
        channel = LoopbackGrpc.channelTo(server.grpcPort());
        stub = AuthorizationGrpc.newBlockingStub(channel).withDeadlineAfter(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        channel.shutdownNow();
        server.close();
        jwks.close();
    }

    static CheckRequest request(String path, Map<String, List<String>> headers, CheckRequests.Encoding encoding) {
        return CheckRequests.of("GET", "api.test.example", path, headers, Map.of(), encoding);
    }

    static Map<String, HeaderValueOption> okHeaders(CheckResponse r) {
        return r.getOkResponse().getHeadersList().stream()
                .collect(Collectors.toMap(h -> h.getHeader().getKey(), h -> h));
    }

    @Test
    void ambiguousPath_isDenied400OverGrpc_countedByClass_andAuditedWithItsSubReason() {
        CheckResponse r = stub.check(
                request("/healthz/..%2F..%2Fapi/x?card=4111111111111111", Map.of(), CheckRequests.Encoding.HEADERS));
        assertThat(r.getStatus().getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);
        assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(400);
        assertThat(r.getDeniedResponse().getBody())
                .contains("\"reason\":\"invalid_path\"")
                .contains("\"path_problem\":\"encoded_separator\"");
        assertThat(registry.get("meshguard_authz_path_refusals_total")
                        .tag("problem", "encoded_separator")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1.0);
        // the audit event is recorded just after the answer leaves: wait for it rather than race it
        AuthzDecisionEvent e = await().atMost(Duration.ofSeconds(5))
                .until(
                        () -> audit.stream()
                                .filter(a -> a.reason().equals("invalid_path"))
                                .findFirst(),
                        Optional::isPresent)
                .orElseThrow();
        assertThat(e.details()).containsEntry("path_problem", "encoded_separator");
        assertThat(e.path()).isEqualTo("/healthz/..%2F..%2Fapi/x");
    }

    @Test
    void becomesReady_afterOidcDiscoveryAndJwksFetch_andGrpcHealthSaysServing() {
        await().atMost(Duration.ofSeconds(20)).until(() -> server.notReady().isEmpty());
        await().atMost(Duration.ofSeconds(5))
                .until(() -> HealthGrpc.newBlockingStub(channel)
                                .check(HealthCheckRequest.newBuilder()
                                        .setService(ExtAuthzServer.SERVICE)
                                        .build())
                                .getStatus()
                        == HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void allow_setsIdentityWithBothAppendFields_inBothHeaderEncodings() {
        String token = RS1.sign(claims("alice", "big-tenant", List.of("user"))
                .claim("azp", "web")
                .build());
        for (CheckRequests.Encoding encoding : CheckRequests.Encoding.values()) {
            CheckResponse r = stub.check(request(
                    "/api/orders",
                    headers("authorization", "Bearer " + token, "x-tenant-id", "big-tenant", "x-user-id", "mallory"),
                    encoding));
            assertThat(r.getStatus().getCode()).as(encoding.name()).isEqualTo(Code.OK_VALUE);
            Map<String, HeaderValueOption> set = okHeaders(r);
            assertThat(set.get("x-user-id").getHeader().getValue()).isEqualTo("alice");
            for (String identity :
                    List.of("x-user-id", "x-tenant-id", "x-user-roles", "x-client-id", "x-auth-method")) {
                HeaderValueOption o = set.get(identity);
                assertThat(o.hasAppend()).as(identity).isTrue();
                assertThat(o.getAppend().getValue()).as(identity).isFalse();
                assertThat(o.getAppendAction())
                        .as(identity)
                        .isEqualTo(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
            }
            // contract defaults are meshguard's: overwritten like identity, so a client's x-dwp-source never survives
            HeaderValueOption dflt = set.get("x-dwp-source");
            assertThat(dflt.hasAppend()).isTrue();
            assertThat(dflt.getAppend().getValue()).isFalse();
            assertThat(dflt.getAppendAction())
                    .isEqualTo(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
            assertThat(r.getOkResponse().getHeadersToRemoveList())
                    .contains("authorization", "x-api-key")
                    .doesNotContainAnyElementsOf(set.keySet());
        }
    }

    @Test
    void deny_carriesHttpStatusInDeniedResponse_withRequestIdAndChallenge() {
        CheckResponse r = stub.check(request(
                "/api/orders", headers("x-tenant-id", "t1", "x-request-id", "req-42"), CheckRequests.Encoding.HEADERS));
        assertThat(r.getStatus().getCode()).isEqualTo(Code.UNAUTHENTICATED_VALUE);
        assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(401);
        Map<String, String> h = r.getDeniedResponse().getHeadersList().stream()
                .collect(Collectors.toMap(
                        o -> o.getHeader().getKey(), o -> o.getHeader().getValue()));
        assertThat(h).containsEntry("x-request-id", "req-42").containsEntry("content-type", "application/json");
        assertThat(h.get("www-authenticate")).startsWith("Bearer error=\"invalid_token\", error_description=\"");
        assertThat(r.getDeniedResponse().getBody())
                .contains("\"request_id\":\"req-42\"")
                .contains("\"reason\":\"missing_credential\"");
        await().atMost(Duration.ofSeconds(5))
                .until(() -> audit.stream().anyMatch(e -> e.requestId().equals("req-42")));
        AuthzDecisionEvent e = audit.stream()
                .filter(x -> x.requestId().equals("req-42"))
                .findFirst()
                .orElseThrow();
        assertThat(e.decision()).isEqualTo("deny");
        assertThat(e.reason()).isEqualTo("missing_credential");
        assertThat(e.status()).isEqualTo(401);
        assertThat(e.route()).contains("api");
    }

    @Test
    void grpcJavaShape_headerMapOnly_noHostNoPseudoHeaders_isDecided() {
        String token = RS1.sign(claims("svc", "big-tenant", List.of("user")).build());
        CheckRequest grpcJava = CheckRequest.newBuilder()
                .setAttributes(io.envoyproxy.envoy.service.auth.v3.AttributeContext.newBuilder()
                        .setRequest(io.envoyproxy.envoy.service.auth.v3.AttributeContext.Request.newBuilder()
                                .setHttp(io.envoyproxy.envoy.service.auth.v3.AttributeContext.HttpRequest.newBuilder()
                                        .setPath("/api.Orders/List")
                                        .setMethod("POST")
                                        .setProtocol("HTTP/2")
                                        .setSize(-1)
                                        .setHeaderMap(io.envoyproxy.envoy.config.core.v3.HeaderMap.newBuilder()
                                                .addHeaders(raw("authorization", "Bearer " + token))
                                                .addHeaders(raw("x-tenant-id", "big-tenant"))))))
                .build();
        // "/api.Orders/List" does not match prefix "/api" segment-wise: denied as no route, not crashed
        CheckResponse r = stub.check(grpcJava);
        assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(403);
        assertThat(r.getDeniedResponse().getBody()).contains("no_matching_route");
    }

    private static io.envoyproxy.envoy.config.core.v3.HeaderValue raw(String k, String v) {
        return io.envoyproxy.envoy.config.core.v3.HeaderValue.newBuilder()
                .setKey(k)
                .setRawValue(com.google.protobuf.ByteString.copyFromUtf8(v))
                .build();
    }

    /** The per-name series the dashboards break down has a sample at zero before any unknown name. */
    @Test
    void unknownProfilePerNameSeries_existsAtZeroFromStart() {
        assertThat(registry.get("meshguard_authz_unknown_profile_total")
                        .tag("profile", io.meshguard.contract.ProfileLabels.OTHER)
                        .counter()
                        .count())
                .isZero();
    }

    @Test
    void unknownProfile_overGrpc_isDenied_countedUnderAnEscapedName_andAudited() {
        Map<String, String> ext = Map.of(
                RouteContract.AuthzContext.AUTHZ_PROFILE,
                "no-such\"rule}",
                RouteContract.AuthzContext.GATEWAY_ROUTE,
                "chat-completions",
                RouteContract.AuthzContext.API,
                "chat");
        CheckResponse r = stub.check(CheckRequests.of(
                "GET",
                "api.test.example",
                "/healthz",
                headers("x-request-id", "req-unknown-profile"),
                ext,
                CheckRequests.Encoding.HEADERS));
        assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(403);
        assertThat(r.getDeniedResponse().getBody()).contains("\"reason\":\"unknown_profile\"");
        // the server counts after it answered: wait for the count, not for a moment
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(registry.find("meshguard_authz_unknown_profile_total")
                                .tag("profile", "no-such_rule_")
                                .counters())
                        .singleElement()
                        .satisfies(c -> assertThat(c.count()).isEqualTo(1)));
        assertThat(registry.get("meshguard_authz_decisions_total")
                        .tag("reason", "unknown_profile")
                        .tag("route", "none")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> audit.stream().anyMatch(e -> e.requestId().equals("req-unknown-profile")));
        AuthzDecisionEvent e = audit.stream()
                .filter(x -> x.requestId().equals("req-unknown-profile"))
                .findFirst()
                .orElseThrow();
        assertThat(e.reason()).isEqualTo("unknown_profile");
        assertThat(e.route()).isEmpty();
        assertThat(e.details())
                .containsEntry("authz_profile", "no-such\"rule}")
                .containsEntry("gateway_route", "chat-completions")
                .containsEntry("api", "chat");
    }

    @Test
    void metrics_countDecisionsByResultReasonRoute_andTokenCacheHits() {
        String token = RS1.sign(claims("bob", "big-tenant", List.of("user")).build());
        for (int i = 0; i < 3; i++) {
            stub.check(request(
                    "/api/x",
                    headers("authorization", "Bearer " + token, "x-tenant-id", "big-tenant"),
                    CheckRequests.Encoding.HEADERS));
        }
        assertThat(registry.get("meshguard_authz_decisions_total")
                        .tag("result", "allow")
                        .tag("route", "api")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(3);
        assertThat(registry.get("meshguard_authz_token_cache_requests_total")
                        .tag("result", "hit")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(2);
        assertThat(registry.get("meshguard_authz_check_duration_seconds")
                        .timer()
                        .count())
                .isGreaterThanOrEqualTo(3);
        assertThat(registry.get("meshguard_authz_jwks_fetches_total")
                        .tag("issuer", "test-idp")
                        .tag("result", "success")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void oversizedCheck_overRealGrpc_isADeny431_notAnRpcError() {
        // above grpc-java's default 4 MiB and above the deny bound, below Envoy's 8192 KiB + transport floor
        String big = "a".repeat(CheckSize.DENY_ABOVE_BYTES + 1024);
        CheckResponse r =
                stub.check(request("/healthz", Map.of("x-big", List.of(big)), CheckRequests.Encoding.HEADERS));
        assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(431);
        assertThat(r.getDeniedResponse().getBody()).contains("\"reason\":\"request_too_large\"");
        // a 5 MiB Check (over the old 4 MiB limit, under the bound) is decided on its content
        CheckResponse decided = stub.check(request(
                "/healthz", Map.of("x-big", List.of("b".repeat(5 * 1024 * 1024))), CheckRequests.Encoding.HEADERS));
        assertThat(decided.getDeniedResponse().getBody()).doesNotContain("request_too_large");
    }
}
