package io.meshguard.audit.query;

import io.meshguard.audit.als.AccessLogMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import javax.sql.DataSource;

/**
 * Usage per API version over a time window: the gateway's {@code api_call} rows (one per request: the rows the
 * access-log receiver writes with {@code details.api} and {@code details.api_version}; the DLP server's row for the
 * same request carries no API and is not counted) joined with the API versions the gateways serve (lifecycle,
 * deprecation and sunset dates, successor, from each gateway group's newest published revision), so a version
 * without traffic shows too. Not the draft: after a rollback, or before a publish, it says something else.
 */
public final class ApiUsageReport {
    private static final String API = AccessLogMapper.API_DETAIL;
    private static final String VERSION = AccessLogMapper.API_VERSION_DETAIL;

    /** The gateway's rows in the window, optionally of one API. */
    private static final String CALLS = "select details->>'" + API + "' as api, details->>'" + VERSION + "' as version,"
            + " status, latency_us, tenant, client_id from audit_event"
            + " where kind = 'api_call' and occurred_at >= ? and occurred_at < ?"
            + " and details->>'" + API + "' is not null and details->>'" + VERSION + "' is not null"
            + " and source is distinct from 'extproc-dlp'"
            + " and (cast(? as text) is null or details->>'" + API + "' = ?)";

    private static final String USAGE = "with calls as (" + CALLS + "),"
            + " usage as (select api, version, count(*) as requests,"
            + "   count(*) filter (where status >= 500 or status is null or status < 100) as errors,"
            + "   count(*) filter (where status between 400 and 499) as client_errors,"
            + "   percentile_cont(0.5) within group (order by latency_us) as p50_us,"
            + "   percentile_cont(0.95) within group (order by latency_us) as p95_us"
            + "   from calls group by api, version),"
            // what the gateways serve: each group's newest revision (a rollback is a new revision), not the draft
            // tables (api, api_version), which may hold an unpublished change or the state before a rollback
            + " served as (select r.id, r.api_chunks from config_revision r"
            + "   where r.id in (select max(id) from config_revision group by group_id)),"
            // a revision's APIs: the parts named through its chunks
            + " served_apis as (select s.id, p.content::jsonb as a from served s"
            + "   cross join unnest(s.api_chunks) as c(digest)"
            + "   join config_revision_chunk k on k.digest = c.digest"
            + "   cross join unnest(k.parts) as kp(digest)"
            + "   join config_revision_part p on p.digest = kp.digest),"
            + " versions as (select distinct on (a->>'name', v->>'version') a->>'name' as api, v->>'version' as version,"
            + "   coalesce(v->>'status', 'active') as status, (v->>'deprecated_at')::timestamptz as deprecated_at,"
            + "   (v->>'sunset_at')::timestamptz as sunset_at, v->>'successor' as successor"
            + "   from served_apis s, jsonb_array_elements(coalesce(s.a->'versions', '[]'::jsonb)) v"
            + "   where cast(? as text) is null or s.a->>'name' = ?"
            + "   order by a->>'name', v->>'version', s.id desc)"
            + " select coalesce(u.api, v.api) as api, coalesce(u.version, v.version) as version,"
            + " v.status, v.deprecated_at, v.sunset_at, v.successor,"
            + " coalesce(u.requests, 0) as requests, coalesce(u.errors, 0) as errors,"
            + " coalesce(u.client_errors, 0) as client_errors, u.p50_us, u.p95_us"
            + " from usage u full join versions v on v.api = u.api and v.version = u.version"
            + " order by 1, 2";

    private static final String CALLERS = "with calls as (" + CALLS + "),"
            + " ranked as (select api, version, tenant, client_id, count(*) as requests,"
            + "   row_number() over (partition by api, version order by count(*) desc, tenant, client_id) as n"
            + "   from calls group by api, version, tenant, client_id)"
            + " select api, version, tenant, client_id, requests from ranked where n <= ? order by api, version, n";

