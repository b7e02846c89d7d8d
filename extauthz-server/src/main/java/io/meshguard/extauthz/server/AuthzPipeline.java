package io.meshguard.extauthz.server;

import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.decision.AuthzEngine;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.IssuerKeys;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.jwt.JwtAuthenticator;
import io.meshguard.authz.jwt.TokenCache;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.ratelimit.RateLimiter;
import io.meshguard.authz.replay.KeptFacts;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.subscription.SubscriptionGate;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The decision pipeline the server, {@code meshguard authz check} and {@code meshguard policy test} share: holds the
 * engine of the running policy and swaps it whole on reload (a Check in flight finishes on the engine it started
 * with). Before any policy is loaded every request is denied.
 */
public final class AuthzPipeline implements AutoCloseable {
    private final JwksRegistry jwks;
    private final Optional<ApiKeyAuthenticator> apiKeys;
    private final RateLimiter limiter;
    private final SecretFiles secrets;
    private final Clock clock;
    private final MeterRegistry registry;
    private final long tokenCacheEntries;
    private final Duration tokenCacheMaxTtl;
    private final QuotaGate quotas;
    private final SubscriptionGate subscriptions;
    private final AtomicReference<AuthzEngine> engine = new AtomicReference<>();
    /** What the audit keeps of each request for replay, derived from the running policy (swapped with the engine). */
    private final AtomicReference<Running> running = new AtomicReference<>();

    /** The running engine and the facts its decisions keep, swapped together. */
    private record Running(AuthzEngine engine, KeptFacts kept) {}

    /**
     * A decision and the facts its audit row keeps for replay (empty before any policy is loaded).
     *
     * @param kept derived from the policy the decision was made on, never from one loaded meanwhile
     * @param policy the policy the decision was made on (what is done after an allow reads its route from it)
     */
    public record Recorded(Decision decision, Optional<KeptFacts> kept, Optional<AuthzPolicy> policy) {}

    public AuthzPipeline(
            JwksRegistry jwks,
            Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter,
            SecretFiles secrets,
            Clock clock,
            MeterRegistry registry,
            long tokenCacheEntries,
            Duration tokenCacheMaxTtl) {
        this(jwks, apiKeys, limiter, secrets, clock, registry, tokenCacheEntries, tokenCacheMaxTtl, QuotaGate.NONE);
    }

    /** @param quotas where the running policy's calendar quotas are counted */
    public AuthzPipeline(
            JwksRegistry jwks,
            Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter,
            SecretFiles secrets,
            Clock clock,
            MeterRegistry registry,
            long tokenCacheEntries,
            Duration tokenCacheMaxTtl,
            QuotaGate quotas) {
        this(
                jwks,
                apiKeys,
                limiter,
                secrets,
                clock,
                registry,
                tokenCacheEntries,
                tokenCacheMaxTtl,
                quotas,
                SubscriptionGate.NONE);
    }

    /** @param subscriptions what product routes are decided from (the controller's pushed subscription state) */
    public AuthzPipeline(
            JwksRegistry jwks,
            Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter,
            SecretFiles secrets,
            Clock clock,
            MeterRegistry registry,
            long tokenCacheEntries,
            Duration tokenCacheMaxTtl,
            QuotaGate quotas,
            SubscriptionGate subscriptions) {
        this.subscriptions = subscriptions;
        // a Check Envoy cancelled (the client reset) is still decided, but charges no calendar quota
        this.quotas = ChargesUnlessCancelled.of(quotas);
        this.jwks = jwks;
        this.apiKeys = apiKeys;
        // a Check Envoy cancelled before its answer was sent gives back the rate-limit tokens it took
        this.limiter = TokensBackIfCancelled.of(limiter);
        this.secrets = secrets;
        this.clock = clock;
        this.registry = registry;
        this.tokenCacheEntries = tokenCacheEntries;
        this.tokenCacheMaxTtl = tokenCacheMaxTtl;
    }

    /** Makes this policy the running one. */
    public void use(AuthzPolicy policy) {
        Map<String, IssuerKeys> keys = jwks.keysFor(policy.issuers());
        // a fresh token cache: claim mappings may have changed, so identities cached under the old policy are stale
        TokenCache cache = new TokenCache(tokenCacheEntries, tokenCacheMaxTtl, clock, registry);
        JwtAuthenticator jwt = new JwtAuthenticator(policy.issuers(), keys, cache, clock);
        AuthzEngine e = new AuthzEngine(policy, jwt, apiKeys, limiter, secrets, clock, quotas, subscriptions);
        running.set(new Running(e, KeptFacts.of(policy)));
        engine.set(e);
    }

    /** The limiter every engine of this pipeline uses (local buckets, or the store shared by all replicas). */
    public RateLimiter limiter() {
        return limiter;
    }

    public Optional<AuthzPolicy> policy() {
        return Optional.ofNullable(engine.get()).map(AuthzEngine::policy);
    }

    public Decision decide(HttpRequestView request) {
        AuthzEngine current = engine.get();
        return current == null ? AuthzEngine.policyNotLoaded(request) : current.decide(request);
    }

    /** Decides, and says what the audit row keeps of the request for replay ({@link KeptFacts} of the same policy). */
    public Recorded decideRecorded(HttpRequestView request) {
        Running r = running.get();
        return r == null
                ? new Recorded(AuthzEngine.policyNotLoaded(request), Optional.empty(), Optional.empty())
                : new Recorded(
                        r.engine().decide(request),
                        Optional.of(r.kept()),
                        Optional.of(r.engine().policy()));
    }

    /** Issuers whose keys were never retrieved (their tokens are all denied), with the last error. */
    public List<String> issuersNotReady() {
        Optional<AuthzPolicy> p = policy();
        if (p.isEmpty()) {
            return List.of();
        }
        Map<String, IssuerKeys> keys = jwks.keysFor(p.get().issuers());
        return keys.values().stream()
                .filter(k -> !k.ready())
                .map(k -> k.issuerName() + " (" + k.lastFailure() + ")")
                .sorted()
                .toList();
    }

    /**
     * Fetches the keys of every issuer that has none yet, so readiness turns green before the first request. Issuers
     * with a key set are left alone: only a token's unknown {@code kid} should spend their refetch budget.
     */
    public void warmUp() {
        policy().ifPresent(p -> jwks.keysFor(p.issuers()).values().stream()
                .filter(k -> !k.ready())
                .forEach(k -> {
                    try {
                        k.warm();
                    } catch (com.nimbusds.jose.KeySourceException e) {
                        // stays not ready; readiness reports it and the next warm-up or request retries
                    }
                }));
    }

    @Override
    public void close() {
        jwks.close();
    }
}
