package io.meshguard.extauthz.exchange;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Exchanged tokens, by the SHA-256 of the caller's token, the audience and the scope asked for: a token is only ever
 * handed to the caller whose token it was exchanged for, for the audience it names. An entry is reused until its
 * {@link IssuedToken#reusableUntil} (shortly before its exp, never past the caller's token's), the cache holds at most
 * its bound, and a failed exchange is never kept. Concurrent misses of one key share one exchange, and nobody waits
 * holding a lock: the entry is the exchange's future, created under the map's bin lock and completed outside it.
 */
public final class ExchangedTokens {
    /** The key: never the caller's token itself. */
    public record Key(String tokenSha256, String audience, String scope) {
        public static Key of(String token, String audience, Optional<String> scope) {
            return new Key(sha256(token), audience, scope.orElse(""));
        }
    }

    /** A token and whether this lookup found it ready (no exchange made or waited for). */
    public record Lookup(CompletableFuture<IssuedToken> token, boolean cached) {}

    private final Optional<AsyncCache<Key, IssuedToken>> cache;
    private final Clock clock;

    /** @param maxEntries 0: no cache, every lookup exchanges */
    public ExchangedTokens(long maxEntries, Clock clock) {
        this.clock = clock;
        this.cache = maxEntries == 0
                ? Optional.empty()
                : Optional.of(Caffeine.newBuilder()
                        .maximumSize(maxEntries)
                        .expireAfter(new Expiry<Key, IssuedToken>() {
                            @Override
                            public long expireAfterCreate(Key key, IssuedToken value, long currentTime) {
                                return nanosLeft(value);
                            }

                            @Override
                            public long expireAfterUpdate(
                                    Key key, IssuedToken value, long currentTime, long currentDuration) {
                                return nanosLeft(value);
                            }

                            @Override
                            public long expireAfterRead(
                                    Key key, IssuedToken value, long currentTime, long currentDuration) {
                                return currentDuration;
                            }
                        })
                        .buildAsync());
    }

    private long nanosLeft(IssuedToken value) {
        Duration left = Duration.between(clock.instant(), value.reusableUntil());
        return left.isNegative() ? 0 : left.toNanos();
    }

    /**
     * The token for {@code key}: one still reusable now, else the one exchange {@code exchange} makes (joined by every
     * concurrent lookup of the key).
     */
    public Lookup get(Key key, Function<Key, CompletableFuture<IssuedToken>> exchange) {
        if (cache.isEmpty()) {
            return new Lookup(exchange.apply(key), false);
        }
        AsyncCache<Key, IssuedToken> c = cache.get();
        CompletableFuture<IssuedToken> present = c.getIfPresent(key);
        if (present != null && present.isCompletedExceptionally()) {
            // failed: the cache drops it on completion; a lookup racing that drop must not join the failure
            c.asMap().remove(key, present);
        } else if (present != null && present.isDone()) {
            IssuedToken t = present.join();
            if (clock.instant().isBefore(t.reusableUntil())) {
                return new Lookup(present, true);
            }
            // past its reuse time but not yet evicted (the clock moved faster than the cache's ticker)
            c.asMap().remove(key, present);
        }
        // the mapping runs under the map's bin lock: it only schedules the exchange, which starts on the executor
        return new Lookup(
                c.get(key, (k, executor) -> CompletableFuture.supplyAsync(() -> k, executor)
                        .thenCompose(exchange)),
                false);
    }

    /** Entries held now (tests and the gauge). */
    public long size() {
        return cache.map(c -> c.synchronous().estimatedSize()).orElse(0L);
    }

    /** Runs pending evictions (tests, so that {@link #size} is exact). */
    void cleanUp() {
        cache.ifPresent(c -> c.synchronous().cleanUp());
    }

    private static String sha256(String token) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            String hex = HexFormat.of().formatHex(digest);
            Arrays.fill(digest, (byte) 0);
            return hex;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
