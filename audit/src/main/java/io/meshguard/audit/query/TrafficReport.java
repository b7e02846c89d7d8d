package io.meshguard.audit.query;

import io.meshguard.audit.als.AccessLogMapper;
import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;
import javax.sql.DataSource;

/**
 * Traffic and security over a short window (the last hour or day), from meshguard's own rows: the gateway's
 * {@code api_call} rows per API version (requests, 4xx/5xx, the 401/403/429 split, p95 latency), DLP findings per
 * detector, and callers past a quota alert threshold in their current period. The audit reads use the
 * {@code (kind, occurred_at)} index and, for a tenant-scoped caller, run in a transaction PostgreSQL confines to its
 * tenants (row-level security on {@code audit_event}, V39) with the same filter in the query, as the audit API does.
 */
public final class TrafficReport {
    private static final String API = AccessLogMapper.API_DETAIL;
    private static final String VERSION = AccessLogMapper.API_VERSION_DETAIL;

    /** The windows a caller may ask for: bounded, so a page never scans months of rows. */
    public enum Window {
        HOUR(Duration.ofHours(1), Duration.ofMinutes(5)),
        DAY(Duration.ofDays(1), Duration.ofHours(1));

        private final Duration length;
        private final Duration bucket;

        Window(Duration length, Duration bucket) {
            this.length = length;
            this.bucket = bucket;
        }

        public Duration length() {
            return length;
        }

        /** One point of the time series: 12 per hour, 24 per day. */
        public Duration bucket() {
            return bucket;
        }
    }

    /** One bucket of an API's calls: requests, 4xx and 5xx answers, p95 latency (empty: no call). */
    public record Point(Instant start, long requests, long errors, OptionalDouble p95Millis) {}

    /** An API's calls over the window, one {@link Point} per bucket, oldest first, empty buckets included. */
    public record ApiSeries(String api, List<Point> points) {}

    /**
     * One API version's calls; {@code serverErrors} counts 5xx and answers without a status.
     */
    public record VersionTraffic(
            String api,
            String version,
            long requests,
            long clientErrors,
            long serverErrors,
            long unauthorized,
            long forbidden,
            long tooManyRequests,
            OptionalDouble p95Millis) {}

    public record DetectorFindings(String detector, long findings) {}

    /** A caller past {@code threshold} percent of a quota in the period starting {@code periodStart}. */
    public record NearQuota(String quota, String caller, LocalDate periodStart, int threshold, long used, long limit) {}

    public record Traffic(
            Instant since,
            Instant until,
            List<VersionTraffic> versions,
            List<DetectorFindings> dlp,
            List<NearQuota> nearQuota) {}

    /** Alerts at or above this percentage count as "near quota". */
    public static final int NEAR_QUOTA_PERCENT = 80;

    private static final int NEAR_QUOTA_SHOWN = 20;

    private static final String VERSIONS = "select details->>'" + API + "', details->>'" + VERSION + "', count(*),"
            + " count(*) filter (where status between 400 and 499),"
            + " count(*) filter (where status >= 500 or status is null or status < 100),"
            + " count(*) filter (where status = 401), count(*) filter (where status = 403),"
            + " count(*) filter (where status = 429),"
            + " percentile_cont(0.95) within group (order by latency_us)"
            + " from audit_event where kind = 'api_call' and occurred_at >= ? and occurred_at < ?"
            + " and details->>'" + API + "' is not null and details->>'" + VERSION + "' is not null"
            // the DLP server's row for the same request carries no API; it is not a second call
            + " and source is distinct from 'extproc-dlp'";

    private static final String DLP = "select coalesce(details->>'detector', 'unknown'), count(*) from audit_event"
            + " where kind = 'dlp_finding' and occurred_at >= ? and occurred_at < ?";

    // the newest alert per caller and quota of periods still running (a month at most); quota_alert is not readable
    // by the scoped role, so a tenant caller's rows are chosen by caller name here
    private static final String NEAR = "select quota, caller, period_start, threshold, used, quota_limit from ("
            + " select distinct on (quota, caller) quota, caller, period_start, threshold, used, quota_limit"
            + " from quota_alert where period_start >= ? and threshold >= ? SCOPE"
            + " order by quota, caller, period_start desc, threshold desc) newest"
            + " order by used::float8 / greatest(quota_limit, 1) desc, quota, caller limit " + NEAR_QUOTA_SHOWN;

    // date_bin (PostgreSQL 14+): the bucket each call falls in, counted from the window's start
    private static final String SERIES =
            "select details->>'" + API + "', date_bin(cast(? as interval), occurred_at, ?),"
                    + " count(*), count(*) filter (where status >= 400 or status is null or status < 100),"
                    + " percentile_cont(0.95) within group (order by latency_us)"
                    + " from audit_event where kind = 'api_call' and occurred_at >= ? and occurred_at < ?"
                    + " and details->>'" + API + "' is not null and source is distinct from 'extproc-dlp'";

