package io.meshguard.authz.jwt;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSetCacheRefreshEvaluator;
import com.nimbusds.jose.jwk.source.JWKSetSource;
import com.nimbusds.jose.jwk.source.URLBasedJWKSetSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.ResourceRetriever;
import io.meshguard.runtime.http.OidcDiscovery;
import java.io.IOException;
import java.net.URL;
import java.util.Map;

/**
 * Finds the key set through an OIDC discovery document, with the configured retriever (its TLS trust and size
 * limits). The document is fetched until it succeeds once and is read by {@link OidcDiscovery}'s rules: its
 * {@code issuer} must equal the configured one and its {@code jwks_uri} must be https (or http on loopback).
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
            Map<String, Object> doc = OidcDiscovery.ofIssuer(
                    expectedIssuer,
                    OidcDiscovery.parse(retriever.retrieveResource(discovery).getContent()));
            source = new URLBasedJWKSetSource<>(OidcDiscovery.jwksUri(doc).toURL(), retriever);
            resolved = source;
            return source;
        } catch (IOException | IllegalArgumentException e) {
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
