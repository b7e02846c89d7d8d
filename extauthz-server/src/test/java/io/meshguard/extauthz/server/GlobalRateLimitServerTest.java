package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.Code;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.meshguard.extauthz.ratelimit.RateLimitSettings;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.testing.EmbeddedRedis;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.OpenResources;
import io.meshguard.testing.SharedRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** extauthz servers over real gRPC with {@code redis.url}: limits shared across replicas, headers, outages. */
@IntegrationTest
class GlobalRateLimitServerTest {
    private static final String POLICY = """
            rate_limits:
              default_tier: t
              public_tier: t
              tiers:
                t:
                  limits:
                    - {requests: 3, per: 1m}
                    - {requests: 100, per: 1h}
            routes:
              - {name: open, match: {path: /open}, auth: none, header_contract: exempt}
              - name: strict
                match: {path: /strict}
                auth: none
                header_contract: exempt
                rate_limit: {scope: route, on_store_error: fail_closed}
            """;

    @TempDir
    Path dir;

    @AutoClose
    final OpenResources open = new OpenResources();

    private record Replica(
            ExtAuthzServer server, AuthorizationGrpc.AuthorizationBlockingStub stub, SimpleMeterRegistry registry) {}

    private Replica replica(RedisSettings redis) throws Exception {
        Path policy = dir.resolve("authz.yaml");
        Files.writeString(policy, POLICY);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ExtAuthzConfig config = ExtAuthzConfig.onLoopback(policy, Duration.ofSeconds(30))
                .withRedis(redis)
                .withRateLimit(RateLimitSettings.DEFAULTS.withHeartbeat(Duration.ofMillis(200)));
        ExtAuthzServer server = new ExtAuthzServer(config, registry, Optional.empty(), e -> {}, Clock.systemUTC());
        server.start();
        open.add(server);
        ManagedChannel channel = LoopbackGrpc.channelTo(server.grpcPort());
        open.add(channel::shutdownNow);
        return new Replica(
                server, AuthorizationGrpc.newBlockingStub(channel).withDeadlineAfter(Duration.ofSeconds(30)), registry);
    }

    private static CheckRequest from(String path, String clientIp) {
        return CheckRequests.of(
                "GET", "api.test.example", path, Map.of(), Map.of(), CheckRequests.Encoding.HEADERS, "", clientIp);
    }

    private static Map<String, HeaderValueOption> toClient(CheckResponse r) {
        Map<String, HeaderValueOption> out = new LinkedHashMap<>();
        (r.hasOkResponse()
                        ? r.getOkResponse().getResponseHeadersToAddList()
                        : r.getDeniedResponse().getHeadersList())
                .forEach(h -> out.put(h.getHeader().getKey(), h));
        return out;
    }

    private static ReadinessCheck.Result readiness(ExtAuthzServer server) {
        return server.readinessChecks().stream()
                .filter(c -> c.name().equals("ratelimit"))
                .findFirst()
                .orElseThrow()
                .check();
    }

