package io.meshguard.extauthz.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.contract.OwnedHeaderNames;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.GatewayChain;
import io.meshguard.extauthz.apikey.ApiKeyAuthenticator;
import io.meshguard.extauthz.apikey.ApiKeyService;
import io.meshguard.extauthz.apikey.InMemoryApiKeyStore;
import io.meshguard.extauthz.decision.Decision;
import io.meshguard.extauthz.decision.Reason;
import io.meshguard.extauthz.decision.SecretFiles;
import io.meshguard.extauthz.jwt.JwksRegistry;
import io.meshguard.extauthz.policy.AuthzPolicyParser;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 23, quotas across the gateway hop: the sidecar behind the trusted gateway skips a quota only when the gateway
 * charged this request for it (the owned {@code x-meshguard-quota-charged} header, believed from the gateway only).
 * Each request is decided twice, as the chain does: the gateway's Check, then the sidecar's with the headers the
 * gateway's allow set and the gateway's SPIFFE principal as the peer.
 */
class QuotaGatewayHopTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final String POD = "spiffe://cluster.local/ns/shop/sa/cart";

    private final QuotaTestSupport.MovableClock clock = new QuotaTestSupport.MovableClock(Instant.parse("2026-11-22T14:00:00Z"));
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
    private AuthzPipeline pipeline;
    private GatewayChain chain;
    private String key;

    @BeforeEach
    void setUp() throws Exception {
        QuotaCounter counter = new QuotaCounter(Optional.of(new QuotaStore(PG.dataSource())), Optional::empty,
                new LiveCounters("t:", Duration.ofSeconds(1)), QuotaAudit.logOnly(), clock, System::nanoTime,
                QuotaTestSupport.settings(), registry);
        pipeline = new AuthzPipeline(new JwksRegistry(registry, Map.of(), Duration.ofSeconds(1)),
                Optional.of(new ApiKeyAuthenticator(keys, clock, Duration.ZERO)),
                new TokenBucketLimiter(1000, Duration.ofMinutes(1), System::nanoTime), new SecretFiles(System::nanoTime), clock,
                registry, 100, Duration.ofMinutes(1), counter);
        pipeline.use(new AuthzPolicyParser().parse("authz.yaml", new StringReader("""
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
                """)));
        chain = new GatewayChain(pipeline, "api.shop.example");
        key = new ApiKeyService(keys, clock).create("ci", "svc", "acme-" + UUID.randomUUID(), List.of(), List.of(), "free",
                Optional.empty()).text();
    }

    @AfterEach
    void close() {
        pipeline.close();
    }

    private Decision check(String host, String path, String principal, Map<String, String> headers) {
        return chain.check(host, path, principal, headers);
    }

    /** Client → gateway → sidecar; the sidecar's decision, or the gateway's when the gateway refused. */
    private Decision throughGateway(String service, String path, String... clientHeaders) {
        return chain.through(service + ".shop.svc.cluster.local", path,
                GatewayChain.headers("x-api-key", key, clientHeaders));
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
        Decision edge = check("api.shop.example", "/carts/1", "", Map.of("x-api-key", key, OwnedHeaderNames.QUOTA_CHARGED, "orders-daily"));
        assertThat(Fixtures.set(edge)).containsEntry(OwnedHeaderNames.QUOTA_CHARGED, "carts-daily");
        Decision uncharged = check("api.shop.example", "/orders/1", "", Map.of("x-api-key", key, OwnedHeaderNames.QUOTA_CHARGED, "orders-daily"));
        assertThat(uncharged.allowed()).isTrue();
        assertThat(Fixtures.set(uncharged)).doesNotContainKey(OwnedHeaderNames.QUOTA_CHARGED);
        assertThat(uncharged.headersRemoved()).contains(OwnedHeaderNames.QUOTA_CHARGED);
    }

    @Test
    void aClientForgingTheHeaderThroughTheGateway_isStillChargedAtTheSidecar() {
        for (int i = 0; i < 2; i++) {
            assertThat(throughGateway("orders", "/orders/" + i, OwnedHeaderNames.QUOTA_CHARGED, "orders-daily").allowed()).isTrue();
        }
        assertThat(throughGateway("orders", "/orders/9", OwnedHeaderNames.QUOTA_CHARGED, "orders-daily").reason())
                .isEqualTo(Reason.QUOTA_EXCEEDED);
    }

    @Test
    void aPodForgingTheHeader_isIgnoredAndOverwritten_andCharged() {
        Map<String, String> forged = Map.of("x-api-key", key, OwnedHeaderNames.QUOTA_CHARGED, "orders-daily,carts-daily");
        Decision first = check("orders.shop.svc.cluster.local", "/orders/1", POD, forged);
        assertThat(first.allowed()).isTrue();
        // not a gateway hop: the pod's list is replaced by what this Check itself charged
        assertThat(Fixtures.set(first)).containsEntry(OwnedHeaderNames.QUOTA_CHARGED, "orders-daily");
        assertThat(check("orders.shop.svc.cluster.local", "/orders/2", POD, forged).allowed()).isTrue();
        assertThat(check("orders.shop.svc.cluster.local", "/orders/3", POD, forged).reason()).isEqualTo(Reason.QUOTA_EXCEEDED);
    }
}
