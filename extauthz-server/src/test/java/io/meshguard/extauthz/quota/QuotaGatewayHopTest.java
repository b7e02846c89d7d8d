package io.meshguard.extauthz.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.Reason;
import io.meshguard.contract.OwnedHeaderNames;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.ShopGatewayHop;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Quotas across the gateway hop: the sidecar behind the trusted gateway skips a quota only when the gateway
 * charged this request for it (the owned {@code x-meshguard-quota-charged} header, believed from the gateway only).
 * Each request is decided twice, as the chain does: the gateway's Check, then the sidecar's with the headers the
 * gateway's allow set and the gateway's SPIFFE principal as the peer.
 */
@IntegrationTest
class QuotaGatewayHopTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-22T14:00:00Z"));
    private ShopGatewayHop shop;

    @BeforeEach
    void setUp() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        QuotaCounter counter =
                QuotaTestSupport.postgresOnly(PG.dataSource(), clock, QuotaTestSupport.settings(), registry);
        shop = new ShopGatewayHop(clock, counter, registry, """
                mesh: {trusted_gateways: [cluster.local/ns/meshguard/sa/meshguard-gateway]}
                routes:
                  - name: edge-orders
                    match: {hosts: [api.shop.example], path_prefix: /orders}
                    auth: apikey
                  - name: edge-carts
                    match: {hosts: [api.shop.example], path_prefix: /carts}
                    auth: apikey
                  - name: orders-workload
                    match: {hosts: [orders.shop.svc.cluster.local], path_prefix: /orders}
                    auth: apikey
                  - name: carts-workload
                    match: {hosts: [carts.shop.svc.cluster.local], path_prefix: /carts}
                    auth: apikey
                quotas:
                  - {name: orders-daily, per: api_key, period: day, timezone: UTC, default_tier: free, limits: {free: 2},
                     routes: [orders-workload]}
                  - {name: carts-daily, per: api_key, period: day, timezone: UTC, default_tier: free, limits: {free: 2},
                     routes: [edge-carts, carts-workload]}
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
    void quotaWithoutTheGatewaysRule_isChargedAtTheSidecar_notByNoOne() {
        assertThat(throughGateway("orders", "/orders/1").allowed()).isTrue();
        assertThat(throughGateway("orders", "/orders/2").allowed()).isTrue();
        Decision third = throughGateway("orders", "/orders/3");
        assertThat(third.allowed()).isFalse();
        assertThat(third.reason()).isEqualTo(Reason.QUOTA_EXCEEDED);
        assertThat(third.route()).contains("orders-workload");
    }

    @Test
    void quotaCoveringBothHops_isChargedOnceAtTheGateway_andSkippedAtTheSidecar() {
        Decision first = throughGateway("carts", "/carts/1");
        assertThat(first.allowed()).isTrue();
        assertThat(first.route()).contains("carts-workload");
        assertThat(first.headersRemoved()).contains(OwnedHeaderNames.QUOTA_CHARGED); // the upstream never sees it
        assertThat(throughGateway("carts", "/carts/2").allowed()).isTrue(); // not double charged: 2 of 2
        Decision third = throughGateway("carts", "/carts/3");
        assertThat(third.allowed()).isFalse();
        assertThat(third.route()).contains("edge-carts"); // refused where it is charged
    }

    @Test
    void theGatewayNamesWhatItCharged_andAClientsOwnListIsReplaced() {
        Decision edge = shop.check(
                "api.shop.example",
                "/carts/1",
                "",
                Map.of("x-api-key", shop.key(), OwnedHeaderNames.QUOTA_CHARGED, "orders-daily"));
        assertThat(Fixtures.set(edge)).containsEntry(OwnedHeaderNames.QUOTA_CHARGED, "carts-daily");
        Decision uncharged = shop.check(
                "api.shop.example",
                "/orders/1",
                "",
                Map.of("x-api-key", shop.key(), OwnedHeaderNames.QUOTA_CHARGED, "orders-daily"));
        assertThat(uncharged.allowed()).isTrue();
        assertThat(Fixtures.set(uncharged)).doesNotContainKey(OwnedHeaderNames.QUOTA_CHARGED);
        assertThat(uncharged.headersRemoved()).contains(OwnedHeaderNames.QUOTA_CHARGED);
    }

    /** Published class "client-sent meshguard headers at every hop": a client's copy never crosses the gateway. */
    @Test
    void clientSentMeshguardHeader_throughTheGateway_isStillChargedAtTheSidecar() {
        for (int i = 0; i < 2; i++) {
            assertThat(throughGateway("orders", "/orders/" + i, OwnedHeaderNames.QUOTA_CHARGED, "orders-daily")
                            .allowed())
                    .isTrue();
        }
        assertThat(throughGateway("orders", "/orders/9", OwnedHeaderNames.QUOTA_CHARGED, "orders-daily")
                        .reason())
                .isEqualTo(Reason.QUOTA_EXCEEDED);
    }

    /**
     * Published class "an internal header that relaxes a check" (Kuadrant/mcp-gateway GHSA-g53w-w6mj-hrpp: a shared header value skipped the
     * session check): meshguard's quota-charged header relaxes nothing unless the trusted gateway's mTLS identity sent it.
     */
    @Test
    void internalHeaderFromAPod_relaxesNoQuota_isOverwritten_andCharged() {
        Map<String, String> forged =
                Map.of("x-api-key", shop.key(), OwnedHeaderNames.QUOTA_CHARGED, "orders-daily,carts-daily");
        Decision first = shop.check("orders.shop.svc.cluster.local", "/orders/1", ShopGatewayHop.POD, forged);
        assertThat(first.allowed()).isTrue();
        // not a gateway hop: the pod's list is replaced by what this Check itself charged
        assertThat(Fixtures.set(first)).containsEntry(OwnedHeaderNames.QUOTA_CHARGED, "orders-daily");
        assertThat(shop.check("orders.shop.svc.cluster.local", "/orders/2", ShopGatewayHop.POD, forged)
                        .allowed())
                .isTrue();
        assertThat(shop.check("orders.shop.svc.cluster.local", "/orders/3", ShopGatewayHop.POD, forged)
                        .reason())
                .isEqualTo(Reason.QUOTA_EXCEEDED);
    }
}
