package io.meshguard.authz.jwt;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSetCacheRefreshEvaluator;
import com.nimbusds.jose.jwk.source.JWKSetSource;
import com.nimbusds.jose.jwk.source.JWKSetUnavailableException;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.SecurityContext;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;

/**
 * Spaces one issuer's key-set fetches, between the cache and the IdP. A fetch that brought a key set counts against
 * the refetch budget: two per {@code jwks_refetch_min_interval} (a rotation needs one, so a flood of made-up
 * {@code kid}s costs the IdP nothing more); past it the key is not in a set fetched moments ago and the lookup is
 * refused as unknown. A fetch that brought nothing (the IdP down, its realm not created yet) does not count: the next
 * try waits {@link #FAILED_REFETCH} (the default of Envoy's jwt_authn {@code JwksAsyncFetch.failed_refetch_duration},
 * {@code api/envoy/extensions/filters/http/jwt_authn/v3/config.proto}), and lookups meanwhile are
 * refused as unavailable. So an IdP that comes up after extauthz verifies its first token within a second, where
 * nimbus's own limiter, counting the failures, refused that key as unknown for the whole interval.
 */
final class KeySetFetchLimit implements JWKSetSource<SecurityContext> {
    /** Least time between a fetch that failed and the next one. */
    static final Duration FAILED_REFETCH = Duration.ofSeconds(1);

    /** Fetches with a set that one interval allows; nimbus's {@code RateLimitedJWKSetSource} allows two as well. */
    private static final int FETCHES_PER_INTERVAL = 2;

    private final JWKSetSource<SecurityContext> delegate;
    private final JwksFetchLog log;
    private final long intervalMillis;
    private final long failedRefetchMillis;
    private final Counter overBudget;
    private final Counter backingOff;
    private long windowEnds = Long.MIN_VALUE;
    private int fetchesInWindow;
    private long failedUntil = Long.MIN_VALUE;

    KeySetFetchLimit(
            JWKSetSource<SecurityContext> delegate,
            String issuer,
            Duration interval,
            JwksFetchLog log,
            MeterRegistry registry) {
        this.delegate = delegate;
        this.log = log;
        this.intervalMillis = interval.toMillis();
        this.failedRefetchMillis = Math.min(FAILED_REFETCH.toMillis(), intervalMillis);
        this.overBudget = refused(issuer, "refetch_budget", registry);
        this.backingOff = refused(issuer, "after_failure", registry);
    }

    private static Counter refused(String issuer, String reason, MeterRegistry registry) {
        return Counter.builder("meshguard_authz_jwks_fetches_refused_total")
                .tag("issuer", issuer)
                .tag("reason", reason)
                .description("Key set fetches not made: the refetch budget spent, or too soon after a failed fetch")
                .register(registry);
    }

    @Override
    public JWKSet getJWKSet(JWKSetCacheRefreshEvaluator evaluator, long currentTime, SecurityContext context)
            throws KeySourceException {
        synchronized (this) {
            if (currentTime < failedUntil) {
                backingOff.increment();
                throw new JWKSetUnavailableException("key set fetch failed, next try in " + (failedUntil - currentTime)
                        + " ms: " + log.lastFailure());
            }
            if (currentTime >= windowEnds) {
                windowEnds = currentTime + intervalMillis;
                fetchesInWindow = 0;
            }
            if (fetchesInWindow >= FETCHES_PER_INTERVAL) {
                overBudget.increment();
                throw new RateLimitReachedException();
            }
            fetchesInWindow++;
        }
        try {
            return delegate.getJWKSet(evaluator, currentTime, context);
        } catch (KeySourceException | RuntimeException e) {
            synchronized (this) {
                fetchesInWindow--;
                // from the failure, not the call: a fetch that timed out must not be retried at once
                failedUntil = System.currentTimeMillis() + failedRefetchMillis;
            }
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
