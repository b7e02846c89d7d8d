package io.meshguard.extauthz.quota;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.CallerTier;
import io.meshguard.authz.policy.QuotaPolicy;
import io.meshguard.authz.policy.RateLimitPolicy;
import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.quota.QuotaVerdict;
import io.meshguard.authz.quota.QuotaWindow;
import io.meshguard.authz.request.Identity;
import io.meshguard.extauthz.redis.RedisConnection;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts requests against calendar quotas across replicas.
 *
 * <ul>
 *   <li>With Redis: the live count is a Redis counter per quota, caller and period ({@link LiveCounters}, one script
 *       per Check), seeded from PostgreSQL when missing (first use, FLUSHALL, restart).</li>
 *   <li>Every counted request is also a pending increment here, written to PostgreSQL by {@link #flush()} (at least
 *       once a second) as {@code used = used + n}: the durable count never depends on Redis.</li>
 *   <li>Without Redis configured, a replica counts against the last total PostgreSQL returned plus its own pending
 *       increments. Other replicas' requests show up within one flush, so N replicas may together pass a limit by
 *       what they admit in about one flush interval.</li>
 *   <li>With Redis configured but away (an error, a call slower than its timeout, disconnected), an
 *       {@code allow_and_flag} quota counts as without Redis. A {@code block} quota on a deployment of more than one
 *       replica spends only this replica's share of what was left: once every replica has flushed what Redis counted
 *       ({@code settle} after Redis went away), it reads the durable total K and admits at most
 *       {@code (limit - K) / replicas} for the rest of the outage; before that, or without a durable total, it refuses
 *       with 503 {@code quota_unavailable}. The shares add up to at most what was left, so the replicas together never
 *       pass the limit.</li>
 *   <li>With both stores away, a caller whose count this replica knows keeps being counted locally; one it has never
 *       seen is refused with 503 by a {@code block} quota (fail closed) and allowed by an {@code allow_and_flag}
 *       quota.</li>
 * </ul>
 * Increments are never dropped silently: while PostgreSQL is away they stay pending (at most {@code maxCounters}
 * counters; beyond that a new counter's increments are counted in {@code meshguard_quota_dropped_total} and logged).
 */
public final class QuotaCounter implements QuotaGate {
    private static final Logger LOG = LoggerFactory.getLogger(QuotaCounter.class);
    /** Redis keys outlive their period by this much, so a clock a little behind still finds the counter. */
    private static final Duration KEY_GRACE = Duration.ofHours(1);

    /**
     * @param redisRetry how long Redis is skipped after it failed a call (the Checks meanwhile count locally)
     * @param maxCounters counters (quota, caller, period) held in memory, pending ones included
     * @param maxPendingAlerts alerts kept while PostgreSQL is away
     * @param localRefresh counting without Redis, a durable total older than this is read again (other replicas'
     *     requests reach it within their flush interval)
     * @param dbReadTimeout the longest a Check waits for PostgreSQL to say where a counter stands (seeding Redis,
     *     counting locally); past it the count is unknown for this Check and the read goes on in the background
     * @param settle with Redis away, how long until PostgreSQL holds what every replica counted in Redis (at least
     *     two flush intervals): a blocking quota on several replicas refuses until then
     */
    public record Settings(
            Duration redisRetry,
            int maxCounters,
            int maxPendingAlerts,
            Duration localRefresh,
            Duration dbReadTimeout,
            Duration settle) {
        public static final Settings DEFAULTS = new Settings(
                Duration.ofSeconds(1),
                200_000,
                10_000,
                Duration.ofSeconds(1),
                Duration.ofMillis(100),
                Duration.ofSeconds(1));
    }

    /** Which store decided a Check's quotas: the label {@code path} of {@code meshguard_quota_decisions_total}. */
    enum Path {
        /** Redis counted (every replica's requests). */
        REDIS,
        /** This replica's count from PostgreSQL's total plus its own increments (no Redis, or Redis away for a quota
         * that does not block, or one replica, or PostgreSQL unable to seed Redis). */
        LOCAL,
        /** Redis away, a blocking quota on several replicas: this replica's share of what was left. */
        SHARE,
        /** Redis away and no share known yet (or spent): refused with 503 {@code quota_unavailable}. */
        UNAVAILABLE
    }

    /** One counter's local state; every field is guarded by the tally's monitor. */
    private static final class Tally {
        final QuotaKey key;
        final String period;
        final Instant periodEnd;
        /** The durable total PostgreSQL last returned; -1 while unknown. */
        long base = -1;
        /** nanoTime when {@code base} was read. */
        long baseAt;
        /** Counted here, not yet sent to PostgreSQL. */
        long pending;
        /** Sent to PostgreSQL by the flush under way. */
        long inflight;
        /** Counted here while Redis was away, not yet added to the Redis counter. */
        long owed;
        /** The Redis outage ({@link #awayEpisode}) whose share is below; 0 for none. */
        long shareEpisode;
        /** The share's ground: the total known when it was taken (durable plus this replica's unwritten). */
        long shareFrom;
        /** Requests this replica may admit during that outage, and how many it has. */
        long share;
        /**
         * The highest count Redis answered for this counter: what every replica had counted by then, so a floor of
         * the count while Redis is away (counts only grow within a period).
         */
        long liveSeen = -1;

        long shareSpent;
        final Set<Integer> alerted = new HashSet<>(4);

        Tally(QuotaKey key, String period, Instant periodEnd) {
            this.key = key;
            this.period = period;
            this.periodEnd = periodEnd;
        }

        boolean clean() {
            return pending == 0 && inflight == 0 && owed == 0;
        }
    }

    private record Item(QuotaPolicy quota, long limit, QuotaWindow window, Tally tally) {
        boolean block() {
            return quota.onExceed() == QuotaPolicy.OnExceed.BLOCK;
        }
    }

    private record Alert(QuotaKey key, int threshold, long used, long limit) {}

    /** The counts of one charge: after it when {@code counted}, as they stood when refused otherwise. */
    private record Charged(boolean counted, long[] counts, int blockedIndex, boolean unavailable, Path path) {}

    /** {@link #chargeLive} could not reach Redis (as opposed to PostgreSQL being unable to seed it). */
    private static final Charged REDIS_AWAY = new Charged(false, new long[0], -1, true, Path.UNAVAILABLE);

    private static final long NOT_AWAY = 0;

    private final Optional<QuotaStore> store;
    private final Supplier<Optional<RedisConnection>> redis;
    private final LiveCounters live;
    private final QuotaAudit audit;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final Settings settings;
    private final QuotaMetrics metrics;
    private final IntSupplier replicas;
    private final ConcurrentHashMap<QuotaKey, Tally> tallies = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Alert> alerts = new ConcurrentLinkedQueue<>();
    private final Object flushLock = new Object();
    /** Where durable reads run, so the Check thread can stop waiting ({@link #readDurable}). */
    private final ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();
    /** nanoTime before which Redis is not tried (after an error). */
    private volatile long redisRetryAt;
    /** The current Redis outage, numbered from 1; {@link #NOT_AWAY} while Redis answers. */
    private volatile long awayEpisode = NOT_AWAY;

    private long episodes;
    /** nanoTime when the current outage began. */
    private volatile long awaySince;

    private volatile boolean storeUp = true;
    private volatile boolean redisFailedBefore;
    /** nanoTime of the last flush that left nothing pending; the lag gauge counts from there while something is. */
    private volatile long lastCleanFlush;

    /** Registers the meters of a newly loaded policy's quotas at zero (called on every policy load). */
    public void declare(AuthzPolicy policy) {
        policy.quotas().forEach(metrics::declare);
    }

    /** A counter on a deployment of one replica (tools, tests of one replica). */
    public QuotaCounter(
            Optional<QuotaStore> store,
            Supplier<Optional<RedisConnection>> redis,
            LiveCounters live,
            QuotaAudit audit,
            Clock clock,
            LongSupplier nanoTime,
            Settings settings,
            MeterRegistry registry) {
        this(store, redis, live, audit, clock, nanoTime, settings, registry, () -> 1);
    }

    /**
     * @param store PostgreSQL; empty: counts live only in Redis (or per replica without it) and do not survive restarts
     * @param redis the shared Redis connection while there is one
     * @param live the key layout and scripts (its key prefix is {@code redis.key_prefix})
     * @param replicas how many replicas share the quotas (the rate limiter's heartbeat count): a blocking quota's
     *     share while Redis is away divides by it
     */
    public QuotaCounter(
            Optional<QuotaStore> store,
            Supplier<Optional<RedisConnection>> redis,
            LiveCounters live,
            QuotaAudit audit,
            Clock clock,
            LongSupplier nanoTime,
            Settings settings,
            MeterRegistry registry,
            IntSupplier replicas) {
        this.replicas = replicas;
        this.store = store;
        this.redis = redis;
        this.live = live;
        this.audit = audit;
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.settings = settings;
        this.lastCleanFlush = nanoTime.getAsLong();
        this.redisRetryAt = lastCleanFlush;
        this.metrics = new QuotaMetrics(registry, this::flushLagSeconds, tallies::size, () -> redis.get()
                .map(c -> c.isOpen() ? 1.0 : 0.0)
                .orElse(Double.NaN));
    }

    public QuotaVerdict charge(AuthzPolicy policy, String route, Identity caller, Optional<String> requestedTier) {
        return charge(policy, route, caller, requestedTier, Set.of());
    }

    /**
     * As {@link #charge(AuthzPolicy, String, Identity, Optional)}, leaving out the quotas named in {@code alreadyCharged}
     * (those the trusted gateway charged for this very request).
     */
    @Override
    public QuotaVerdict charge(
            AuthzPolicy policy,
            String route,
            Identity caller,
            Optional<String> requestedTier,
            Set<String> alreadyCharged) {
        List<QuotaPolicy> quotas = policy.quotas();
        if (quotas.isEmpty()) {
            return QuotaVerdict.NONE;
        }
        Instant now = clock.instant();
        Map<String, String> tenantTiers =
                policy.rateLimits().map(RateLimitPolicy::tenantTiers).orElse(Map.of());
        List<Item> items = new ArrayList<>(quotas.size());
        for (QuotaPolicy q : quotas) {
            if (!q.covers(route) || alreadyCharged.contains(q.name())) {
                continue;
            }
            String tier =
                    CallerTier.resolve(requestedTier, caller, q.limits()::containsKey, tenantTiers, q.defaultTier());
            QuotaWindow window = QuotaWindow.of(q.period(), q.zone(), now);
            QuotaKey key = new QuotaKey(q.name(), QuotaCallers.of(q.per(), caller), window.start());
            items.add(new Item(q, q.limitFor(tier), window, tally(key, q, window)));
        }
        return chargeItems(items, now);
    }

    @Override
    public QuotaVerdict chargeSubscription(String caller, List<SubscriptionQuota> quotas) {
        Instant now = clock.instant();
        List<Item> items = new ArrayList<>(quotas.size());
        for (SubscriptionQuota sq : quotas) {
            io.meshguard.catalogmodel.CalendarQuota c = sq.quota();
            QuotaPolicy q = sq.asPolicy();
            QuotaWindow window = QuotaWindow.of(q.period(), q.zone(), now);
            QuotaKey key = new QuotaKey(q.name(), caller, window.start());
            items.add(new Item(q, c.limit(), window, tally(key, q, window)));
        }
        return chargeItems(items, now);
    }

    private QuotaVerdict chargeItems(List<Item> items, Instant now) {
        if (items.isEmpty()) {
            return QuotaVerdict.NONE;
        }
        Charged charged = null;
        Optional<RedisConnection> conn = redisUsable();
        // Redis configured but not asked or not answering: the shared count is unknown (PostgreSQL failing to seed a
        // counter while Redis answers is not that: it counts locally as ever)
        boolean redisAway = conn.isEmpty() && redis.get().isPresent();
        if (conn.isPresent()) {
            charged = chargeLive(conn.get(), items);
            if (charged == REDIS_AWAY) {
                charged = null;
                redisAway = true;
            }
        }
        if (charged == null) {
            charged = chargeLocal(items, redisAway);
        }
        metrics.decided(charged.path());
        return verdict(items, charged, now);
    }

    private Optional<RedisConnection> redisUsable() {
        if (nanoTime.getAsLong() - redisRetryAt < 0) {
            return Optional.empty();
        }
        Optional<RedisConnection> conn = redis.get();
        if (conn.isPresent() && !conn.get().isOpen()) {
            // disconnected: Lettuce reconnects in the background; count locally until it has
            metrics.liveStoreUp.set(0);
            redisAway();
            return Optional.empty();
        }
        return conn;
    }

    /** Starts an outage unless one is under way. */
    private synchronized void redisAway() {
        if (awayEpisode == NOT_AWAY) {
            awaySince = nanoTime.getAsLong();
            awayEpisode = ++episodes;
        }
    }

    /** The count in Redis, seeding missing counters; null when Redis failed (the caller then counts locally). */
    private Charged chargeLive(RedisConnection conn, List<Item> items) {
        long[] seeds = new long[items.size()];
        java.util.Arrays.fill(seeds, -1);
        long[] owed = new long[items.size()];
        for (int i = 0; i < items.size(); i++) {
            Tally t = items.get(i).tally();
            synchronized (t) {
                owed[i] = t.owed;
            }
        }
        try {
            for (int attempt = 0; attempt < 3; attempt++) {
                List<LiveCounters.Entry> entries = new ArrayList<>(items.size());
                for (int i = 0; i < items.size(); i++) {
                    Item it = items.get(i);
                    entries.add(new LiveCounters.Entry(
                            live.key(it.tally().key),
                            it.limit() == QuotaPolicy.UNLIMITED ? -1 : it.limit(),
                            it.block(),
                            Duration.between(
                                    clock.instant(), it.window().endsAt().plus(KEY_GRACE)),
                            seeds[i],
                            owed[i]));
                }
                LiveCounters.Result r = live.charge(conn, entries);
                if (r instanceof LiveCounters.Counts c) {
                    metrics.liveStoreUp.set(1);
                    if (awayEpisode != NOT_AWAY) {
                        awayEpisode = NOT_AWAY; // a volatile read per Check, a write only when an outage ends
                    }
                    for (int i = 0; i < items.size(); i++) {
                        Tally t = items.get(i).tally();
                        synchronized (t) {
                            t.owed -= owed[i];
                            if (c.counted()) {
                                t.pending++;
                            }
                            t.liveSeen = Math.max(t.liveSeen, c.values()[i]);
                        }
                    }
                    return new Charged(
                            c.counted(),
                            c.values(),
                            c.counted() ? -1 : firstBlocked(items, c.values()),
                            false,
                            Path.REDIS);
                }
                LiveCounters.NeedsSeed need = (LiveCounters.NeedsSeed) r;
                if (!seed(items, need.indexes(), seeds)) {
                    // PostgreSQL cannot say where the counter stood: counting locally is more honest than seeding a
                    // guess
                    return null;
                }
            }
            return null;
        } catch (LiveCounters.LiveCounterException e) {
            redisFailed(e);
            return REDIS_AWAY;
        }
    }

    private boolean seed(List<Item> items, List<Integer> indexes, long[] seeds) {
        List<QuotaKey> keys = new ArrayList<>(indexes.size());
        for (int i : indexes) {
            keys.add(items.get(i).tally().key);
        }
        Map<QuotaKey, Long> durable;
        if (store.isEmpty()) {
            durable = Map.of();
        } else {
            Optional<Map<QuotaKey, Long>> read = storeUp ? readDurable(keys) : Optional.empty();
            if (read.isEmpty()) {
                return false;
            }
            durable = read.get();
        }
        for (int i : indexes) {
            Tally t = items.get(i).tally();
            synchronized (t) {
                // what this replica counted that PostgreSQL does not have yet was in the lost counter too
                long d = durable.getOrDefault(t.key, 0L);
                if (store.isPresent()) {
                    t.base = d;
                    t.baseAt = nanoTime.getAsLong();
                }
                seeds[i] = d + t.pending + t.inflight;
            }
        }
        return true;
    }

    /**
     * Counting on this replica: the last durable total plus what it counted since; with {@code redisAway} on several
     * replicas, a blocking quota spends this replica's share instead ({@link #shareOf}).
     */
    private Charged chargeLocal(List<Item> items, boolean redisAway) {
        int n = redisAway ? Math.max(1, replicas.getAsInt()) : 1;
        long episode = awayEpisode;
        // an outage that ended between this Check's Redis attempt and here has no share: refused, never local
        boolean shares = n > 1;
        long now = nanoTime.getAsLong();
        // PostgreSQL holds what every replica counted in Redis once each has flushed after Redis went away
        long settledAt = awaySince + settings.settle().toNanos();
        boolean settled = now - settledAt >= 0;
        if (store.isPresent() && storeUp) {
            List<QuotaKey> unknown = new ArrayList<>();
            long staleBefore = now - settings.localRefresh().toNanos();
            for (Item it : items) {
                Tally t = it.tally();
                synchronized (t) {
                    boolean sharing = shares && it.block();
                    if (sharing
                            ? settled && t.shareEpisode != episode && (t.base < 0 || t.baseAt - settledAt < 0)
                            : t.base < 0 || t.baseAt - staleBefore < 0) {
                        unknown.add(t.key);
                    }
                }
            }
            if (!unknown.isEmpty()) {
                Optional<Map<QuotaKey, Long>> read = readDurable(unknown);
                if (read.isPresent()) {
                    Map<QuotaKey, Long> durable = read.get();
                    for (Item it : items) {
                        Long d = durable.get(it.tally().key);
                        if (d != null) {
                            synchronized (it.tally()) {
                                it.tally().base = d;
                                it.tally().baseAt = nanoTime.getAsLong();
                            }
                        }
                    }
                }
            }
        }
        boolean trackOwed = redis.get().isPresent();
        // one request's quotas are decided together: a refused request counts against none of them
        synchronized (this) {
            long[] counts = new long[items.size()];
            boolean[] known = new boolean[items.size()];
            long[] floors = new long[items.size()];
            boolean shared = false;
            for (int i = 0; i < items.size(); i++) {
                Tally t = items.get(i).tally();
                synchronized (t) {
                    known[i] = store.isEmpty() || t.base >= 0;
                    counts[i] = Math.max(0, t.base) + t.pending + t.inflight;
                    floors[i] = known[i] || t.liveSeen >= 0 ? Math.max(counts[i], t.liveSeen) : -1;
                }
            }
            for (int i = 0; i < items.size(); i++) {
                Item it = items.get(i);
                // a caller already past the limit by what is known for certain is over quota whatever the other
                // replicas counted since: 429, not a 503 that blames the store
                if (it.block() && floors[i] >= 0 && it.quota().refusesOneMore(floors[i], it.limit())) {
                    counts[i] = floors[i];
                    return new Charged(false, counts, i, false, shares ? Path.SHARE : Path.LOCAL);
                }
                if (it.block() && shares) {
                    shared = true;
                    long left = shareOf(it, episode, n, settled, settledAt);
                    if (left > 0) {
                        continue;
                    }
                    // the share is spent: over the limit if what is known says so, else the shared count is unknown
                    boolean over = left == 0 && counts[i] + 1 > it.limit();
                    return new Charged(false, counts, i, !over, over ? Path.SHARE : Path.UNAVAILABLE);
                }
                if (it.block() && !known[i]) {
                    return new Charged(false, counts, i, true, Path.UNAVAILABLE);
                }
                if (it.quota().refusesOneMore(counts[i], it.limit())) {
                    return new Charged(false, counts, i, false, Path.LOCAL);
                }
            }
            for (int i = 0; i < items.size(); i++) {
                Item it = items.get(i);
                Tally t = it.tally();
                synchronized (t) {
                    t.pending++;
                    if (trackOwed) {
                        t.owed++;
                    }
                    if (it.block() && shares) {
                        t.shareSpent++;
                    }
                }
                counts[i]++;
            }
            return new Charged(true, counts, -1, false, shared ? Path.SHARE : Path.LOCAL);
        }
    }

    /**
     * What is left of this replica's share of a blocking quota during Redis outage {@code episode}: taken once per
     * outage from a durable total read after {@code settledAt} plus this replica's unwritten increments, as
     * {@code (limit - total) / replicas}. The share is never renewed from a later total, which would hold the other
     * replicas' spending only after their next flush. Returns -1 while no share can be taken (not settled, or no
     * durable total read since), 0 when it is spent.
     */
    private long shareOf(Item it, long episode, int n, boolean settled, long settledAt) {
        Tally t = it.tally();
        synchronized (t) {
            if (episode == NOT_AWAY) {
                return -1;
            }
            if (t.shareEpisode != episode) {
                if (!settled || t.base < 0 || t.baseAt - settledAt < 0) {
                    return -1;
                }
                t.shareEpisode = episode;
                t.shareFrom = t.base + t.pending + t.inflight;
                t.share = it.limit() == QuotaPolicy.UNLIMITED
                        ? Long.MAX_VALUE
                        : Math.max(0, (it.limit() - t.shareFrom) / n);
                t.shareSpent = 0;
            }
            return t.share - t.shareSpent;
        }
    }

    /** The durable counts, waiting at most {@code dbReadTimeout}: a Check never stalls on a database that hangs. */
    private Optional<Map<QuotaKey, Long>> readDurable(List<QuotaKey> keys) {
        CompletableFuture<Map<QuotaKey, Long>> read = CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return store.orElseThrow().used(keys);
                    } catch (QuotaStore.UnavailableException e) {
                        throw new CompletionException(e);
                    }
                },
                readers);
        try {
            return Optional.of(read.get(settings.dbReadTimeout().toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            metrics.storeError("postgres");
            return Optional.empty();
        } catch (ExecutionException e) {
            storeFailed(e.getCause() instanceof Exception cause ? cause : e);
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static int firstBlocked(List<Item> items, long[] counts) {
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i).quota().refusesOneMore(counts[i], items.get(i).limit())) {
                return i;
            }
        }
        return 0;
    }

    private QuotaVerdict verdict(List<Item> items, Charged charged, Instant now) {
        if (!charged.counted()) {
            Item it = items.get(charged.blockedIndex());
            String name = it.quota().name();
            if (charged.unavailable()) {
                metrics.unavailable(name);
                return new QuotaVerdict(
                        Optional.of(new QuotaVerdict.Blocked(name, it.limit(), 1, true)), List.of(), Optional.empty());
            }
            metrics.exceeded(name, "block");
            long reset = it.window().secondsUntilReset(now);
            return new QuotaVerdict(
                    Optional.of(new QuotaVerdict.Blocked(name, it.limit(), reset, false)),
                    List.of(),
                    Optional.of(new QuotaVerdict.Standing(name, it.limit(), 0, reset)));
        }
        List<String> flagged = List.of();
        QuotaVerdict.Standing closest = null;
        for (int i = 0; i < items.size(); i++) {
            Item it = items.get(i);
            long limit = it.limit();
            if (limit == QuotaPolicy.UNLIMITED) {
                continue;
            }
            long used = charged.counts()[i];
            if (used > limit) {
                if (flagged.isEmpty()) {
                    flagged = new ArrayList<>(2);
                }
                flagged.add(it.quota().name());
                metrics.exceeded(it.quota().name(), "flag");
            }
            alerts(it, used);
            long remaining = Math.max(0, limit - used);
            if (closest == null || remaining < closest.remaining()) {
                closest = new QuotaVerdict.Standing(
                        it.quota().name(), limit, remaining, it.window().secondsUntilReset(now));
            }
        }
        return new QuotaVerdict(Optional.empty(), flagged, Optional.ofNullable(closest));
    }

    private void alerts(Item it, long used) {
        List<Integer> thresholds = it.quota().alerts();
        if (thresholds.isEmpty() || it.limit() <= 0) {
            return;
        }
        Tally t = it.tally();
        for (int pct : thresholds) {
            // the smallest count at or above pct% of the limit
            long at = (it.limit() * pct + 99) / 100;
            if (used < at) {
                return;
            }
            boolean fresh;
            synchronized (t) {
                fresh = t.alerted.add(pct);
            }
            if (fresh) {
                enqueueAlert(new Alert(t.key, pct, used, it.limit()));
            }
        }
    }

    private void enqueueAlert(Alert alert) {
        if (metrics.pendingAlerts.get() >= settings.maxPendingAlerts()) {
            metrics.dropped("alert");
            LOG.warn(
                    "quota alert dropped (more than {} waiting for PostgreSQL): quota={} threshold={}%",
                    settings.maxPendingAlerts(), alert.key().quota(), alert.threshold());
            return;
        }
        metrics.pendingAlerts.incrementAndGet();
        alerts.add(alert);
    }

    /**
     * An operator reset or adjusted {@code key} through this replica: the durable total and the highest Redis count it
     * remembers are from before the change, and a reset breaks "counts only grow within a period", which the Redis
     * floor relies on. Both are dropped, so the next Check reads PostgreSQL (which has the change) if it counts
     * locally. Increments counted here and not yet written stay pending: they land on top of the change. Other
     * replicas keep their floor until Redis answers them again.
     */
    public void changedByOperator(QuotaKey key) {
        Tally t = tallies.get(key);
        if (t == null) {
            return;
        }
        synchronized (t) {
            t.base = -1;
            t.liveSeen = -1;
            t.shareEpisode = NOT_AWAY;
        }
    }

    private Tally tally(QuotaKey key, QuotaPolicy q, QuotaWindow window) {
        Tally t = tallies.get(key);
        if (t != null) {
            return t;
        }
        if (tallies.size() >= settings.maxCounters()) {
            evictClean();
        }
        if (tallies.size() >= settings.maxCounters()) {
            // no room: this counter's increments cannot be kept for PostgreSQL (Redis, if up, still counts them)
            metrics.dropped("increment");
            LOG.warn(
                    "quota counter table full ({} counters): increments of quota {} for a new caller are not kept",
                    settings.maxCounters(),
                    q.name());
            return new Tally(key, q.period().yaml(), window.endsAt());
        }
        return tallies.computeIfAbsent(key, k -> new Tally(k, q.period().yaml(), window.endsAt()));
    }

    private void evictClean() {
        Instant now = clock.instant();
        int removed = 0;
        for (Iterator<Tally> i = tallies.values().iterator(); i.hasNext() && removed < 1024; ) {
            Tally t = i.next();
            synchronized (t) {
                if (t.clean() && (t.periodEnd.isBefore(now) || removed < 64)) {
                    i.remove();
                    removed++;
                }
            }
        }
    }

    /**
     * Writes pending increments to PostgreSQL (one statement) and records waiting alerts; returns normally also when
     * the database is away (the increments stay pending). Called at least once a second by the server.
     */
    public void flush() {
        if (store.isEmpty()) {
            drainAlertsWithoutStore();
            return;
        }
        synchronized (flushLock) {
            Instant now = clock.instant();
            List<QuotaStore.Increment> increments = new ArrayList<>();
            Map<QuotaKey, Tally> sent = new HashMap<>();
            long pendingTotal = 0;
            for (Iterator<Tally> i = tallies.values().iterator(); i.hasNext(); ) {
                Tally t = i.next();
                synchronized (t) {
                    if (t.pending > 0) {
                        t.inflight += t.pending;
                        t.pending = 0;
                        increments.add(new QuotaStore.Increment(t.key, t.period, t.periodEnd, t.inflight));
                        sent.put(t.key, t);
                        pendingTotal += t.inflight;
                    } else if (t.clean() && t.periodEnd.plus(KEY_GRACE).isBefore(now)) {
                        i.remove();
                    }
                }
            }
            metrics.pendingIncrements.set(pendingTotal);
            if (!increments.isEmpty()) {
                try {
                    Map<QuotaKey, Long> totals = store.get().add(increments);
                    for (Tally t : sent.values()) {
                        synchronized (t) {
                            Long total = totals.get(t.key);
                            if (total != null) {
                                t.base = total;
                                t.baseAt = nanoTime.getAsLong();
                            }
                            t.inflight = 0;
                        }
                    }
                    storeRecovered();
                } catch (QuotaStore.UnavailableException e) {
                    for (Tally t : sent.values()) {
                        synchronized (t) {
                            t.pending += t.inflight;
                            t.inflight = 0;
                        }
                    }
                    storeFailed(e);
                    return;
                }
            } else if (!storeUp) {
                probeStore();
            }
            if (storeUp) {
                metrics.pendingIncrements.set(0);
                lastCleanFlush = nanoTime.getAsLong();
                recordAlerts();
            }
        }
    }

    private void probeStore() {
        try {
            store.get().list(Optional.of(""), Optional.empty(), Optional.empty(), 1);
            storeRecovered();
        } catch (QuotaStore.UnavailableException e) {
            storeFailed(e);
        }
    }

    private void recordAlerts() {
        for (Alert a; (a = alerts.peek()) != null; ) {
            boolean first;
            try {
                first = store.get().recordAlert(a.key(), a.threshold(), a.used(), a.limit(), clock.instant());
            } catch (QuotaStore.UnavailableException e) {
                storeFailed(e);
                return;
            }
            alerts.poll();
            metrics.pendingAlerts.decrementAndGet();
            if (first) {
                metrics.alert(a.key().quota(), a.threshold());
                audit.alert(a.key(), a.threshold(), a.used(), a.limit(), clock.instant());
            }
        }
    }

    private void drainAlertsWithoutStore() {
        // without PostgreSQL there is no cross-replica record: each replica alerts once per counter it holds
        for (Alert a; (a = alerts.poll()) != null; ) {
            metrics.pendingAlerts.decrementAndGet();
            metrics.alert(a.key().quota(), a.threshold());
            audit.alert(a.key(), a.threshold(), a.used(), a.limit(), clock.instant());
        }
    }

    private void redisFailed(Exception e) {
        redisAway();
        boolean wasUp = metrics.liveStoreUp.getAndSet(0) == 1 || !redisFailedBefore;
        redisFailedBefore = true;
        metrics.storeError("redis");
        redisRetryAt = nanoTime.getAsLong() + settings.redisRetry().toNanos();
        if (wasUp) {
            LOG.warn(
                    "quota counting falls back to local counts for {} ms: {}",
                    settings.redisRetry().toMillis(),
                    e.getMessage());
        }
    }

    private void storeFailed(Exception e) {
        metrics.storeError("postgres");
        if (storeUp) {
            LOG.warn("quota store (PostgreSQL) unavailable, increments stay pending: {}", e.getMessage());
        }
        storeUp = false;
        metrics.durableStoreUp.set(0);
    }

    private void storeRecovered() {
        if (!storeUp) {
            LOG.info("quota store (PostgreSQL) reachable again");
        }
        storeUp = true;
        metrics.durableStoreUp.set(1);
    }

    private double flushLagSeconds() {
        if (metrics.pendingIncrements.get() == 0 && storeUp) {
            return 0;
        }
        return (nanoTime.getAsLong() - lastCleanFlush) / 1e9;
    }

    /** Increments counted on this replica that PostgreSQL does not have yet. */
    public long pendingIncrements() {
        long sum = 0;
        for (Tally t : tallies.values()) {
            synchronized (t) {
                sum += t.pending + t.inflight;
            }
        }
        return sum;
    }

    /** Whether the last call to PostgreSQL succeeded. */
    public boolean durableStoreUp() {
        return storeUp;
    }
}
