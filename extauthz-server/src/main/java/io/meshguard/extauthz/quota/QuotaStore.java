package io.meshguard.extauthz.quota;

import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The durable quota counters in PostgreSQL (migration {@code V28__quota_usage.sql}): batched increments, reads,
 * operator changes with their history, and the once-only alert rows.
 */
public final class QuotaStore {
    /** The store could not be reached or refused the statement. */
    public static final class UnavailableException extends Exception {
        public UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Requests to add to one counter. */
    public record Increment(QuotaKey key, String period, Instant periodEnd, long count) {}

    /** One counter as stored. */
    public record Usage(QuotaKey key, String period, Instant periodEnd, long used, Instant updatedAt) {}

    /** A change that would carry a counter past a 64-bit number; refused with nothing written. */
    public static final class OutOfRangeException extends RuntimeException {
        public OutOfRangeException(String message) {
            super(message);
        }
    }

    /** One operator change as recorded in {@code quota_adjustment}. */
    public record Change(
            long id,
            Instant at,
            QuotaKey key,
            String action,
            long delta,
            long usedBefore,
            long usedAfter,
            String actor,
            String via,
            String reason) {}

    private final DataSource dataSource;

    public QuotaStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Adds every increment in one statement and returns each counter's new total (which includes what other replicas
     * flushed). Rows are locked in key order, so replicas flushing at once cannot deadlock.
     */
    public Map<QuotaKey, Long> add(Collection<Increment> increments) throws UnavailableException {
        if (increments.isEmpty()) {
            return Map.of();
        }
        List<Increment> sorted = new ArrayList<>(increments);
        sorted.sort((a, b) -> {
            int c = a.key().quota().compareTo(b.key().quota());
            c = c != 0 ? c : a.key().caller().compareTo(b.key().caller());
            return c != 0 ? c : a.key().periodStart().compareTo(b.key().periodStart());
        });
        int n = sorted.size();
        String[] quotas = new String[n];
        String[] callers = new String[n];
        // dates and instants travel as ISO text: no JVM default time zone in between
        String[] starts = new String[n];
        String[] periods = new String[n];
        String[] ends = new String[n];
        Long[] counts = new Long[n];
        for (int i = 0; i < n; i++) {
            Increment inc = sorted.get(i);
            quotas[i] = inc.key().quota();
            callers[i] = inc.key().caller();
            starts[i] = inc.key().periodStart().toString();
            periods[i] = inc.period();
            ends[i] = inc.periodEnd().toString();
            counts[i] = inc.count();
        }
        String sql = "INSERT INTO quota_usage AS u (quota, caller, period_start, period, period_end, used, updated_at) "
                + "SELECT q, c, s::date, p, e::timestamptz, n, now() FROM unnest(?::varchar[], ?::varchar[], ?::text[], "
                + "?::varchar[], ?::text[], ?::bigint[]) AS t(q, c, s, p, e, n) "
                + "ON CONFLICT (quota, caller, period_start) DO UPDATE SET used = u.used + excluded.used, updated_at = now() "
                + "RETURNING quota, caller, period_start, used";
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(sql)) {
            s.setArray(1, c.createArrayOf("varchar", quotas));
            s.setArray(2, c.createArrayOf("varchar", callers));
            s.setArray(3, c.createArrayOf("text", starts));
            s.setArray(4, c.createArrayOf("varchar", periods));
            s.setArray(5, c.createArrayOf("text", ends));
            s.setArray(6, c.createArrayOf("bigint", counts));
            Map<QuotaKey, Long> totals = new HashMap<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    totals.put(key(rs), rs.getLong("used"));
                }
            }
            return totals;
        } catch (SQLException e) {
            throw new UnavailableException("quota usage update failed: " + e.getMessage(), e);
        }
    }

    /** The durable counts of these counters; a counter without a row has used 0. */
    public Map<QuotaKey, Long> used(Collection<QuotaKey> keys) throws UnavailableException {
        Map<QuotaKey, Long> out = new HashMap<>();
        if (keys.isEmpty()) {
            return out;
        }
        try (Connection c = dataSource.getConnection()) {
            return used(c, keys);
        } catch (SQLException e) {
            throw new UnavailableException("quota usage read failed: " + e.getMessage(), e);
        }
    }

    /**
     * As {@link #used(Collection)}, for an admin caller: read in a transaction PostgreSQL confines to {@code scope}'s
     * tenants (migration V47), so another tenant's counter reads as 0 whatever the caller asked.
     */
    public Map<QuotaKey, Long> used(TenantScope scope, Collection<QuotaKey> keys) throws UnavailableException {
        try {
            return new TenantScopedTransactions(dataSource).inScope(scope, c -> used(c, keys));
        } catch (SQLException e) {
            throw new UnavailableException("quota usage read failed: " + e.getMessage(), e);
        }
    }

    private static Map<QuotaKey, Long> used(Connection c, Collection<QuotaKey> keys) throws SQLException {
        Map<QuotaKey, Long> out = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement(
                "SELECT used FROM quota_usage WHERE quota = ? AND caller = ? AND period_start = ?")) {
            for (QuotaKey k : keys) {
                s.setString(1, k.quota());
                s.setString(2, k.caller());
                s.setObject(3, (k.periodStart()));
                try (ResultSet rs = s.executeQuery()) {
                    out.put(k, rs.next() ? rs.getLong(1) : 0L);
                }
            }
        }
        return out;
    }

    /**
     * Counters, newest period first; each filter is optional.
     *
     * @param limit at most this many rows
     */
    public List<Usage> list(Optional<String> quota, Optional<String> caller, Optional<LocalDate> periodStart, int limit)
            throws UnavailableException {
        StringBuilder sql =
                new StringBuilder("SELECT quota, caller, period_start, period, period_end, used, updated_at "
                        + "FROM quota_usage WHERE true");
        List<Object> args = new ArrayList<>();
        quota.ifPresent(q -> {
            sql.append(" AND quota = ?");
            args.add(q);
        });
        caller.ifPresent(k -> {
            sql.append(" AND caller = ?");
            args.add(k);
        });
        periodStart.ifPresent(p -> {
            sql.append(" AND period_start = ?");
            args.add(p);
        });
        sql.append(" ORDER BY period_start DESC, quota, caller LIMIT ").append(Math.max(1, limit));
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                s.setObject(i + 1, args.get(i));
            }
            List<Usage> out = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(new Usage(
                            key(rs),
                            rs.getString("period"),
                            rs.getTimestamp("period_end").toInstant(),
                            rs.getLong("used"),
                            rs.getTimestamp("updated_at").toInstant()));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new UnavailableException("quota usage listing failed: " + e.getMessage(), e);
        }
    }

    /**
     * Adds {@code delta} to one counter (creating it) and records the change with who, how and why, in one transaction
     * PostgreSQL confines to {@code scope}'s tenants: a counter of another tenant is refused by row-level security
     * (V47), nothing written.
     */
    public Change change(
            TenantScope scope,
            QuotaKey key,
            String period,
            Instant periodEnd,
            String action,
            long delta,
            String actor,
            String via,
            String reason)
            throws UnavailableException {
        return write(scope, key, period, periodEnd, action, before -> delta, delta, actor, via, reason);
    }

    /**
     * Sets one counter to zero (creating it) and records the reset with who, how and why, in one transaction confined
     * to {@code scope}'s tenants.
     *
     * @param forgiven the requests the reset gives back as the operator saw them (the live count where Redis has one),
     *     recorded as the change's delta; the stored count becomes 0 whatever it was, so a count that had drifted from
     *     the live one (a change made without Redis) cannot leave it negative
     */
    public Change reset(
            TenantScope scope,
            QuotaKey key,
            String period,
            Instant periodEnd,
            long forgiven,
            String actor,
            String via,
            String reason)
            throws UnavailableException {
        return write(scope, key, period, periodEnd, "reset", before -> -before, -forgiven, actor, via, reason);
    }

    private Change write(
            TenantScope scope,
            QuotaKey key,
            String period,
            Instant periodEnd,
            String action,
            java.util.function.LongUnaryOperator deltaFromBefore,
            long recordedDelta,
            String actor,
            String via,
            String reason)
            throws UnavailableException {
        try {
            return new TenantScopedTransactions(dataSource).inScope(scope, c -> {
                long before;
                try (PreparedStatement s =
                        c.prepareStatement("INSERT INTO quota_usage AS u (quota, caller, period_start, period, "
                                + "period_end, used) VALUES (?,?,?,?,?,0) ON CONFLICT (quota, caller, period_start) "
                                + "DO UPDATE SET updated_at = u.updated_at RETURNING used")) {
                    s.setString(1, key.quota());
                    s.setString(2, key.caller());
                    s.setObject(3, (key.periodStart()));
                    s.setString(4, period);
                    s.setObject(5, java.time.OffsetDateTime.ofInstant(periodEnd, java.time.ZoneOffset.UTC));
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        before = rs.getLong(1);
                    }
                }
                long delta = deltaFromBefore.applyAsLong(before);
                // the row is locked by the upsert above: a sum past a long is refused, never wrapped (nor left to
                // PostgreSQL's "bigint out of range" as an unexplained failure); the transaction rolls back
                try {
                    Math.addExact(before, delta);
                } catch (ArithmeticException e) {
                    throw new OutOfRangeException("the counter would leave the range of a 64-bit number: " + before
                            + " + " + delta + "; nothing was changed");
                }
                long after;
                try (PreparedStatement s =
                        c.prepareStatement("UPDATE quota_usage SET used = used + ?, updated_at = now() "
                                + "WHERE quota = ? AND caller = ? AND period_start = ? RETURNING used")) {
                    s.setLong(1, delta);
                    s.setString(2, key.quota());
                    s.setString(3, key.caller());
                    s.setObject(4, (key.periodStart()));
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        after = rs.getLong(1);
                    }
                }
                Change change;
                try (PreparedStatement s =
                        c.prepareStatement("INSERT INTO quota_adjustment (quota, caller, period_start, action, "
                                + "delta, used_before, used_after, actor, via, reason) VALUES (?,?,?,?,?,?,?,?,?,?) "
                                + "RETURNING id, occurred_at")) {
                    s.setString(1, key.quota());
                    s.setString(2, key.caller());
                    s.setObject(3, (key.periodStart()));
                    s.setString(4, action);
                    s.setLong(5, recordedDelta);
                    s.setLong(6, before);
                    s.setLong(7, after);
                    s.setString(8, actor);
                    s.setString(9, via);
                    s.setString(10, reason);
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        change = new Change(
                                rs.getLong(1),
                                rs.getTimestamp(2).toInstant(),
                                key,
                                action,
                                recordedDelta,
                                before,
                                after,
                                actor,
                                via,
                                reason);
                    }
                }
                return change;
            });
        } catch (SQLException e) {
            throw new UnavailableException("quota change failed: " + e.getMessage(), e);
        }
    }

    /** The recorded changes of one counter, oldest first. */
    public List<Change> changes(QuotaKey key) throws UnavailableException {
        return changes(TenantScope.ALL, key);
    }

    /** As {@link #changes(QuotaKey)}, read in a transaction PostgreSQL confines to {@code scope}'s tenants. */
    public List<Change> changes(TenantScope scope, QuotaKey key) throws UnavailableException {
        try {
            return new TenantScopedTransactions(dataSource).inScope(scope, c -> changes(c, key));
        } catch (SQLException e) {
            throw new UnavailableException("quota change history read failed: " + e.getMessage(), e);
        }
    }

    private static List<Change> changes(Connection c, QuotaKey key) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT id, occurred_at, action, delta, used_before, used_after, actor, "
                        + "via, reason FROM quota_adjustment WHERE quota = ? AND caller = ? AND period_start = ? ORDER BY id")) {
            s.setString(1, key.quota());
            s.setString(2, key.caller());
            s.setObject(3, (key.periodStart()));
            List<Change> out = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(new Change(
                            rs.getLong("id"),
                            rs.getTimestamp("occurred_at").toInstant(),
                            key,
                            rs.getString("action"),
                            rs.getLong("delta"),
                            rs.getLong("used_before"),
                            rs.getLong("used_after"),
                            rs.getString("actor"),
                            rs.getString("via"),
                            rs.getString("reason")));
                }
            }
            return out;
        }
    }

    /** Records that an alert fired; false when some replica already recorded it for this counter and threshold. */
    public boolean recordAlert(QuotaKey key, int threshold, long used, long limit, Instant at)
            throws UnavailableException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s =
                        c.prepareStatement("INSERT INTO quota_alert (quota, caller, period_start, threshold, used, "
                                + "quota_limit, occurred_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING")) {
            s.setString(1, key.quota());
            s.setString(2, key.caller());
            s.setObject(3, (key.periodStart()));
            s.setInt(4, threshold);
            s.setLong(5, used);
            s.setLong(6, limit);
            s.setObject(7, java.time.OffsetDateTime.ofInstant(at, java.time.ZoneOffset.UTC));
            return s.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new UnavailableException("quota alert insert failed: " + e.getMessage(), e);
        }
    }

    private static QuotaKey key(ResultSet rs) throws SQLException {
        return new QuotaKey(
                rs.getString("quota"), rs.getString("caller"), rs.getObject("period_start", LocalDate.class));
    }
}
