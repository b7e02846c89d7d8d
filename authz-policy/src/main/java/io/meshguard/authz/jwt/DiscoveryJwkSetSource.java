package io.meshguard.authz.jwt;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSetCacheRefreshEvaluator;
import com.nimbusds.jose.jwk.source.JWKSetSource;
import com.nimbusds.jose.jwk.source.URLBasedJWKSetSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jose.util.ResourceRetriever;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.util.Map;

/**
 * Finds the key set through an OIDC discovery document. The document is fetched until it succeeds once; its
 * {@code issuer} must equal the configured one (a document for another issuer is refused) and its
 * {@code jwks_uri} must be https (or http on loopback).
 */
final class DiscoveryJwkSetSource implements JWKSetSource<SecurityContext> {
    private final URL discovery;
    private final String expectedIssuer;
    private final ResourceRetriever retriever;
    private volatile URLBasedJWKSetSource<SecurityContext> resolved;

    DiscoveryJwkSetSource(URL discovery, String expectedIssuer, ResourceRetriever retriever) {
        this.discovery = discovery;
        this.expectedIssuer = expectedIssuer;
        this.retriever = retriever;
    }

    @Override
    public JWKSet getJWKSet(JWKSetCacheRefreshEvaluator evaluator, long currentTime, SecurityContext context)
            throws KeySourceException {
        return resolve().getJWKSet(evaluator, currentTime, context);
    }

    private URLBasedJWKSetSource<SecurityContext> resolve() throws KeySourceException {
        URLBasedJWKSetSource<SecurityContext> source = resolved;
        if (source != null) {
            return source;
        }
        try {
            Map<String, Object> doc =
                    JSONObjectUtils.parse(retriever.retrieveResource(discovery).getContent());
            String issuer = JSONObjectUtils.getString(doc, "issuer");
            if (!expectedIssuer.equals(issuer)) {
                throw new KeySourceException("discovery document at " + discovery + " is for issuer '" + issuer
                        + "', not '" + expectedIssuer + "'");
            }
            URI jwks = JSONObjectUtils.getURI(doc, "jwks_uri");
            if (jwks == null) {
                throw new KeySourceException("discovery document at " + discovery + " has no jwks_uri");
            }
            if (!io.meshguard.runtime.http.KeySetLocations.allowed(jwks)) {
                throw new KeySourceException(
                        "discovery document at " + discovery + " names a non-https jwks_uri " + jwks);
            }
            source = new URLBasedJWKSetSource<>(jwks.toURL(), retriever);
            resolved = source;
            return source;
        } catch (IOException | java.text.ParseException | IllegalArgumentException e) {
            throw new KeySourceException("OIDC discovery failed at " + discovery + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        URLBasedJWKSetSource<SecurityContext> source = resolved;
        if (source != null) {
            source.close();
        }
    }
}