    /** One caller of a version: absent tenant or client id means ext_authz did not vouch for one. */
    public record Caller(Optional<String> tenant, Optional<String> clientId, long requests) {}

    /**
     * One API version's usage in the window.
     *
     * @param lifecycle    the version's status in the gateway config ({@code active | deprecated | sunset | retired});
     *                     empty when the config no longer has the version
     * @param errors       responses with a 5xx status or none at all
     * @param clientErrors responses with a 4xx status
     */
    public record VersionUsage(
            String api,
            String version,
            Optional<String> lifecycle,
            Optional<Instant> deprecatedAt,
            Optional<Instant> sunsetAt,
            Optional<String> successor,
            long requests,
            long errors,
            long clientErrors,
            OptionalDouble p50Millis,
            OptionalDouble p95Millis,
            List<Caller> topCallers) {

        public boolean deprecated() {
            return lifecycle.filter("deprecated"::equals).isPresent();
        }
    }

    private final DataSource dataSource;

    public ApiUsageReport(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Every version of every API (or of {@code api}) that had traffic in {@code [since, until)} or is in the gateway
     * config, ordered by API and version, each with at most {@code topCallers} callers, busiest first.
     */
    public List<VersionUsage> report(Instant since, Instant until, Optional<String> api, int topCallers)
            throws SQLException {
        if (!until.isAfter(since)) {
            throw new IllegalArgumentException(
                    "the window's end (" + until + ") must be after its start (" + since + ")");
        }
        if (topCallers < 0) {
            throw new IllegalArgumentException("the number of top callers cannot be negative: " + topCallers);
        }
        Map<String, List<Caller>> callers = new LinkedHashMap<>();
        List<VersionUsage> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            c.setReadOnly(true);
            if (topCallers > 0) {
                try (PreparedStatement ps = c.prepareStatement(CALLERS)) {
                    int i = window(ps, since, until, api);
                    ps.setInt(i, topCallers);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            callers.computeIfAbsent(key(rs.getString(1), rs.getString(2)), k -> new ArrayList<>())
                                    .add(new Caller(
                                            Optional.ofNullable(rs.getString(3)),
                                            Optional.ofNullable(rs.getString(4)),
                                            rs.getLong(5)));
                        }
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(USAGE)) {
                int i = window(ps, since, until, api);
                ps.setString(i, api.orElse(null));
                ps.setString(i + 1, api.orElse(null));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String a = rs.getString(1);
                        String v = rs.getString(2);
                        out.add(new VersionUsage(
                                a,
                                v,
                                Optional.ofNullable(rs.getString(3)),
                                instant(rs.getTimestamp(4)),
                                instant(rs.getTimestamp(5)),
                                Optional.ofNullable(rs.getString(6)),
                                rs.getLong(7),
                                rs.getLong(8),
                                rs.getLong(9),
                                millis(rs, 10),
                                millis(rs, 11),
                                List.copyOf(callers.getOrDefault(key(a, v), List.of()))));
                    }
                }
            }
        }
        out.sort(Comparator.comparing(VersionUsage::api).thenComparing(VersionUsage::version));
        return out;
    }

    private static int window(PreparedStatement ps, Instant since, Instant until, Optional<String> api)
            throws SQLException {
        ps.setTimestamp(1, Timestamp.from(since));
        ps.setTimestamp(2, Timestamp.from(until));
        ps.setString(3, api.orElse(null));
        ps.setString(4, api.orElse(null));
        return 5;
    }

    private static String key(String api, String version) {
        return api + '\u0000' + version;
    }

    private static Optional<Instant> instant(Timestamp t) {
        return t == null ? Optional.empty() : Optional.of(t.toInstant());
    }

    private static OptionalDouble millis(ResultSet rs, int column) throws SQLException {
        double us = rs.getDouble(column);
        return rs.wasNull() ? OptionalDouble.empty() : OptionalDouble.of(us / 1000.0);
    }
}
