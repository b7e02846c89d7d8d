package io.meshguard.authz.jwt;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSetBasedJWKSource;
import com.nimbusds.jose.jwk.source.JWKSetSource;
import com.nimbusds.jose.jwk.source.OutageTolerantJWKSetSource;
import com.nimbusds.jose.jwk.source.RefreshAheadCachingJWKSetSource;
import com.nimbusds.jose.jwk.source.RetryingJWKSetSource;
import com.nimbusds.jose.jwk.source.URLBasedJWKSetSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import io.meshguard.authz.policy.IssuerPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.MalformedURLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLSocketFactory;

/**
 * Holds one {@link IssuerKeys} per issuer and keeps it across policy reloads when the issuer's key settings did
 * not change, so a reload does not throw away fetched key sets.
 */
public final class JwksRegistry implements AutoCloseable {
    /** What makes two issuer configs share one key cache. */
    private record KeySettings(
            String name,
            String issuer,
            Optional<java.net.URI> jwks,
            Optional<java.net.URI> discovery,
            Duration ttl,
            Duration stale,
            Duration refetch) {
        static KeySettings of(IssuerPolicy p) {
            return new KeySettings(
                    p.name(),
                    p.issuer(),
                    p.jwksUri(),
                    p.discoveryUri(),
                    p.jwksCacheTtl(),
                    p.jwksMaxStale(),
                    p.jwksRefetchMinInterval());
        }
    }

    private final MeterRegistry registry;
    private final Map<String, JWKSet> localKeySets;
    private final Duration httpTimeout;
    private final Optional<SSLSocketFactory> tls;
    private final Map<KeySettings, IssuerKeys> keys = new HashMap<>();

    /**
     * @param localKeySets issuer name to a key set that replaces its remote one ({@code --jwks NAME=FILE})
     */
    public JwksRegistry(MeterRegistry registry, Map<String, JWKSet> localKeySets, Duration httpTimeout) {
        this(registry, localKeySets, httpTimeout, Optional.empty());
    }

    /**
     * @param tls the TLS trust of key set and discovery fetches ({@link io.meshguard.runtime.http.IdpTrust}); empty: the JDK trust store
     */
    public JwksRegistry(
            MeterRegistry registry,
            Map<String, JWKSet> localKeySets,
            Duration httpTimeout,
            Optional<SSLSocketFactory> tls) {
        this.registry = registry;
        this.localKeySets = Map.copyOf(localKeySets);
        this.httpTimeout = httpTimeout;
        this.tls = tls;
    }

    /** Key sources for these issuers; sources of issuers no longer listed are closed. */
    public synchronized Map<String, IssuerKeys> keysFor(List<IssuerPolicy> issuers) {
        Map<String, IssuerKeys> out = new HashMap<>();
        Set<KeySettings> wanted = issuers.stream().map(KeySettings::of).collect(Collectors.toSet());
        keys.entrySet().removeIf(e -> {
            if (!wanted.contains(e.getKey())) {
                e.getValue().close();
                return true;
            }
            return false;
        });
        for (IssuerPolicy issuer : issuers) {
            out.put(issuer.name(), keys.computeIfAbsent(KeySettings.of(issuer), k -> build(issuer)));
        }
        return out;
    }

    /** Every issuer currently known, for readiness. */
    public synchronized List<IssuerKeys> all() {
        return List.copyOf(keys.values());
    }

    private IssuerKeys build(IssuerPolicy issuer) {
        JWKSet local = localKeySets.get(issuer.name());
        if (local != null) {
            return new IssuerKeys(issuer.name(), new ImmutableJWKSet<>(local), JwksFetchLog.local());
        }
        int timeoutMs = (int) httpTimeout.toMillis();
        JwksFetchLog log = new JwksFetchLog(
                issuer.name(),
                new DefaultResourceRetriever(timeoutMs, timeoutMs, 256 * 1024, true, tls.orElse(null)),
                registry);
        JWKSetSource<SecurityContext> remote;
        try {
            remote = issuer.jwksUri().isPresent()
                    ? new URLBasedJWKSetSource<>(issuer.jwksUri().get().toURL(), log)
                    : new DiscoveryJwkSetSource(
                            issuer.discoveryUri().orElseThrow().toURL(), issuer.issuer(), log);
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("issuer " + issuer.name() + ": bad key set URL", e);
        }
        long ttl = issuer.jwksCacheTtl().toMillis();
        // nimbus requires refresh-ahead + refresh timeout <= TTL; keep both well inside it
        long refreshTimeout = Math.max(100, Math.min(timeoutMs * 3L, ttl / 2));
        long ahead = Math.max(1, Math.min(30_000, Math.min(ttl / 5, ttl - refreshTimeout)));
        // nimbus's parts, chained by hand so the fetch limit is ours (KeySetFetchLimit: failed fetches do not spend
        // the unknown-kid budget): retry a failed fetch once, keep the last good set for jwks_max_stale while the IdP
        // is down, refresh ahead of expiry (scheduled, so an idle issuer stays fresh)
        JWKSetSource<SecurityContext> outageTolerant = new OutageTolerantJWKSetSource<>(
                new RetryingJWKSetSource<>(new RecordingJwkSetSource(remote, log), null),
                issuer.jwksMaxStale().toMillis(),
                null);
        JWKSetSource<SecurityContext> limited =
                new KeySetFetchLimit(outageTolerant, issuer.name(), issuer.jwksRefetchMinInterval(), log, registry);
        JWKSetSource<SecurityContext> cached =
                new RefreshAheadCachingJWKSetSource<>(limited, ttl, refreshTimeout, ahead, true, null);
        return new IssuerKeys(issuer.name(), new JWKSetBasedJWKSource<>(cached), log);
    }

    @Override
    public synchronized void close() {
        keys.values().forEach(IssuerKeys::close);
        keys.clear();
    }
}
