package io.meshguard.authz.jwt;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.nimbusds.jose.jwk.JWK;
import io.meshguard.authz.request.Identity;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Verified tokens by SHA-256 of the token text, so a repeat check skips parsing and signature verification. Bounded
 * in size; an entry never outlives the token's {@code exp} (checked again on every read with the decision clock).
 * An entry also remembers the key that verified it: {@link JwtAuthenticator} uses it only while that key is still
 * trusted — still in the issuer's current key set, and that set still within {@code jwks_max_stale} — so a cached
 * verification never outlives the trust in its key. The token itself is never stored.
 */
public final class TokenCache {
    /** What a verified token proved, with which issuer's key, and until when. */
    record Entry(Identity identity, String issuerName, JWK key, Instant expiresAt) {}

    private final Cache<ByteBuffer, Entry> cache;
    private final boolean enabled;
    private final Clock clock;
    private final Counter hits;
    private final Counter misses;

    public TokenCache(long maxEntries, Duration maxTtl, Clock clock, MeterRegistry registry) {
        this.clock = clock;
        this.enabled = maxEntries > 0;
        this.cache = Caffeine.newBuilder()
                .maximumSize(maxEntries)
                .expireAfter(new Expiry<ByteBuffer, Entry>() {
                    @Override
                    public long expireAfterCreate(ByteBuffer key, Entry value, long currentTime) {
                        Duration left = Duration.between(clock.instant(), value.expiresAt());
                        return Math.max(0, Math.min(left.toNanos(), maxTtl.toNanos()));
                    }

                    @Override
                    public long expireAfterUpdate(ByteBuffer key, Entry value, long currentTime, long currentDuration) {
                        return expireAfterCreate(key, value, currentTime);
                    }

                    @Override
                    public long expireAfterRead(ByteBuffer key, Entry value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
        this.hits = Counter.builder("meshguard_authz_token_cache_requests_total")
                .tag("result", "hit")
                .description("Token cache lookups")
                .register(registry);
        this.misses = Counter.builder("meshguard_authz_token_cache_requests_total")
                .tag("result", "miss")
                .description("Token cache lookups")
                .register(registry);
    }

    static ByteBuffer key(String token) {
        return ByteBuffer.wrap(sha256().digest(token.getBytes(StandardCharsets.US_ASCII)));
    }

    /**
     * A fresh SHA-256 digest, cloned from one looked up once: {@code MessageDigest.getInstance} walks the security
     * providers on every call (a quarter of the key's cost per Check); a clone copies a few words of state.
     */
    private static MessageDigest sha256() {
        try {
            return (MessageDigest) SHA256.clone();
        } catch (CloneNotSupportedException e) {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException none) {
                throw new IllegalStateException("SHA-256 is part of every JDK", none);
            }
        }
    }

    private static final MessageDigest SHA256;

    static {
        try {
            SHA256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The unexpired entry; the caller still checks that its key is trusted, then counts a hit or a miss. */
    Optional<Entry> get(ByteBuffer key) {
        Entry e = cache.getIfPresent(key);
        if (e == null || !e.expiresAt().isAfter(clock.instant())) {
            return Optional.empty();
        }
        return Optional.of(e);
    }

    void hit() {
        hits.increment();
    }

    void miss() {
        misses.increment();
    }

    /** Drops an entry whose key is no longer trusted (rotated out of the key set, or the set too stale). */
    void evict(ByteBuffer key) {
        cache.invalidate(key);
    }

    void put(ByteBuffer key, Identity identity, String issuerName, JWK jwk, Instant expiresAt) {
        if (enabled && expiresAt.isAfter(clock.instant())) {
            cache.put(key, new Entry(identity, issuerName, jwk, expiresAt));
        }
    }

    public long size() {
        cache.cleanUp();
        return cache.estimatedSize();
    }

    public void clear() {
        cache.invalidateAll();
    }
}
