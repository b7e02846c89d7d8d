package io.meshguard.extauthz.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.RedisCommandTimeoutException;
import io.meshguard.authz.policy.RateLimitPolicy.Limit;
import io.meshguard.authz.policy.RateLimitPolicy.OnStoreError;
import io.meshguard.authz.ratelimit.LimitRequest;
import io.meshguard.authz.ratelimit.RateLimitKeys;
import io.meshguard.authz.ratelimit.RateLimiter;
import io.meshguard.authz.ratelimit.Verdict;
import io.meshguard.extauthz.redis.RedisConnection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Limits shared by every replica through Redis: one atomic script per decision ({@link GcraScript#ACQUIRE}) over all
 * of the caller's limits, on the store's clock. A caller the store refused is remembered here until its retry time,
 * so a caller hammering past its limit costs no store call (as envoyproxy/ratelimit's local over-limit cache does).
 *
 * <p>Store outages: every call is bounded by {@code redis.command_timeout}, and the {@link StoreBreaker} stops calling
 * after a few failures. Meanwhile each rule's {@code on_store_error} decides: {@code degraded} enforces this replica's
 * share (limit / live replicas, the count learned from the heartbeat every replica writes and kept through the
 * outage); {@code fail_closed} refuses (503). When the store answers again, what the replica admitted on its own is
 * charged to the store ({@link GcraScript#CHARGE}), so the shared counts reconcile.
 */
public final class RedisRateLimiter implements RateLimiter, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RedisRateLimiter.class);

    private record CachedDeny(Verdict verdict, long untilNanos) {}

    private final RedisConnection redis;
    private final String prefix;
    private final String replicasKey;
    private final String replicaId;
    private final long timeoutNanos;
    private final LongSupplier nanoTime;
    private final StoreBreaker breaker;
    private final TokenBucketLimiter degraded;
    private final Cache<String, CachedDeny> denied;
    private final AtomicInteger replicas;
    private final AtomicLong lastHeartbeatNanos = new AtomicLong();
    private final RateLimitSettings settings;
    private final StoreScript acquire = new StoreScript(GcraScript.ACQUIRE);
    private final StoreScript charge = new StoreScript(GcraScript.CHARGE);
    private final StoreScript heartbeat = new StoreScript(GcraScript.HEARTBEAT);
    private final StoreScript giveBack = new StoreScript(GcraScript.GIVE_BACK);
    private final ScheduledExecutorService background;
    private final MeterRegistry registry;
    private final Map<String, Counter> decisions = new ConcurrentHashMap<>();
    private final Counter denyCacheHits;
    private final Counter reconciled;
    private final Timer storeCall;

    public RedisRateLimiter(
            RedisConnection redis,
            RateLimitSettings settings,
            MeterRegistry registry,
            LongSupplier nanoTime,
            String replicaId) {
        this.redis = redis;
        this.settings = settings;
        this.prefix = redis.settings().keyPrefix();
        this.replicasKey = prefix + "rl-replicas";
        this.replicaId = replicaId;
        this.timeoutNanos = redis.settings().commandTimeout().toNanos();
        this.nanoTime = nanoTime;
        this.registry = registry;
        this.breaker = new StoreBreaker(settings.failureThreshold(), settings.openFor(), nanoTime, registry);
        // every series this limiter can produce exists from the start at zero: the outage alerts need them before the
        // outage
        for (Verdict.Source source : List.of(Verdict.Source.GLOBAL, Verdict.Source.DEGRADED)) {
            decisionCounter(source, true);
            decisionCounter(source, false);
        }
        decisionCounter(Verdict.Source.STORE_UNAVAILABLE, false);
        this.replicas = new AtomicInteger(settings.assumedReplicas());
        this.degraded = new TokenBucketLimiter(
                settings.maxBuckets(), Duration.ofHours(1), nanoTime, replicas::get, Verdict.Source.DEGRADED);
        this.denied = Caffeine.newBuilder().maximumSize(settings.maxBuckets()).build();
        this.background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ratelimit-store");
            t.setDaemon(true);
            return t;
        });
        breaker.onClose(() -> background.execute(this::reconcile));
        Gauge.builder("meshguard_ratelimit_replicas", replicas, AtomicInteger::get)
                .description(
                        "Live extauthz replicas as the heartbeat last counted them (the degraded share divides by it)")
                .register(registry);
        this.denyCacheHits = Counter.builder("meshguard_ratelimit_deny_cache_hits_total")
                .description("Decisions refused from the local over-limit cache without a store call")
                .register(registry);
        this.reconciled = Counter.builder("meshguard_ratelimit_reconciled_total")
                .description("Buckets whose outage admissions were charged to the store after it came back")
                .register(registry);
        this.storeCall = Timer.builder("meshguard_ratelimit_store_call_seconds")
                .description("Time of one rate-limit decision's store call (successful calls)")
                .publishPercentileHistogram()
                .register(registry);
    }

    /** Starts the heartbeat (the first one at once). */
    public RedisRateLimiter start() {
        background.execute(this::heartbeat);
        long every = settings.heartbeatInterval().toMillis();
        background.scheduleWithFixedDelay(this::heartbeat, every, every, TimeUnit.MILLISECONDS);
        return this;
    }

    @Override
    public Verdict acquire(LimitRequest request) {
        return acquire(request, true);
    }

    /** @param useDenyCache false asks the store even for a caller it refused moments ago (tests of the script) */
    Verdict acquire(LimitRequest request, boolean useDenyCache) {
        long now = nanoTime.getAsLong();
        String denyKey = denyKey(request);
        CachedDeny cached = useDenyCache ? denied.getIfPresent(denyKey) : null;
        if (cached != null) {
            long left = cached.untilNanos() - now;
            if (left > 0) {
                denyCacheHits.increment();
                Verdict v = cached.verdict();
                return count(new Verdict(false, (left + 999) / 1000, v.states(), Verdict.Source.GLOBAL, v.atMicros()));
            }
            denied.invalidate(denyKey);
        }
        if (!breaker.tryCall()) {
            return count(fallback(request));
        }
        List<Limit> limits = request.limits();
        String[] keys = new String[limits.size()];
        String[] args = new String[limits.size() * 2];
        for (int i = 0; i < limits.size(); i++) {
            Limit l = limits.get(i);
            keys[i] = RateLimitKeys.storeKey(prefix, request.callerKey(), l.label());
            args[2 * i] = Long.toString(l.emissionMicros());
            args[2 * i + 1] = Long.toString(l.capacityMicros());
        }
        try {
            List<Object> result = acquire.run(redis.async(), keys, args).get(timeoutNanos, TimeUnit.NANOSECONDS);
            long took = nanoTime.getAsLong() - now;
            breaker.onSuccess();
            storeCall.record(took, TimeUnit.NANOSECONDS);
            Verdict v = parse(result, limits);
            if (!v.allowed() && useDenyCache) {
                denied.put(denyKey, new CachedDeny(v, now + v.retryAfterMicros() * 1000));
            }
            return count(v);
        } catch (TimeoutException e) {
            breaker.onFailure(
                    StoreBreaker.Failure.TIMEOUT,
                    "no answer within " + redis.settings().commandTimeout().toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            breaker.onFailure(
                    cause instanceof RedisCommandTimeoutException
                            ? StoreBreaker.Failure.TIMEOUT
                            : StoreBreaker.Failure.ERROR,
                    describe(cause));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            breaker.onFailure(StoreBreaker.Failure.ERROR, "interrupted");
        } catch (RuntimeException e) {
            breaker.onFailure(StoreBreaker.Failure.ERROR, describe(e));
        }
        return count(fallback(request));
    }

    /**
     * Gives back what an admitted request counted where it was counted: in the store (without waiting for it: the
     * Check's thread is not held, and a store that fails keeps the count), or in this replica's degraded buckets.
     */
    @Override
    public void giveBack(LimitRequest request, Verdict admitted) {
        if (!admitted.allowed()) {
            return;
        }
        if (admitted.source() == Verdict.Source.DEGRADED) {
            degraded.giveBack(request, admitted);
            return;
        }
        if (admitted.source() != Verdict.Source.GLOBAL) {
            return;
        }
        List<Limit> limits = request.limits();
        String[] keys = new String[limits.size()];
        String[] args = new String[limits.size()];
        for (int i = 0; i < limits.size(); i++) {
            keys[i] = RateLimitKeys.storeKey(
                    prefix, request.callerKey(), limits.get(i).label());
            args[i] = Long.toString(limits.get(i).emissionMicros());
        }
        try {
            giveBack.run(redis.async(), keys, args).whenComplete((r, e) -> {
                if (e != null) {
                    LOG.atWarn()
                            .addKeyValue("event", "ratelimit_give_back_failed")
                            .log("a cancelled Check's rate-limit count stays in the store: {}", describe(e));
                }
            });
        } catch (RuntimeException e) {
            LOG.atWarn()
                    .addKeyValue("event", "ratelimit_give_back_failed")
                    .log("a cancelled Check's rate-limit count stays in the store: {}", describe(e));
        }
    }

    private static String denyKey(LimitRequest request) {
        StringBuilder sb = new StringBuilder(request.callerKey());
        for (Limit l : request.limits()) {
            sb.append('|').append(l.label());
        }
        return sb.toString();
    }

    private static Verdict parse(List<Object> result, List<Limit> limits) {
        boolean allowed = ((Number) result.get(0)).longValue() == 1;
        long retry = ((Number) result.get(2)).longValue();
        List<Verdict.LimitState> states = new ArrayList<>(limits.size());
        for (int i = 0; i < limits.size(); i++) {
            long remaining = ((Number) result.get(3 + 2 * i)).longValue();
            long reset = ((Number) result.get(4 + 2 * i)).longValue();
            states.add(new Verdict.LimitState(limits.get(i), remaining, reset));
        }
        return new Verdict(allowed, retry, states, Verdict.Source.GLOBAL, ((Number) result.get(1)).longValue());
    }

    /** The rule's answer while the store cannot be asked. */
    private Verdict fallback(LimitRequest request) {
        if (request.onStoreError() == OnStoreError.DEGRADED) {
            return degraded.acquire(request);
        }
        long retry =
                Math.max(Duration.ofSeconds(1).toNanos(), breaker.untilProbe().toNanos()) / 1000;
        List<Verdict.LimitState> states = new ArrayList<>();
        for (Limit l : request.limits()) {
            states.add(new Verdict.LimitState(l, 0, retry));
        }
        return new Verdict(false, retry, states, Verdict.Source.STORE_UNAVAILABLE, nanoTime.getAsLong() / 1000);
    }

    private Verdict count(Verdict v) {
        decisionCounter(v.source(), v.allowed()).increment();
        return v;
    }

    private Counter decisionCounter(Verdict.Source source, boolean allowed) {
        return decisions.computeIfAbsent(
                source.name() + (allowed ? "+" : "-"), k -> Counter.builder("meshguard_ratelimit_decisions_total")
                        .description(
                                "Rate-limit decisions by who decided (global: the store; degraded: this replica's share while "
                                        + "the store is down; store_unavailable: refused by fail_closed) and result")
                        .tag("source", source.name().toLowerCase(Locale.ROOT))
                        .tag("result", allowed ? "allow" : "deny")
                        .register(registry));
    }

    /** Reports this replica alive and learns how many are; also probes a store the breaker holds open. */
    void heartbeat() {
        boolean probe = breaker.state() != StoreBreaker.State.CLOSED;
        if (probe && !breaker.tryCall()) {
            return;
        }
        try {
            long stale = settings.heartbeatInterval().multipliedBy(5).toNanos() / 1000;
            List<Object> r = heartbeat
                    .run(redis.async(), new String[] {replicasKey}, replicaId, Long.toString(stale))
                    .get(Math.max(timeoutNanos, Duration.ofMillis(250).toNanos()), TimeUnit.NANOSECONDS);
            int live = (int) Math.max(1, ((Number) r.get(0)).longValue());
            int before = replicas.getAndSet(live);
            lastHeartbeatNanos.set(nanoTime.getAsLong());
            if (before != live) {
                LOG.atInfo()
                        .addKeyValue("event", "ratelimit_replicas")
                        .addKeyValue("replicas", live)
                        .log("rate-limit replicas sharing the store: {} (was {})", live, before);
            }
            if (probe) {
                breaker.onSuccess();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            if (probe) {
                breaker.onFailure(
                        e instanceof TimeoutException ? StoreBreaker.Failure.TIMEOUT : StoreBreaker.Failure.ERROR,
                        describe(e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e));
            }
        }
    }

    /** Charges what this replica admitted on its own during the outage to the store (one script per caller). */
    void reconcile() {
        List<TokenBucketLimiter.Debt> debts = degraded.drainDebts();
        if (debts.isEmpty()) {
            return;
        }
        Map<String, List<TokenBucketLimiter.Debt>> byCaller = new LinkedHashMap<>();
        for (TokenBucketLimiter.Debt d : debts) {
            byCaller.computeIfAbsent(d.callerKey(), k -> new ArrayList<>()).add(d);
        }
        int charged = 0;
        for (var e : byCaller.entrySet()) {
            List<TokenBucketLimiter.Debt> list = e.getValue();
            String[] keys = new String[list.size()];
            String[] args = new String[list.size() * 2];
            for (int i = 0; i < list.size(); i++) {
                keys[i] = RateLimitKeys.storeKey(
                        prefix, e.getKey(), list.get(i).limit().label());
                args[2 * i] = Long.toString(list.get(i).micros());
                args[2 * i + 1] = Long.toString(list.get(i).limit().capacityMicros());
            }
            try {
                charge.run(redis.async(), keys, args).get(1, TimeUnit.SECONDS);
                charged += list.size();
                reconciled.increment(list.size());
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException | RuntimeException ex) {
                LOG.atWarn()
                        .addKeyValue("event", "ratelimit_reconcile_failed")
                        .log(
                                "could not charge outage admissions of {} bucket(s) to the store: {}",
                                list.size(),
                                describe(ex));
            }
        }
        LOG.atInfo()
                .addKeyValue("event", "ratelimit_reconciled")
                .addKeyValue("buckets", charged)
                .log("charged {} bucket(s) of outage admissions to the rate-limit store", charged);
    }

    private static String describe(Throwable e) {
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    public StoreBreaker breaker() {
        return breaker;
    }

    /** Buckets whose outage admissions were charged to the store so far. */
    public long reconciledBuckets() {
        return (long) reconciled.count();
    }

    /** Live replicas as last counted (the degraded share's divisor). */
    public int replicas() {
        return replicas.get();
    }

    /** Whether the heartbeat ever reached the store, for readiness. */
    public Optional<Duration> sinceHeartbeat() {
        long last = lastHeartbeatNanos.get();
        return last == 0 ? Optional.empty() : Optional.of(Duration.ofNanos(nanoTime.getAsLong() - last));
    }

    @Override
    public String mode() {
        return "global";
    }

    /** Leaves the replica set (best effort) and stops the heartbeat; the connection belongs to the caller. */
    @Override
    public void close() {
        background.shutdownNow();
        try {
            if (redis.isOpen()) {
                redis.async().zrem(replicasKey, replicaId).get(200, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.debug("could not leave the replica set: {}", describe(e));
        }
    }
}
