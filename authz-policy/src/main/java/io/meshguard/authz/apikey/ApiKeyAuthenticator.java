package io.meshguard.authz.apikey;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.meshguard.authz.decision.AuthResult;
import io.meshguard.authz.decision.Identity;
import io.meshguard.authz.decision.Reason;
import io.meshguard.authz.ratelimit.Gcra;
import io.meshguard.catalog.apikey.ApiKey;
import io.meshguard.catalog.apikey.ApiKeyIds;
import io.meshguard.catalog.apikey.ApiKeyNotices;
import io.meshguard.catalog.apikey.ApiKeySecret;
import io.meshguard.catalog.apikey.ApiKeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Checks presented API keys against the store. Records are cached for {@code recordTtl}, "no such key" answers too; a
 * revocation drops them at once ({@link #invalidate} on the replica that revoked, {@link ApiKeyNotices} on every
 * replica), the TTL is only the net under a lost notice. A made-up key is a new id each time, so no cache holds it
 * back: an id the replica's {@link ApiKeyIds} does not know is read from the store only within a budget of reads per
 * second (a key created a moment ago, before its notice arrived, still gets in) and refused unread beyond it. Uses
 * are counted in memory and written by {@link #flushUsage()}.
 */
public final class ApiKeyAuthenticator {
    private final ApiKeyStore store;
    private final Clock clock;
    private final Cache<String, Optional<ApiKeyStore.Stored>> records;
    private final Map<String, Uses> uses = new ConcurrentHashMap<>();
    private final ApiKeyIds ids;
    private final ReadBudget unlistedReads;
    private final LongAdder unlistedRead = new LongAdder();
    private final LongAdder unlistedRefused = new LongAdder();

    /** One key's uses not yet written: how many, and when the newest was (epoch millis). */
    private static final class Uses {
        final LongAdder count = new LongAdder();
        final AtomicLong newestMillis = new AtomicLong();

        void add(long n, long atMillis) {
            count.add(n);
            newestMillis.accumulateAndGet(atMillis, Math::max);
        }
    }

    /** Every unknown id read from the store: for a store that is not followed ({@link ApiKeyIds#UNKNOWN}). */
    public ApiKeyAuthenticator(ApiKeyStore store, Clock clock, Duration recordTtl) {
        this(store, clock, recordTtl, ApiKeyIds.UNKNOWN, 0, System::nanoTime);
    }

    /**
     * @param ids the key ids this replica knows exist
     * @param unlistedReadsPerSecond store reads a second, on average with a burst of as many, for presented ids
     *     {@code ids} does not know; 0 reads none of them
     * @param nanoTime the clock of that budget
     */
    public ApiKeyAuthenticator(
            ApiKeyStore store,
            Clock clock,
            Duration recordTtl,
            ApiKeyIds ids,
            long unlistedReadsPerSecond,
            LongSupplier nanoTime) {
        this.store = store;
        this.clock = clock;
        this.ids = ids;
        this.unlistedReads = new ReadBudget(unlistedReadsPerSecond, nanoTime);
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
        if (stored == null && !ids.mayExist(parsed.get().keyId())) {
            if (unlistedReads.take()) {
                unlistedRead.increment();
            } else {
                // not cached: the id may be a key whose notice is on its way, read again once the budget allows
                unlistedRefused.increment();
                stored = Optional.empty();
            }
        }
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

    /** Presented ids the replica did not know that were read from the store (within the budget). */
    public long unlistedRead() {
        return unlistedRead.sum();
    }

    /** Presented ids the replica did not know that were refused without a read (over the budget). */
    public long unlistedRefused() {
        return unlistedRefused.sum();
    }

    /** At most {@code perSecond} reads a second on average, with a burst of as many: {@link Gcra} in microseconds. */
    private static final class ReadBudget {
        private static final long SECOND_MICROS = 1_000_000L;
        private final long emission;
        private final LongSupplier nanoTime;
        private final AtomicLong tat = new AtomicLong(Long.MIN_VALUE);

        ReadBudget(long perSecond, LongSupplier nanoTime) {
            if (perSecond < 0) {
                throw new IllegalArgumentException("reads per second must not be negative: " + perSecond);
            }
            this.emission = perSecond == 0 ? 0 : Math.max(1, SECOND_MICROS / perSecond);
            this.nanoTime = nanoTime;
        }

        boolean take() {
            if (emission == 0) {
                return false;
            }
            long now = nanoTime.getAsLong() / 1_000;
            while (true) {
                long before = tat.get();
                Gcra.Step step = Gcra.step(before, now, emission, SECOND_MICROS);
                if (!step.allowed()) {
                    return false;
                }
                if (tat.compareAndSet(before, step.newTat())) {
                    return true;
                }
            }
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
