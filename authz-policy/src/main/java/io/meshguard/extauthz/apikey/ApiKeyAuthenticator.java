package io.meshguard.extauthz.apikey;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.meshguard.extauthz.decision.AuthResult;
import io.meshguard.extauthz.decision.Identity;
import io.meshguard.extauthz.decision.Reason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Checks presented API keys against the store. Records are cached for {@code recordTtl} (also "no such key"
 * answers, so random keys cannot flood the database); a revocation drops them at once ({@link #invalidate} on the
 * replica that revoked, {@link ApiKeyRevocations} on every replica), the TTL is only the net under a lost notice. Uses
 * are counted in memory and written by {@link #flushUsage()}.
 */
public final class ApiKeyAuthenticator {
    private final ApiKeyStore store;
    private final Clock clock;
    private final Cache<String, Optional<ApiKeyStore.Stored>> records;
    private final Map<String, Uses> uses = new ConcurrentHashMap<>();

    /** One key's uses not yet written: how many, and when the newest was (epoch millis). */
    private static final class Uses {
        final LongAdder count = new LongAdder();
        final java.util.concurrent.atomic.AtomicLong newestMillis = new java.util.concurrent.atomic.AtomicLong();

        void add(long n, long atMillis) {
            count.add(n);
            newestMillis.accumulateAndGet(atMillis, Math::max);
        }
    }

    public ApiKeyAuthenticator(ApiKeyStore store, Clock clock, Duration recordTtl) {
        this.store = store;
        this.clock = clock;
        this.records = Caffeine.newBuilder()
                .maximumSize(100_000)
                .expireAfterWrite(recordTtl)
                .build();
    }

    public AuthResult authenticate(String presented) {
        Optional<ApiKeySecret.Parsed> parsed = ApiKeySecret.parse(presented.trim());
        if (parsed.isEmpty()) {
            return new AuthResult.Rejected(Reason.INVALID_API_KEY, "API key malformed");
        }
        Optional<ApiKeyStore.Stored> stored = records.getIfPresent(parsed.get().keyId());
        if (stored == null) {
            try {
                stored = store.find(parsed.get().keyId());
            } catch (ApiKeyStore.UnavailableException e) {
                return new AuthResult.Rejected(
                        Reason.API_KEY_STORE_UNAVAILABLE, "API keys cannot be checked right now");
            }
            records.put(parsed.get().keyId(), stored);
        }
        // compare even when the key id is unknown, against a fixed hash, so both paths cost the same
        byte[] expected = stored.map(ApiKeyStore.Stored::secretHash).orElse(UNKNOWN);
        boolean match = ApiKeySecret.matches(parsed.get().secretHash(), expected);
        if (stored.isEmpty() || !match) {
            return new AuthResult.Rejected(Reason.INVALID_API_KEY, "API key not valid");
        }
        ApiKey key = stored.get().key();
        Instant now = clock.instant();
        if (key.revoked(now)) {
            return new AuthResult.Rejected(Reason.API_KEY_REVOKED, "API key revoked");
        }
        if (key.expired(now)) {
            return new AuthResult.Rejected(Reason.API_KEY_EXPIRED, "API key expired");
        }
        uses.computeIfAbsent(key.keyId(), k -> new Uses()).add(1, now.toEpochMilli());
        return new AuthResult.Authenticated(
                new Identity(
                        key.owner(),
                        Optional.of(key.tenant()),
                        key.roles(),
                        key.scopes(),
                        Optional.of(key.keyId()),
                        "apikey",
                        "apikey",
                        key.ownTier(),
                        Optional.of(key.keyId())),
                false);
    }

    private static final byte[] UNKNOWN = new byte[32];

    /** Writes counted uses; on failure they are kept for the next flush. */
    public void flushUsage() {
        // last_used is when the newest use was authenticated, not when this flush runs
        Map<String, ApiKeyStore.Usage> batch = new HashMap<>();
        uses.forEach((id, u) -> {
            long n = u.count.sumThenReset();
            if (n > 0) {
                batch.put(id, new ApiKeyStore.Usage(n, Instant.ofEpochMilli(u.newestMillis.get())));
            }
        });
        try {
            store.addUsage(batch);
        } catch (ApiKeyStore.UnavailableException e) {
            batch.forEach((id, u) -> uses.computeIfAbsent(id, k -> new Uses())
                    .add(u.count(), u.lastUsed().toEpochMilli()));
        }
    }

    /** Forget cached records, e.g. right after a revocation made through this process. */
    public void invalidate(String keyId) {
        records.invalidate(keyId);
    }

    /** Forget every cached record: a key was revoked somewhere, or notices may have been lost. */
    public void invalidateAll() {
        records.invalidateAll();
    }
}
