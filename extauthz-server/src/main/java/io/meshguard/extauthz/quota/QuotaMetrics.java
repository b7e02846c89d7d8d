package io.meshguard.extauthz.quota;

import io.meshguard.authz.policy.QuotaPolicy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;

/**
 * The {@code meshguard_quota_*} meters. Labels are the quota's name (at most 64 per policy), the threshold, the action
 * and the store: never the caller, whose keys are unbounded.
 */
final class QuotaMetrics {
    private static final String EXCEEDED = "Requests over a quota, by what happened to them (block, flag)";
    private static final String ALERTS = "Quota alerts fired (once per caller, period and threshold)";
    private static final String DROPPED =
            "Increments or alerts that could not be kept (bounds reached); each is also logged";
    private static final String UNAVAILABLE = "Checks a block quota refused with 503 because no count could be had";
    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
    final AtomicLong pendingIncrements = new AtomicLong();
    final AtomicLong pendingAlerts = new AtomicLong();
    /** 1 or 0 after the first Redis call; {@link #NOT_CALLED} until then. */
    final AtomicLong liveStoreUp = new AtomicLong(NOT_CALLED);

    static final long NOT_CALLED = -1;
    final AtomicLong durableStoreUp = new AtomicLong(1);
    /** By {@link QuotaCounter.Path#ordinal()}: resolved once, a Check only increments. */
    private final Counter[] decisions;

    /**
     * @param liveStoreState the Redis connection's state before the first call: 1 connected, 0 not, NaN when this
     *     replica has no Redis (no such store, so no alert)
     */
    QuotaMetrics(
            MeterRegistry registry,
            DoubleSupplier flushLagSeconds,
            DoubleSupplier counters,
            DoubleSupplier liveStoreState) {
        this.registry = registry;
        Gauge.builder("meshguard_quota_pending_increments", pendingIncrements, AtomicLong::get)
                .description("Counted requests not yet written to PostgreSQL (bounded by quota.max_counters keys)")
                .register(registry);
        Gauge.builder("meshguard_quota_pending_alerts", pendingAlerts, AtomicLong::get)
                .description("Alerts waiting to be recorded in PostgreSQL (the database is away)")
                .register(registry);
        Gauge.builder("meshguard_quota_flush_lag_seconds", flushLagSeconds::getAsDouble)
                .description("Age of the oldest increment not yet in PostgreSQL; 0 when all are written")
                .register(registry);
        Gauge.builder("meshguard_quota_counters", counters::getAsDouble)
                .description("Quota counters (caller and period) this replica holds in memory")
                .register(registry);
        // Review IC-11: a replica that has served no quota route yet reported 0 here, and QuotaStoreDown fired on a
        // healthy replica. Until the first call the gauge shows the connection's own state.
        Gauge.builder("meshguard_quota_store_up", () -> {
                    long called = liveStoreUp.get();
                    return called == NOT_CALLED ? liveStoreState.getAsDouble() : called;
                })
                .tag("store", "redis")
                .description("1 when the store answered its last call")
                .register(registry);
        Gauge.builder("meshguard_quota_store_up", durableStoreUp, AtomicLong::get)
                .tag("store", "postgres")
                .description("1 when the store answered its last call")
                .register(registry);
        // at zero from the start: an alert on a rare event must see the series before the first one
        for (String what : new String[] {"increment", "alert"}) {
            counter("meshguard_quota_dropped_total", DROPPED, "what", what);
        }
        QuotaCounter.Path[] paths = QuotaCounter.Path.values();
        decisions = new Counter[paths.length];
        for (QuotaCounter.Path path : paths) {
            decisions[path.ordinal()] = counter(
                    "meshguard_quota_decisions_total",
                    "Checks with quotas by what decided them: redis (the shared count), local (this replica's count: no"
                            + " Redis, or a quota that does not block while Redis is away), share (Redis away: this"
                            + " replica's share of a blocking quota), unavailable (Redis away, no share: 503)",
                    "path",
                    path.name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    void decided(QuotaCounter.Path path) {
        decisions[path.ordinal()].increment();
    }

    /**
     * Registers a loaded quota's meters at zero, so dashboards and alerts see every quota and threshold before its
     * first event. Declaring again after a reload reuses the existing meters.
     */
    void declare(QuotaPolicy quota) {
        boolean block = quota.onExceed() == QuotaPolicy.OnExceed.BLOCK;
        counter("meshguard_quota_exceeded_total", EXCEEDED, "quota", quota.name(), "action", block ? "block" : "flag");
        for (int threshold : quota.alerts()) {
            counter(
                    "meshguard_quota_alerts_total",
                    ALERTS,
                    "quota",
                    quota.name(),
                    "threshold",
                    Integer.toString(threshold));
        }
        if (block) {
            counter("meshguard_quota_unavailable_total", UNAVAILABLE, "quota", quota.name());
        }
    }

    void exceeded(String quota, String action) {
        counter("meshguard_quota_exceeded_total", EXCEEDED, "quota", quota, "action", action)
                .increment();
    }

    void alert(String quota, int threshold) {
        counter("meshguard_quota_alerts_total", ALERTS, "quota", quota, "threshold", Integer.toString(threshold))
                .increment();
    }

    void storeError(String store) {
        counter(
                        "meshguard_quota_store_errors_total",
                        "Failed calls to a quota store (redis: the Check counted locally)",
                        "store",
                        store)
                .increment();
    }

    void dropped(String what) {
        counter("meshguard_quota_dropped_total", DROPPED, "what", what).increment();
    }

    void unavailable(String quota) {
        counter("meshguard_quota_unavailable_total", UNAVAILABLE, "quota", quota)
                .increment();
    }

    private Counter counter(String name, String description, String... tags) {
        return counters.computeIfAbsent(
                name + String.join("|", tags),
                k -> Counter.builder(name).description(description).tags(tags).register(registry));
    }
}
