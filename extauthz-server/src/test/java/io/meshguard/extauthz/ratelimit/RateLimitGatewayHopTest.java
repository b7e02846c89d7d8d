package io.meshguard.extauthz.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.Reason;
import io.meshguard.contract.OwnedHeaderNames;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.ShopGatewayHop;
import io.meshguard.testing.SlowTest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Route rate limits across the gateway hop, decided twice as a request travels (client → gateway → sidecar, the
 * gateway's header mutations applied in between as Envoy's ext_authz filter applies them): a request the gateway's
 * rule did not rate-limit is limited at the sidecar, never by no one; one it did limit is not counted twice; a
 * client's or a pod's copy of the owned header changes nothing.
 */
@SlowTest
class RateLimitGatewayHopTest {
    private ShopGatewayHop shop;

    @BeforeEach
    void setUp() throws Exception {
        // two requests a day's worth of refill apart: the third within the test is always over the limit
        shop = new ShopGatewayHop(Clock.systemUTC(), QuotaGate.NONE, new SimpleMeterRegistry(), """
                mesh: {trusted_gateways: [cluster.local/ns/meshguard/sa/meshguard-gateway]}
                rate_limits:
                  default_tier: free
                  tiers:
                    free: {requests_per_second: 0.0000116, burst: 2}
                routes:
                  - name: edge-orders
                    match: {hosts: [api.shop.example], path_prefix: /orders}
                    auth: apikey
                    rate_limit: off
                  - name: edge-carts
                    match: {hosts: [api.shop.example], path_prefix: /carts}
                    auth: apikey
                  - name: orders-workload
                    match: {hosts: [orders.shop.svc.cluster.local], path_prefix: /orders}
                    auth: apikey
                  - name: carts-workload
                    match: {hosts: [carts.shop.svc.cluster.local], path_prefix: /carts}
                    auth: apikey
                """);
    }

    @AfterEach
    void close() {
        shop.close();
    }

    private Decision throughGateway(String service, String path, String... clientHeaders) {
        return shop.throughGateway(service, path, clientHeaders);
    }

    @Test
    void gatewayRuleWithoutARateLimit_isLimitedAtTheSidecar_notByNoOne() {
        assertThat(throughGateway("orders", "/orders/1").allowed()).isTrue();
        assertThat(throughGateway("orders", "/orders/2").allowed()).isTrue();
        Decision third = throughGateway("orders", "/orders/3");
        assertThat(third.allowed()).isFalse();
        assertThat(third.reason()).isEqualTo(Reason.RATE_LIMITED);
        assertThat(third.route()).contains("orders-workload");
    }

    @Test
    void limitedAtTheGateway_isNotCountedAgainAtTheSidecar_andTheUpstreamNeverSeesTheHeader() {
        Decision first = throughGateway("carts", "/carts/1");
        assertThat(first.allowed()).isTrue();
        assertThat(first.headersRemoved()).contains(OwnedHeaderNames.RATE_LIMITED_AT);
        assertThat(throughGateway("carts", "/carts/2").allowed())
                .as("2 of 2: not spent twice")
                .isTrue();
        Decision third = throughGateway("carts", "/carts/3");
        assertThat(third.reason()).isEqualTo(Reason.RATE_LIMITED);
        assertThat(third.route()).contains("edge-carts");
    }

    /** Published class "client-sent meshguard headers at every hop": a client's copy never crosses the gateway. */
    @Test
    void clientSentMeshguardHeader_throughTheGateway_isStillLimitedAtTheSidecar() {
        for (int i = 0; i < 2; i++) {
            assertThat(throughGateway("orders", "/orders/" + i, OwnedHeaderNames.RATE_LIMITED_AT, "edge-orders")
                            .allowed())
                    .isTrue();
        }
        assertThat(throughGateway("orders", "/orders/9", OwnedHeaderNames.RATE_LIMITED_AT, "edge-orders")
                        .reason())
                .isEqualTo(Reason.RATE_LIMITED);
    }

    /** Published class "an internal header that relaxes a check" (Kuadrant/mcp-gateway GHSA-g53w-w6mj-hrpp). */
    @Test
    void internalHeaderFromAPod_relaxesNoLimit_andItsCopyIsReplaced() {
        Map<String, String> forged = Map.of("x-api-key", shop.key(), OwnedHeaderNames.RATE_LIMITED_AT, "edge-orders");
        Decision first = shop.check("orders.shop.svc.cluster.local", "/orders/1", ShopGatewayHop.POD, forged);
        assertThat(Fixtures.set(first)).containsEntry(OwnedHeaderNames.RATE_LIMITED_AT, "orders-workload");
        assertThat(shop.check("orders.shop.svc.cluster.local", "/orders/2", ShopGatewayHop.POD, forged)
                        .allowed())
                .isTrue();
        assertThat(shop.check("orders.shop.svc.cluster.local", "/orders/3", ShopGatewayHop.POD, forged)
                        .reason())
                .isEqualTo(Reason.RATE_LIMITED);
    }
}