    private final DataSource dataSource;

    public TrafficReport(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** The window ending at {@code until}, as {@code scope} may see it. */
    public Traffic report(Window window, Instant until, TenantScope scope) throws SQLException {
        Instant since = until.minus(window.length());
        boolean scoped = !scope.all();
        String tenantFilter = scoped ? " and tenant = any (?)" : "";
        List<VersionTraffic> versions = new ArrayList<>();
        List<DetectorFindings> dlp = new ArrayList<>();
        new TenantScopedTransactions(dataSource).inScope(scope, c -> {
            try (PreparedStatement ps = c.prepareStatement(VERSIONS + tenantFilter + " group by 1, 2 order by 1, 2")) {
                bind(c, ps, since, until, scope);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        double p95 = rs.getDouble(9);
                        versions.add(new VersionTraffic(
                                rs.getString(1),
                                rs.getString(2),
                                rs.getLong(3),
                                rs.getLong(4),
                                rs.getLong(5),
                                rs.getLong(6),
                                rs.getLong(7),
                                rs.getLong(8),
                                rs.wasNull() ? OptionalDouble.empty() : OptionalDouble.of(p95 / 1000.0)));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(DLP + tenantFilter + " group by 1 order by 2 desc, 1")) {
                bind(c, ps, since, until, scope);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        dlp.add(new DetectorFindings(rs.getString(1), rs.getLong(2)));
                    }
                }
            }
            return null;
        });
        return new Traffic(since, until, versions, dlp, nearQuota(until, scope));
    }

    /** Per API the window's calls bucket by bucket ({@link Window#bucket()}), as {@code scope} may see them. */
    public List<ApiSeries> series(Window window, Instant until, TenantScope scope) throws SQLException {
        Instant since = until.minus(window.length());
        long seconds = window.bucket().toSeconds();
        int buckets = (int) (window.length().toSeconds() / seconds);
        java.util.Map<String, Point[]> byApi = new java.util.TreeMap<>();
        new TenantScopedTransactions(dataSource).inScope(scope, c -> {
            try (PreparedStatement ps =
                    c.prepareStatement(SERIES + (scope.all() ? "" : " and tenant = any (?)") + " group by 1, 2")) {
                ps.setString(1, seconds + " seconds");
                ps.setTimestamp(2, Timestamp.from(since));
                ps.setTimestamp(3, Timestamp.from(since));
                ps.setTimestamp(4, Timestamp.from(until));
                if (!scope.all()) {
                    ps.setArray(5, c.createArrayOf("varchar", scope.tenants().toArray()));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Instant start = rs.getTimestamp(2).toInstant();
                        int i = (int) (Duration.between(since, start).toSeconds() / seconds);
                        double p95 = rs.getDouble(5);
                        OptionalDouble latency =
                                rs.wasNull() ? OptionalDouble.empty() : OptionalDouble.of(p95 / 1000.0);
                        if (i >= 0 && i < buckets) {
                            byApi.computeIfAbsent(rs.getString(1), k -> new Point[buckets])[i] =
                                    new Point(start, rs.getLong(3), rs.getLong(4), latency);
                        }
                    }
                }
            }
            return null;
        });
        List<ApiSeries> out = new ArrayList<>();
        byApi.forEach((api, points) -> {
            List<Point> filled = new ArrayList<>(buckets);
            for (int i = 0; i < buckets; i++) {
                filled.add(
                        points[i] != null
                                ? points[i]
                                : new Point(since.plusSeconds(i * seconds), 0, 0, OptionalDouble.empty()));
            }
            out.add(new ApiSeries(api, List.copyOf(filled)));
        });
        return out;
    }

    private List<NearQuota> nearQuota(Instant until, TenantScope scope) throws SQLException {
        boolean scoped = !scope.all();
        List<NearQuota> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement(NEAR.replace("SCOPE", scoped ? "and caller = any (?)" : ""))) {
            c.setReadOnly(true);
            ps.setObject(1, LocalDate.ofInstant(until, java.time.ZoneOffset.UTC).minusDays(31));
            ps.setInt(2, NEAR_QUOTA_PERCENT);
            if (scoped) {
                ps.setArray(
                        3,
                        c.createArrayOf(
                                "varchar",
                                scope.tenants().stream().map(t -> "tenant:" + t).toArray()));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new NearQuota(
                            rs.getString(1),
                            rs.getString(2),
                            rs.getObject(3, LocalDate.class),
                            rs.getInt(4),
                            rs.getLong(5),
                            rs.getLong(6)));
                }
            }
        }
        return out;
    }

    private static void bind(Connection c, PreparedStatement ps, Instant since, Instant until, TenantScope scope)
            throws SQLException {
        ps.setTimestamp(1, Timestamp.from(since));
        ps.setTimestamp(2, Timestamp.from(until));
        if (!scope.all()) {
            ps.setArray(3, c.createArrayOf("varchar", scope.tenants().toArray()));
        }
    }
}
