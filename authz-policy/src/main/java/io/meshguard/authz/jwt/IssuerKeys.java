package io.meshguard.authz.jwt;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.JWKSetBasedJWKSource;
import com.nimbusds.jose.jwk.source.JWKSetCacheRefreshEvaluator;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.util.List;

/**
 * One issuer's verification keys. Built either on a remote key set (cached, refreshed ahead of expiry, refetched
 * on unknown {@code kid} at a limited rate, kept through outages up to a bound) or on a local file.
 */
public final class IssuerKeys implements AutoCloseable {
    private final String issuerName;
    private final JWKSource<SecurityContext> source;
    private final JwksFetchLog fetchLog;

    IssuerKeys(String issuerName, JWKSource<SecurityContext> source, JwksFetchLog fetchLog) {
        this.issuerName = issuerName;
        this.source = source;
        this.fetchLog = fetchLog;
    }

    public String issuerName() {
        return issuerName;
    }

    /** Keys matching the selector; may fetch. Throws when no key set could ever be had (or the last one is too old). */
    public List<JWK> keys(JWKSelector selector) throws KeySourceException {
        return source.get(selector, null);
    }

    /**
     * Fetches the key set if none is cached, without looking a key up in it: a lookup that matches nothing (a realm
     * before its first key) refetches at once and spends the refetch budget.
     */
    public void warm() throws KeySourceException {
        if (source instanceof JWKSetBasedJWKSource<SecurityContext> remote) {
            remote.getJWKSetSource()
                    .getJWKSet(JWKSetCacheRefreshEvaluator.noRefresh(), System.currentTimeMillis(), null);
        }
    }

    /** True once a key set has been fetched (or the keys are local): before that every token of this issuer is denied. */
    public boolean ready() {
        return fetchLog.everSucceeded();
    }

    /** Last fetch failure, for readiness output. */
    public String lastFailure() {
        return fetchLog.lastFailure();
    }

    @Override
    public void close() {
        if (source instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing a cache releases its refresh threads; nothing to report
            }
        }
    }
}
