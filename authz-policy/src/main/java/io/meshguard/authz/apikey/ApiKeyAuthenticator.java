package io.meshguard.authz.apikey;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.meshguard.authz.ratelimit.Gcra;
import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.Reason;
import io.meshguard.catalogmodel.apikey.ApiKey;
import io.meshguard.catalogmodel.apikey.ApiKeyIds;
import io.meshguard.catalogmodel.apikey.ApiKeySecret;
import io.meshguard.catalogmodel.apikey.ApiKeyStore;
import io.meshguard.catalogmodel.apikey.CachedApiKeys;
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
 * revocation drops them at once ({@link #invalidate} on the replica that revoked, catalog's {@code ApiKeyNotices} on every
 * replica), the TTL is only the net under a lost notice. A made-up key is a new id each time, so no cache holds it
 * back: an id the replica's {@link ApiKeyIds} does not know is read from the store only within a budget of reads per
 * second (a key created a moment ago, before its notice arrived, still gets in) and refused unread beyond it. A key id
 * presented with a wrong secret {@link WrongSecrets#limit} times from one source is refused for that source, unread and
 * unchecked, until {@link WrongSecrets#window} has passed since its last wrong secret: guessing at a known id costs the
 * store nothing and gets no answer, and other sources keep using the key. Uses are counted in memory and written by
 * {@link #flushUsage()}.
 */
public final class ApiKeyAuthenticator implements CachedApiKeys {
    private final ApiKeyStore store;
    private final Clock clock;
    private final Cache<String, Optional<ApiKeyStore.Stored>> records;
    private final Map<String, Uses> uses = new ConcurrentHashMap<>();
    private final ApiKeyIds ids;
    private final ReadBudget unlistedReads;
    private final LongAdder unlistedRead = new LongAdder();
    private final LongAdder unlistedRefused = new LongAdder();
    private final WrongSecrets wrongSecrets;
    /** Wrong secrets per key id and source ({@link #sourceKey}), each entry gone {@code window} after its last. */
    private final Cache<String, AtomicLong> wrongBySource;

    private final LongAdder wrongCounted = new LongAdder();
    private final LongAdder wrongRefused = new LongAdder();
    private final LongAdder confirmedDropped = new LongAdder();

    /**
     * How many wrong secrets one source may present for one key id ({@code limit}) before that id is refused for it,
     * and for how long after the last one ({@code window}).
     */
    public record WrongSecrets(long limit, Duration window) {
        /** 10 wrong secrets, then refused for 15 minutes. */
        public static final WrongSecrets DEFAULTS = new WrongSecrets(10, Duration.ofMinutes(15));

        public WrongSecrets {
            if (limit < 1 || window.isNegative() || window.isZero()) {
                throw new IllegalArgumentException("wrong-secret limit must be at least 1 and its window positive");
            }
        }
    }

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

    /** As below, with the default wrong-secret budget ({@link WrongSecrets#DEFAULTS}). */
    public ApiKeyAuthenticator(
            ApiKeyStore store,
            Clock clock,
            Duration recordTtl,
            ApiKeyIds ids,
            long unlistedReadsPerSecond,
            LongSupplier nanoTime) {
        this(store, clock, recordTtl, ids, unlistedReadsPerSecond, WrongSecrets.DEFAULTS, nanoTime);
    }

    /**
     * @param ids the key ids this replica knows exist
     * @param unlistedReadsPerSecond store reads a second, on average with a burst of as many, for presented ids
     *     {@code ids} does not know; 0 reads none of them
     * @param wrongSecrets how many wrong secrets for one key id one source may present, and for how long it is then
     *     refused
     * @param nanoTime the clock of those budgets
     */
    public ApiKeyAuthenticator(
            ApiKeyStore store,
            Clock clock,
            Duration recordTtl,
            ApiKeyIds ids,
            long unlistedReadsPerSecond,
            WrongSecrets wrongSecrets,
            LongSupplier nanoTime) {
        this.store = store;
        this.wrongSecrets = wrongSecrets;
        this.wrongBySource = Caffeine.newBuilder()
                .maximumSize(100_000)
                .expireAfterWrite(wrongSecrets.window())
                .ticker(nanoTime::getAsLong)
                .build();
        this.clock = clock;
        this.ids = ids;
        this.unlistedReads = new ReadBudget(unlistedReadsPerSecond, nanoTime);
        this.records = Caffeine.newBuilder()
                .maximumSize(100_000)
                .expireAfterWrite(recordTtl)
                .build();
    }

    /** {@link #authenticate(String, String)} for a caller whose source is not known (all such share one budget). */
    public AuthResult authenticate(String presented) {
        return authenticate(presented, "");
    }

    /**
     * @param source who presents the key (the client address), for the wrong-secret budget; empty when not known
     */
    public AuthResult authenticate(String presented, String source) {
        Optional<ApiKeySecret.Parsed> parsed = ApiKeySecret.parse(presented.trim());
        if (parsed.isEmpty()) {
            return new AuthResult.Rejected(Reason.INVALID_API_KEY, "API key malformed");
        }
        String guessKey = sourceKey(parsed.get().keyId(), source);
        AtomicLong wrong = wrongBySource.getIfPresent(guessKey);
        if (wrong != null && wrong.get() >= wrongSecrets.limit()) {
            // the same answer as a wrong secret: whether the secret was right this time is not said either
            wrongRefused.increment();
            return new AuthResult.Rejected(Reason.INVALID_API_KEY, "API key not valid");
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
            if (stored.isPresent()) {
                wrongCounted.increment();
                // re-put on every wrong secret: the window runs from the last one
                wrongBySource.asMap().merge(guessKey, new AtomicLong(1), (a, b) -> new AtomicLong(a.get() + 1));
            }
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

    /** One key id and one source, as the wrong-secret budget counts them (a key id is always 16 characters). */
    private static String sourceKey(String keyId, String source) {
        return keyId + source;
    }

    /** Wrong secrets presented for stored keys (each counted against its key id and source). */
    public long wrongSecretsCounted() {
        return wrongCounted.sum();
    }

    /** Presentations refused unread because their source spent its wrong secrets for that key id. */
    public long wrongSecretsRefused() {
        return wrongRefused.sum();
    }

    /** Cached records dropped because the store no longer agreed with them ({@link #confirmAll}). */
    public long confirmedDropped() {
        return confirmedDropped.sum();
    }

    /** Forget cached records, e.g. right after a revocation made through this process. */
    public void invalidate(String keyId) {
        records.invalidate(keyId);
    }

    /** Forget every cached record: a key was revoked somewhere, or notices may have been lost. */
    public void invalidateAll() {
        records.invalidateAll();
    }

    @Override
    public void drop(String keyId) {
        invalidate(keyId);
    }

    @Override
    public void dropAll() {
        invalidateAll();
    }

    /**
     * Reads the cached keys in one query and drops each record the store no longer agrees with: a key revoked, its
     * end moved, its secret changed or deleted, or a "no such key" answer for a key that now exists. When the store
     * cannot answer every record goes (the safe side: nothing unconfirmed is kept).
     */
    @Override
    public void confirmAll() {
        Map<String, Optional<ApiKeyStore.Stored>> cached = Map.copyOf(records.asMap());
        if (cached.isEmpty()) {
            return;
        }
        Map<String, ApiKeyStore.Stored> current;
        try {
            current = store.findAll(cached.keySet());
        } catch (ApiKeyStore.UnavailableException e) {
            records.invalidateAll();
            return;
        }
        cached.forEach((keyId, was) -> {
            Optional<ApiKeyStore.Stored> now = Optional.ofNullable(current.get(keyId));
            if (!sameGrant(was, now)) {
                confirmedDropped.increment();
                records.asMap().remove(keyId, was);
            }
        });
    }

    /** The same answer to a presented key: both absent, or the same secret, end and revocation. */
    private static boolean sameGrant(Optional<ApiKeyStore.Stored> a, Optional<ApiKeyStore.Stored> b) {
        if (a.isEmpty() || b.isEmpty()) {
            return a.isEmpty() && b.isEmpty();
        }
        ApiKey x = a.get().key();
        ApiKey y = b.get().key();
        return java.util.Arrays.equals(a.get().secretHash(), b.get().secretHash())
                && x.expiresAt().equals(y.expiresAt())
                && x.revokedAt().equals(y.revokedAt())
                && x.tenant().equals(y.tenant())
                && x.owner().equals(y.owner())
                && x.roles().equals(y.roles())
                && x.scopes().equals(y.scopes())
                && x.tier().equals(y.tier());
    }
}
