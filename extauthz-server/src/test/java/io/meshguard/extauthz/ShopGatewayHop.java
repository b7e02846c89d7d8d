package io.meshguard.extauthz;

import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.policy.PolicyInvalidException;
import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.request.Decision;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.ApiKeyStore;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.StringReader;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The shop of the gateway-hop tests: clients call {@code api.shop.example} at the edge gateway, which forwards to the
 * workloads {@code orders} and {@code carts} ({@code SERVICE.shop.svc.cluster.local}); one pipeline decides both hops
 * ({@link GatewayChain}) with API keys and the test's policy, and the client holds one API key of tier {@code free}.
 */
public final class ShopGatewayHop implements AutoCloseable {
    /** A pod of the mesh calling a workload directly, not through the gateway. */
    public static final String POD = "spiffe://cluster.local/ns/shop/sa/cart";
    /** The edge gateway's host. */
    public static final String EDGE = "api.shop.example";

    private final AuthzPipeline pipeline;
    private final GatewayChain chain;
    private final String key;

    /** The pipeline on {@code clock} with {@code quotas} (QuotaGate.NONE: none), running {@code policyYaml}. */
    public ShopGatewayHop(Clock clock, QuotaGate quotas, MeterRegistry registry, String policyYaml)
            throws PolicyInvalidException, ApiKeyStore.UnavailableException {
        InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
        pipeline = TestPipeline.build(registry, p -> {
            p.apiKeys = Optional.of(new ApiKeyAuthenticator(keys, clock, Duration.ZERO));
            p.clock = clock;
            p.quotas = quotas;
        });
        pipeline.use(new AuthzPolicyParser().parse("authz.yaml", new StringReader(policyYaml)));
        chain = new GatewayChain(pipeline, EDGE);
        key = new ApiKeyService(keys, clock)
                .create("ci", "svc", "acme-" + UUID.randomUUID(), List.of(), List.of(), "free", Optional.empty())
                .text();
    }

    /** The client's API key. */
    public String key() {
        return key;
    }

    /** One Check of a GET, as {@link GatewayChain#check}. */
    public Decision check(String host, String path, String principal, Map<String, String> headers) {
        return chain.check(host, path, principal, headers);
    }

    /** Client → gateway → sidecar with the key and {@code clientHeaders}: the sidecar's decision, or the gateway's. */
    public Decision throughGateway(String service, String path, String... clientHeaders) {
        return chain.through(
                service + ".shop.svc.cluster.local", path, GatewayChain.headers("x-api-key", key, clientHeaders));
    }

    @Override
    public void close() {
        pipeline.close();
    }
}
