package io.meshguard.extauthz.quota;

import io.meshguard.authz.policy.QuotaPolicy;
import io.meshguard.authz.quota.QuotaWindow;
import io.meshguard.db.TenantScope;
import io.meshguard.extauthz.redis.RedisConnection;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What operators do to a caller's quota, shared by {@code meshguard quota} and the admin endpoint: show the counter,
 * adjust it by a number of requests, reset it. Every change needs a reason, is written to PostgreSQL with who, how
 * and why ({@code quota_adjustment}), is a {@code quota} audit event, and takes effect on the live Redis counter.
 *
 * <p>An adjustment is a delta applied to both stores, so replicas' increments still on their way to PostgreSQL are
 * not lost. A reset sets both to zero (see {@link #reset}).
 */
public final class QuotaOperations {
    /** Operator input that cannot be applied; the message says why. */
    public static final class InvalidChangeException extends Exception {
        public InvalidChangeException(String message) {
            super(message);
        }
    }

    /**
     * One counter as the operator sees it.
     *
     * @param durable the count in PostgreSQL (behind the live one by at most the flush interval)
     * @param live the count in Redis, if Redis has the counter
     */
    public record Standing(
            QuotaPolicy quota,
            String caller,
            QuotaWindow window,
            long durable,
            OptionalLong live,
            List<QuotaStore.Change> changes) {
        /** The count that decides: the live one where there is one. */
        public long used() {
            return live.orElse(durable);
        }
    }

    /**
     * An applied change.
     *
     * @param live the live counter after the change; empty when Redis does not hold it (the next Check seeds it from
     *     PostgreSQL, which has the change) or could not be reached ({@code liveNote} says which)
     */
    public record Applied(QuotaStore.Change change, OptionalLong live, String liveNote) {}

    private static final long MAX_DELTA = 1_000_000_000_000L;

    private final QuotaStore store;
    private final Supplier<Optional<RedisConnection>> redis;
    private final LiveCounters live;
    private final QuotaAudit audit;
    private final Clock clock;
    private final Consumer<QuotaKey> changed;

    /** Operations from outside a replica (the CLI's direct path): no counter in this process to tell. */
    public QuotaOperations(
            QuotaStore store,
            Supplier<Optional<RedisConnection>> redis,
            LiveCounters live,
            QuotaAudit audit,
            Clock clock) {
        this(store, redis, live, audit, clock, key -> {});
    }

    /**
     * @param changed told of every counter an operator changed, once PostgreSQL has the change: the replica serving
     *     this admin endpoint drops what it remembered of that counter ({@link QuotaCounter#changedByOperator}), so a
     *     Check that finds Redis slow right after a reset does not refuse on the count from before it
     */
    public QuotaOperations(
            QuotaStore store,
            Supplier<Optional<RedisConnection>> redis,
            LiveCounters live,
            QuotaAudit audit,
            Clock clock,
            Consumer<QuotaKey> changed) {
        this.store = store;
        this.redis = redis;
        this.live = live;
        this.audit = audit;
        this.clock = clock;
        this.changed = changed;
    }

    /** The caller's counter in the current period. */
    public Standing show(QuotaPolicy quota, String caller)
            throws InvalidChangeException, QuotaStore.UnavailableException {
        return show(TenantScope.ALL, quota, caller);
    }

    /**
     * As {@link #show(QuotaPolicy, String)} for an admin caller acting for {@code scope}: the stored count and history
     * are read in a transaction PostgreSQL confines to those tenants (V47). The admin API checks the counter's tenant
     * first ({@link QuotaOwners}); this is the second lock.
     */
    public Standing show(TenantScope scope, QuotaPolicy quota, String caller)
            throws InvalidChangeException, QuotaStore.UnavailableException {
        checkCaller(caller);
        QuotaKey key = key(quota, caller);
        long durable = store.used(scope, List.of(key)).getOrDefault(key, 0L);
        return new Standing(quota, caller, window(quota), durable, liveCount(key), store.changes(scope, key));
    }

    /** Adds {@code delta} requests (negative: gives requests back) to the caller's current period. */
    public Applied adjust(
            QuotaPolicy quota, String caller, long delta, String actor, String via, String reason, String requestId)
            throws InvalidChangeException, QuotaStore.UnavailableException {
        return adjust(TenantScope.ALL, quota, caller, delta, actor, via, reason, requestId);
    }

    /** As {@link #adjust(QuotaPolicy, String, long, String, String, String, String)}, written confined to {@code scope}. */
    public Applied adjust(
            TenantScope scope,
            QuotaPolicy quota,
            String caller,
            long delta,
            String actor,
            String via,
            String reason,
            String requestId)
            throws InvalidChangeException, QuotaStore.UnavailableException {
        checkCaller(caller);
        checkReason(reason);
        checkActor(actor);
        // compared on both sides: Math.abs(Long.MIN_VALUE) is Long.MIN_VALUE, which passed a "> MAX_DELTA" test
        if (delta == 0 || delta > MAX_DELTA || delta < -MAX_DELTA) {
            throw new InvalidChangeException("the adjustment must be a non-zero number of requests up to " + MAX_DELTA
                    + " either way, got " + delta);
        }
        return apply(scope, quota, key(quota, caller), "adjust", delta, actor, via, reason, requestId);
    }

    /**
     * Sets the caller's current period back to zero requests, in PostgreSQL and in Redis: both are set to zero, not
     * moved by a delta, so stores that had drifted apart (a change made while Redis was not reachable or not given)
     * cannot leave a negative count behind. Increments a replica counted before the reset and writes after it (at
     * most one flush interval's worth) land in PostgreSQL on top of the zero; the live counter, which decides, does
     * not have them.
     */
    public Applied reset(QuotaPolicy quota, String caller, String actor, String via, String reason, String requestId)
            throws InvalidChangeException, QuotaStore.UnavailableException {
        return reset(TenantScope.ALL, quota, caller, actor, via, reason, requestId);
    }

    /** As {@link #reset(QuotaPolicy, String, String, String, String, String)}, written confined to {@code scope}. */
    public Applied reset(
            TenantScope scope,
            QuotaPolicy quota,
            String caller,
            String actor,
            String via,
            String reason,
            String requestId)
            throws InvalidChangeException, QuotaStore.UnavailableException {
        checkCaller(caller);
        checkReason(reason);
        checkActor(actor);
        QuotaKey key = key(quota, caller);
        OptionalLong current = liveCount(key);
        long used = current.isPresent()
                ? current.getAsLong()
                : store.used(scope, List.of(key)).getOrDefault(key, 0L);
        if (used == Long.MIN_VALUE) {
            throw new InvalidChangeException("the counter holds " + used + ", which cannot be reset");
        }
        QuotaWindow w = window(quota);
        QuotaStore.Change change;
        try {
            change = store.reset(scope, key, quota.period().yaml(), w.endsAt(), used, actor, via, reason.strip());
        } catch (QuotaStore.OutOfRangeException e) {
            throw new InvalidChangeException(e.getMessage());
        }
        return applied(
                change,
                requestId,
                conn -> live.zero(conn, key),
                "live counter set to zero",
                "this reset: run the reset again if that matters");
    }

    private Applied apply(
            TenantScope scope,
            QuotaPolicy quota,
            QuotaKey key,
            String action,
            long delta,
            String actor,
            String via,
            String reason,
            String requestId)
            throws InvalidChangeException, QuotaStore.UnavailableException {
        QuotaWindow w = window(quota);
        QuotaStore.Change change;
        try {
            change = store.change(
                    scope, key, quota.period().yaml(), w.endsAt(), action, delta, actor, via, reason.strip());
        } catch (QuotaStore.OutOfRangeException e) {
            throw new InvalidChangeException(e.getMessage());
        }
        return applied(
                change,
                requestId,
                conn -> live.adjust(conn, key, delta),
                "live counter updated",
                "this change: run the change again with the opposite delta if that matters");
    }

    /** What an operator's change of a live counter does to Redis, which may be away. */
    @FunctionalInterface
    private interface LiveUpdate {
        OptionalLong apply(RedisConnection conn) throws LiveCounters.LiveCounterException;
    }

    /**
     * A change PostgreSQL holds, audited and told to this replica's counters, then carried to the live counter in
     * Redis when there is one; {@code missed} says what a live counter that outlived a Redis outage lacks.
     */
    private Applied applied(
            QuotaStore.Change change, String requestId, LiveUpdate update, String updated, String missed) {
        audit.change(change, requestId);
        changed.accept(change.key());
        Optional<RedisConnection> conn = redis.get();
        if (conn.isEmpty()) {
            return new Applied(
                    change, OptionalLong.empty(), "no Redis configured: replicas see the change within one flush");
        }
        try {
            OptionalLong after = update.apply(conn.get());
            return new Applied(
                    change,
                    after,
                    after.isPresent()
                            ? updated
                            : "Redis holds no live counter: the next request seeds it from PostgreSQL");
        } catch (LiveCounters.LiveCounterException e) {
            return new Applied(
                    change,
                    OptionalLong.empty(),
                    "Redis could not be updated (" + e.getMessage()
                            + "): replicas count from PostgreSQL while Redis is away; once it is back, a live counter that"
                            + " survived the outage does not have " + missed);
        }
    }

    private OptionalLong liveCount(QuotaKey key) {
        Optional<RedisConnection> conn = redis.get();
        if (conn.isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            return live.read(conn.get(), key);
        } catch (LiveCounters.LiveCounterException e) {
            return OptionalLong.empty();
        }
    }

    private QuotaKey key(QuotaPolicy quota, String caller) {
        return new QuotaKey(quota.name(), caller, window(quota).start());
    }

    private QuotaWindow window(QuotaPolicy quota) {
        return QuotaWindow.of(quota.period(), quota.zone(), clock.instant());
    }

    private static void checkCaller(String caller) throws InvalidChangeException {
        if (!QuotaCallers.wellFormed(caller)) {
            throw new InvalidChangeException(
                    "caller must be api_key:<key id>, tenant:<tenant> or subject:<issuer>/<subject>"
                            + " (at most " + QuotaCallers.MAX_LENGTH + " characters, no control characters), got '"
                            + caller.replaceAll("\\p{Cntrl}", "?") + "'");
        }
    }

    private static void checkReason(String reason) throws InvalidChangeException {
        String r = reason == null ? "" : reason.strip();
        if (r.isEmpty() || r.length() > 1000 || r.chars().anyMatch(c -> c < 0x20 && c != '\t')) {
            throw new InvalidChangeException(
                    "a reason is required: 1-1000 characters on one line (it goes to the audit log)");
        }
    }

    private static void checkActor(String actor) throws InvalidChangeException {
        if (actor == null || actor.isBlank() || actor.length() > 200) {
            throw new InvalidChangeException("who makes the change must be known (1-200 characters)");
        }
    }
}