    @Test
    void twoReplicas_shareOneCount_andTheClientGetsRateLimitHeadersOnAllowAndOnDeny() throws Exception {
        RedisSettings redis = RedisSettings.none()
                .withUrl(SharedRedis.get().url())
                .withKeyPrefix(SharedRedis.keyPrefix(GlobalRateLimitServerTest.class))
                .withCommandTimeout(Duration.ofSeconds(1));
        Replica a = replica(redis);
        Replica b = replica(redis);
        for (Replica r : List.of(a, b)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!readiness(r.server()).detail().startsWith("global")) {
                assertThat(System.nanoTime())
                        .as("replica reaches the store: "
                                + readiness(r.server()).detail())
                        .isLessThan(deadline);
                Thread.sleep(20);
            }
        }
        List<CheckResponse> answers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            answers.add((i % 2 == 0 ? a : b).stub().check(from("/open", "203.0.113.7")));
        }
        assertThat(answers.subList(0, 3))
                .allSatisfy(r -> assertThat(r.getStatus().getCode()).isEqualTo(Code.OK_VALUE));
        CheckResponse denied = answers.get(3);
        assertThat(denied.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(429);
        assertThat(denied.getDeniedResponse().getBody()).contains("\"reason\":\"rate_limited\"");

        Map<String, HeaderValueOption> first = toClient(answers.get(0));
        assertThat(first.get("ratelimit-policy").getHeader().getValue())
                .isEqualTo("\"t-1m\";q=3;w=60, \"t-1h\";q=100;w=3600");
        assertThat(first.get("ratelimit").getHeader().getValue()).matches("\"t-1m\";r=2;t=\\d+, \"t-1h\";r=99;t=\\d+");
        assertThat(first.get("x-ratelimit-limit").getHeader().getValue()).isEqualTo("3");
        assertThat(first.get("x-ratelimit-remaining").getHeader().getValue()).isEqualTo("2");
        // set on the client's response over whatever the upstream sent: append=false (older Envoy) and the action
        assertThat(first.get("ratelimit").hasAppend()).isTrue();
        assertThat(first.get("ratelimit").getAppend().getValue()).isFalse();
        assertThat(first.get("ratelimit").getAppendAction())
                .isEqualTo(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
        assertThat(toClient(answers.get(2))
                        .get("x-ratelimit-remaining")
                        .getHeader()
                        .getValue())
                .isEqualTo("0");

        Map<String, HeaderValueOption> refused = toClient(denied);
        assertThat(Long.parseLong(refused.get("retry-after").getHeader().getValue()))
                .isBetween(1L, 20L);
        assertThat(refused.get("ratelimit").getHeader().getValue()).startsWith("\"t-1m\";r=0;");
        assertThat(refused.get("x-ratelimit-remaining").getHeader().getValue()).isEqualTo("0");

        // another client address has its own count; the route-scoped rule counts apart from the policy-wide one
        assertThat(b.stub().check(from("/open", "203.0.113.8")).getStatus().getCode())
                .isEqualTo(Code.OK_VALUE);
        assertThat(b.stub().check(from("/strict", "203.0.113.7")).getStatus().getCode())
                .isEqualTo(Code.OK_VALUE);
        assertThat(readiness(a.server()).detail()).startsWith("global via redis://");
        assertThat(a.registry()
                        .get("meshguard_ratelimit_mode")
                        .tag("mode", "global")
                        .gauge()
                        .value())
                .isEqualTo(1.0);
        assertThat(a.registry()
                        .get("meshguard_ratelimit_decisions_total")
                        .tag("source", "global")
                        .tag("result", "allow")
                        .counter()
                        .count())
                .isPositive();
    }

    @Test
    void storeDownAtStart_serverStartsReady_degradedRoutesServe_failClosedRoutesAnswer503() throws Exception {
        String url = EmbeddedRedis.closedUrl();
        Replica r = replica(RedisSettings.none()
                .withUrl(url)
                .withKeyPrefix(SharedRedis.keyPrefix(GlobalRateLimitServerTest.class)));
        List<Integer> open = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            CheckResponse c = r.stub().check(from("/open", "198.51.100.1"));
            open.add(
                    c.getStatus().getCode() == Code.OK_VALUE
                            ? 200
                            : c.getDeniedResponse().getStatus().getCodeValue());
        }
        // degraded: this replica alone (no heartbeat ever answered: 1 replica assumed) enforces the whole limit
        assertThat(open).containsExactly(200, 200, 200, 429, 429);
        CheckResponse strict = r.stub().check(from("/strict", "198.51.100.1"));
        assertThat(strict.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(503);
        assertThat(strict.getStatus().getCode()).isEqualTo(Code.UNAVAILABLE_VALUE);
        assertThat(strict.getDeniedResponse().getBody()).contains("\"reason\":\"rate_limit_store_unavailable\"");
        assertThat(toClient(strict).get("retry-after").getHeader().getValue()).isEqualTo("1");

        ReadinessCheck.Result ready = readiness(r.server());
        assertThat(ready.ready()).isTrue();
        assertThat(ready.detail()).startsWith("degraded: store redis://").contains("fail_closed routes answer 503");
        assertThat(r.registry().get("meshguard_ratelimit_store_state").gauge().value())
                .isEqualTo(2.0);
        assertThat(r.registry()
                        .get("meshguard_ratelimit_decisions_total")
                        .tag("source", "degraded")
                        .tag("result", "allow")
                        .counter()
                        .count())
                .isEqualTo(3.0);
        assertThat(r.registry()
                        .get("meshguard_ratelimit_store_errors_total")
                        .tag("kind", "error")
                        .counter()
                        .count())
                .isPositive();
    }

    @Test
    void withoutRedis_limitsArePerReplica_andTheServerSaysSo() throws Exception {
        Replica r = replica(RedisSettings.none());
        assertThat(readiness(r.server()).detail()).startsWith("local: limits are per replica");
        assertThat(r.registry()
                        .get("meshguard_ratelimit_mode")
                        .tag("mode", "local")
                        .gauge()
                        .value())
                .isEqualTo(1.0);
        CheckResponse c = r.stub().check(from("/open", "192.0.2.1"));
        assertThat(toClient(c).get("x-ratelimit-remaining").getHeader().getValue())
                .isEqualTo("2");
    }
}
