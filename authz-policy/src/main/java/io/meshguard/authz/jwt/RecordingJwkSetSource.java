package io.meshguard.authz.jwt;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSetCacheRefreshEvaluator;
import com.nimbusds.jose.jwk.source.JWKSetSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.io.IOException;

/** The innermost key-set source: notes every key set actually parsed, so readiness means "usable keys seen". */
final class RecordingJwkSetSource implements JWKSetSource<SecurityContext> {
    private final JWKSetSource<SecurityContext> delegate;
    private final JwksFetchLog log;

    RecordingJwkSetSource(JWKSetSource<SecurityContext> delegate, JwksFetchLog log) {
        this.delegate = delegate;
        this.log = log;
    }

    @Override
    public JWKSet getJWKSet(JWKSetCacheRefreshEvaluator evaluator, long currentTime, SecurityContext context)
            throws KeySourceException {
        JWKSet set = delegate.getJWKSet(evaluator, currentTime, context);
        log.markKeySetRetrieved();
        return set;
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
