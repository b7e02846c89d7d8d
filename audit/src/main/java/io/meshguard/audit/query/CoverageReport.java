package io.meshguard.audit.query;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.audit.als.AccessLogMapper;
import io.meshguard.contract.RouteContract.AccessLogTags;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Proof of coverage: every request a gateway, sidecar or waypoint logged (the access-log service's {@code api_call}
 * rows) joined by request id with the Checks extauthz decided ({@code authz_decision} rows) and the DLP server's
 * sessions (its own {@code api_call} rows), per service over a window. A protected request that reached a workload
 * without a Check, or without the DLP session its route names, is reported with sample request ids; a logged request
 * without {@code x-request-id} cannot be joined and is counted as unverifiable, never as covered.
 *
 * <p>The join runs in PostgreSQL, where all three kinds of rows meet (they come from different servers and
 * replicas; no single process sees them all). It reads the window through the {@code (kind, occurred_at)} index,
 * joins on the lower-cased request id with hash joins that spill to disk past {@code work_mem}, and returns one
 * aggregate row per service plus at most {@code samples} ids per service, so neither side holds the window's rows
 * in memory. What counts as protected (docs/operate/prove-coverage.md, "Proof of coverage"):
 *
 * <ul>
 *   <li>a row that reached an upstream: it names an upstream cluster, or it is a stream summary (those keep no
 *       details), and Envoy did not answer it itself after an ext_authz denial or a rate limit;
 *   <li>a gateway row (it carries the route contract's access-log tags) whose route says {@code authz: checked}; such
 *       a route also sends its bodies to the DLP server with a profile ({@code default} when the route names none),
 *       so it needs a DLP session too;
 *   <li>every other row: only protected workloads ({@code meshguard.io/protected=true}) send their access log to
 *       meshguard (the shipped {@code Telemetry}), so each needs a Check. Whether such a workload is DLP-enabled is
 *       not in its log, so a DLP session is counted but not required.
 * </ul>
 */
public final class CoverageReport {
    /** The longest window one report reads: a month of rows is already a large scan. */
    public static final Duration MAX_WINDOW = Duration.ofDays(31);

    /** Checks are looked for this far either side of the window (a Check precedes its access-log row's end). */
    static final Duration CHECK_SLACK = Duration.ofMinutes(5);

    /**
     * The DLP server writes its row when the stream ends, the access log stamps the request's start: a session is
     * looked for up to this long after the window (longer streams are reported as missing their session).
     */
    static final Duration SESSION_SLACK = Duration.ofHours(1);

    /** The most services one report lists; the rest are summed into one {@value #OTHER_SERVICES} row. */
    public static final int MAX_SERVICES = 500;

    public static final String OTHER_SERVICES = "_other";

    /** The host an authority names: lower-cased, without its port. */
    private static final String HOST = "lower(regexp_replace(%s, ':[0-9]+$', ''))";

    private static final String ROUTE_API = AccessLogMapper.API_DETAIL;
    private static final String AUTHZ = AccessLogMapper.AUTHZ_DETAIL;
    private static final String NONCE = AccessLogMapper.NONCE_DETAIL;

    // One row per logged request. The DLP server's own api_call row always has dlp_notes; the access-log receiver's
    // never has (a client can set x-dwp-source, not a details key). JDBC takes '?' as a parameter, so jsonb key
    // tests are written as "details->'key' is not null".
    private static final String JOINED = "with logged as ("
            + " select a.occurred_at, a.request_id, lower(nullif(a.request_id, '')) as rid,"
            + " a.details->>'" + NONCE + "' as nonce,"
            + " " + HOST.formatted("a.authority") + " as host,"
            + " case when a.details->'" + ROUTE_API + "' is not null then coalesce(a.route, '(no route)')"
            + " else coalesce(nullif(split_part(a.details->>'upstream_cluster', '|', 4), ''),"
            + " nullif(lower(regexp_replace(a.authority, ':[0-9]+$', '')), ''), 'unknown') end as service,"
            + " ((a.details->'upstream_cluster' is not null or a.is_stream)"
            + " and coalesce(a.reason, '') not in ('ext_authz_denied', 'rate_limited')"
            + " and coalesce(a.details->>'" + AUTHZ + "', '" + AccessLogTags.AUTHZ_CHECKED + "') = '"
            + AccessLogTags.AUTHZ_CHECKED + "'"
            // the client went away before any answer and before an upstream host was chosen: the route named its
            // cluster, but nothing reached a workload (e.g. a reset while ext_authz buffered the body it checks)
            + " and not (coalesce(a.status, 0) = 0 and a.details->'" + AccessLogMapper.UPSTREAM_HOST_DETAIL
            + "' is null and a.details->'response_flags' @> '[\"downstream_connection_termination\"]'::jsonb))"
            + " as protected,"
            + " a.details->'" + ROUTE_API + "' is not null as dlp_required,"
            + " a.details->'" + AccessLogMapper.CANARY_DETAIL + "' is not null as canary"
            + " from audit_event a where a.kind = 'api_call' and a.occurred_at >= ? and a.occurred_at < ?"
            + " and a.details->'dlp_notes' is null),"
            // by request id, a Check covers one request: an allow, for the same authority, counted per id and
            // authority; an allow that minted a nonce covers only the row carrying that nonce (minted: counted to
            // name what a row without it lacks)
            + " checks as (select lower(request_id) as rid, " + HOST.formatted("authority") + " as host,"
            + " count(*) filter (where details->'" + NONCE + "' is null) as allows,"
            + " count(*) filter (where details->'" + NONCE + "' is not null) as minted from audit_event"
            + " where kind = 'authz_decision' and occurred_at >= ? and occurred_at < ? and request_id <> ''"
            + " and decision = 'allow' and authority is not null group by 1, 2),"
            + " nonces as (select distinct details->>'" + NONCE + "' as nonce from audit_event"
            + " where kind = 'authz_decision' and occurred_at >= ? and occurred_at < ? and decision = 'allow'"
            + " and details->'" + NONCE + "' is not null),"
            + " sessions as (select distinct lower(request_id) as rid from audit_event"
            + " where kind = 'api_call' and occurred_at >= ? and occurred_at < ? and details->'dlp_notes' is not null"
            + " and request_id <> ''),"
            // an id on more logged requests of one service than it has allowing Checks was chosen again by a
            // client (in-mesh Envoys keep a client's x-request-id): none of those requests counts as checked
            + " counted as (select l.*, c.allows, c.minted, n.nonce is not null as nonce_known,"
            + " count(*) filter (where l.nonce is null) over (partition by l.rid, l.service) as uses,"
            + " count(*) over (partition by l.nonce) as nonce_uses, s.rid is not null as dlp"
            + " from logged l left join checks c on c.rid = l.rid and c.host = l.host"
            + " left join nonces n on n.nonce = l.nonce"
            + " left join sessions s on s.rid = l.rid),"
            // a row carrying a nonce is the stream its Check decided (only the proxy sets dynamic metadata): checked
            // when an allow minted it and no other logged request carries it. A row without one is joined by request
            // id to allows that minted none (an extauthz from before nonces); an allow of its id that did mint one
            // answered another stream, whose row carries it
            + " joined as (select k.*, k.rid is not null or k.nonce is not null as has_id,"
            + " case when k.nonce is not null then k.nonce_known and k.nonce_uses = 1"
            + " else k.rid is not null and coalesce(k.allows, 0) >= k.uses end as checked,"
            + " k.nonce is null and k.rid is not null and k.uses > 1 and coalesce(k.allows, 0) < k.uses as reused,"
            + " k.nonce is null and coalesce(k.minted, 0) > 0 and coalesce(k.allows, 0) < k.uses as nonce_missing,"
            + " k.nonce is not null and not k.nonce_known as nonce_unknown,"
            + " k.nonce is not null and k.nonce_known and k.nonce_uses > 1 as nonce_reused"
            + " from counted k where (cast(? as text) is null or k.service = ?))";

    private static final String COUNTS = " count(*),"
            + " count(*) filter (where protected),"
            + " count(*) filter (where protected and has_id and checked),"
            + " count(*) filter (where protected and dlp_required),"
            + " count(*) filter (where protected and dlp_required and has_id and dlp),"
            + " count(*) filter (where protected and not dlp_required and has_id and dlp),"
            + " count(*) filter (where protected and has_id and not checked),"
            + " count(*) filter (where protected and dlp_required and has_id and not dlp),"
            + " count(*) filter (where protected and not has_id),"
            + " count(*) filter (where canary),"
            + " count(*) filter (where protected and reused),"
            + " count(*) filter (where protected and checked and nonce is not null),"
            + " count(*) filter (where protected and nonce_missing),"
            + " count(*) filter (where protected and nonce_unknown),"
            + " count(*) filter (where protected and nonce_reused)";

    private static final String TOTALS =
            JOINED + " select service," + COUNTS + " from joined group by service order by service";

    // The same counts per slice of the window: occurred_at floored to a multiple of the slice's seconds since the
    // epoch (what CoverageMonitor keeps per slice). The slice length is bound last.
    private static final String SLICES = JOINED + " select to_timestamp(floor(extract(epoch from occurred_at) / ?) * ?)"
            + " as slice, service," + COUNTS + " from joined group by 1, 2 order by 1, 2";

    private static final String SAMPLES = JOINED + " select service, request_id, not checked,"
            + " dlp_required and not dlp from (select j.*,"
            + " row_number() over (partition by service order by occurred_at desc, request_id) as n from joined j"
            + " where protected and rid is not null and (not checked or (dlp_required and not dlp))) uncovered"
            + " where n <= ? order by service, occurred_at desc, request_id";

    /**
     * How the checked requests were joined to their Checks, and why requests that a nonce-minting Check concerns were
     * not. A nonce is what extauthz returned with one allow; the proxy that asked logs it from its dynamic metadata.
     *
     * @param onNonce checked requests joined on their nonce (the rest of {@code checked} on the request id, to
     *     allows decided before extauthz minted nonces)
     * @param nonceMissing unchecked requests without a nonce whose request id and authority have only allows that
     *     minted one: that Check answered another stream (a client reused its id)
     * @param nonceUnknown unchecked requests whose nonce no allowing Check in the window minted
     * @param nonceReused unchecked requests whose nonce another logged request carries too
     */
    public record CheckJoins(long onNonce, long nonceMissing, long nonceUnknown, long nonceReused) {
        public static final CheckJoins NONE = new CheckJoins(0, 0, 0, 0);

        CheckJoins plus(CheckJoins o) {
            return new CheckJoins(
                    onNonce + o.onNonce,
                    nonceMissing + o.nonceMissing,
                    nonceUnknown + o.nonceUnknown,
                    nonceReused + o.nonceReused);
        }
    }

    /** One uncovered request: its id as logged, and what it lacked. */
    public record Sample(String requestId, boolean withoutCheck, boolean withoutDlp) {}

    /**
     * One service's requests in the window.
     *
     * @param seen every logged request, protected or not (local replies, routes without ext_authz included)
     * @param protectedRequests those that reached a workload and needed a Check
     * @param checked protected requests with their allowing Check: the one whose nonce the row carries, else (an
     *     allow that minted no nonce) one of the same request id and authority, one Check per logged request
     * @param dlpRequired protected requests whose route names a DLP profile
     * @param dlpCovered of those, the ones with a DLP session of the same request id
     * @param dlpSeen protected requests without a DLP requirement that still had a DLP session (sidecar DLP)
     * @param unchecked protected requests with a request id and no Check
     * @param withoutDlp requests with a DLP requirement, a request id and no DLP session
     * @param unverifiable protected requests logged without a request id: nothing to join on
     * @param canary requests marked as {@code meshguard canary}'s ({@code x-meshguard-canary}), of {@code seen}: counted
     *     like the rest (any client can send the header), stated apart so synthetic traffic is not taken for use
     * @param reused protected requests whose request id is on more logged requests of this service than it has
     *     allowing Checks for their authority (a client repeated an id): of {@code unchecked}, stated apart
     * @param joins how {@code checked} was joined, and the nonce reasons of {@code unchecked}
     * @param samples a few uncovered request ids, newest first
     */
    public record ServiceCoverage(
            String service,
            long seen,
            long protectedRequests,
            long checked,
            long dlpRequired,
            long dlpCovered,
            long dlpSeen,
            long unchecked,
            long withoutDlp,
            long unverifiable,
            long canary,
            long reused,
            CheckJoins joins,
            List<Sample> samples) {
        public ServiceCoverage {
            samples = List.copyOf(samples);
        }

        /** Requests that reached a workload without their Check or their DLP profile. */
        public long uncovered() {
            return unchecked + withoutDlp;
        }

        /** Whether every protected request was proven covered (none uncovered, none unverifiable). */
        public boolean covered() {
            return uncovered() == 0 && unverifiable == 0;
        }
    }

    /** The report over {@code [since, until)}. */
    public record Coverage(Instant since, Instant until, List<ServiceCoverage> services) {
        private static final ObjectMapper JSON = new ObjectMapper();

        public Coverage {
            services = List.copyOf(services);
        }

        public long uncovered() {
            return services.stream().mapToLong(ServiceCoverage::uncovered).sum();
        }

        public long unverifiable() {
            return services.stream().mapToLong(ServiceCoverage::unverifiable).sum();
        }

        /** Requests marked as canaries, of all seen. */
        public long canary() {
            return services.stream().mapToLong(ServiceCoverage::canary).sum();
        }

        /** The report as {@code meshguard coverage --format json} and {@code GET /audit/coverage} answer it. */
        public ObjectNode toJson() {
            ObjectNode root = JSON.createObjectNode();
            root.put("since", since.toString());
            root.put("until", until.toString());
            root.put("uncovered", uncovered());
            root.put("unverifiable", unverifiable());
            root.put("canary", canary());
            ArrayNode list = root.putArray("services");
            for (ServiceCoverage s : services) {
                ObjectNode o = list.addObject();
                o.put("service", s.service());
                o.put("seen", s.seen());
                o.put("protected", s.protectedRequests());
                o.put("checked", s.checked());
                o.put("dlp_required", s.dlpRequired());
                o.put("dlp_covered", s.dlpCovered());
                o.put("dlp_seen_unrequired", s.dlpSeen());
                o.put("unchecked", s.unchecked());
                o.put("without_dlp", s.withoutDlp());
                o.put("unverifiable", s.unverifiable());
                o.put("canary", s.canary());
                o.put("reused_id", s.reused());
                ObjectNode joinedOn = o.putObject("joined_on");
                joinedOn.put("nonce", s.joins().onNonce());
                joinedOn.put("request_id", s.checked() - s.joins().onNonce());
                o.put("nonce_missing", s.joins().nonceMissing());
                o.put("nonce_unknown", s.joins().nonceUnknown());
                o.put("nonce_reused", s.joins().nonceReused());
                ArrayNode samples = o.putArray("samples");
                for (Sample sample : s.samples()) {
                    samples.addObject()
                            .put("request_id", sample.requestId())
                            .put("without_check", sample.withoutCheck())
                            .put("without_dlp", sample.withoutDlp());
                }
            }
            return root;
        }
    }

    private final DataSource dataSource;

    public CoverageReport(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Coverage of the requests logged in {@code [since, until)}.
     *
     * @param service only this service (the gateway route, or the mesh service's host), else all
     * @param samples uncovered request ids listed per service (0 to 100)
     */
    public Coverage report(Instant since, Instant until, Optional<String> service, int samples) throws SQLException {
        if (!since.isBefore(until)) {
            throw new IllegalArgumentException("the window is empty: " + since + " is not before " + until);
        }
        if (Duration.between(since, until).compareTo(MAX_WINDOW) > 0) {
            throw new IllegalArgumentException("a coverage window is at most " + MAX_WINDOW.toDays() + " days");
        }
        if (samples < 0 || samples > 100) {
            throw new IllegalArgumentException("samples must be between 0 and 100, got " + samples);
        }
        Map<String, ServiceCoverage> byService = new LinkedHashMap<>();
        Map<String, List<Sample>> sampled = new LinkedHashMap<>();
        try (Connection c = dataSource.getConnection()) {
            c.setReadOnly(true);
            boolean autoCommit = c.getAutoCommit();
            int isolation = c.getTransactionIsolation();
            // both statements see the same rows
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try {
                if (samples > 0) {
                    try (PreparedStatement ps = c.prepareStatement(SAMPLES)) {
                        int next = bind(ps, since, until, service);
                        ps.setInt(next, samples);
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                sampled.computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
                                        .add(new Sample(rs.getString(2), rs.getBoolean(3), rs.getBoolean(4)));
                            }
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(TOTALS)) {
                    bind(ps, since, until, service);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            add(byService, counts(rs, 1, sampled.getOrDefault(rs.getString(1), List.of())));
                        }
                    }
                }
                c.commit();
            } finally {
                c.rollback();
                c.setAutoCommit(autoCommit);
                c.setTransactionIsolation(isolation);
            }
        }
        return new Coverage(since, until, List.copyOf(byService.values()));
    }

    /** One service's counts in one slice of a window. */
    public record SliceCoverage(Instant slice, ServiceCoverage coverage) {}

    /**
     * The counts of {@code [since, until)} per service and per slice of {@code slice} (slices start at multiples of
     * it since the epoch; pass a {@code since} on such a multiple to get whole slices), oldest first, without samples.
     */
    public List<SliceCoverage> slices(Instant since, Instant until, Duration slice) throws SQLException {
        if (!since.isBefore(until)) {
            throw new IllegalArgumentException("the window is empty: " + since + " is not before " + until);
        }
        if (Duration.between(since, until).compareTo(MAX_WINDOW) > 0) {
            throw new IllegalArgumentException("a coverage window is at most " + MAX_WINDOW.toDays() + " days");
        }
        if (slice.toSeconds() < 1) {
            throw new IllegalArgumentException("a slice is at least one second");
        }
        List<SliceCoverage> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            c.setReadOnly(true);
            try (PreparedStatement ps = c.prepareStatement(SLICES)) {
                int next = bind(ps, since, until, Optional.empty());
                ps.setLong(next, slice.toSeconds());
                ps.setLong(next + 1, slice.toSeconds());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new SliceCoverage(rs.getTimestamp(1).toInstant(), counts(rs, 2, List.of())));
                    }
                }
            }
        }
        return out;
    }

    private static ServiceCoverage counts(ResultSet rs, int at, List<Sample> samples) throws SQLException {
        return new ServiceCoverage(
                rs.getString(at),
                rs.getLong(at + 1),
                rs.getLong(at + 2),
                rs.getLong(at + 3),
                rs.getLong(at + 4),
                rs.getLong(at + 5),
                rs.getLong(at + 6),
                rs.getLong(at + 7),
                rs.getLong(at + 8),
                rs.getLong(at + 9),
                rs.getLong(at + 10),
                rs.getLong(at + 11),
                new CheckJoins(rs.getLong(at + 12), rs.getLong(at + 13), rs.getLong(at + 14), rs.getLong(at + 15)),
                samples);
    }

    // Past MAX_SERVICES the rest share one row, so a flood of distinct hosts (pod IPs, spoofed authorities) cannot
    // grow the report or the metric's label set without bound.
    private static void add(Map<String, ServiceCoverage> byService, ServiceCoverage row) {
        if (byService.size() < MAX_SERVICES || byService.containsKey(row.service())) {
            byService.put(row.service(), row);
            return;
        }
        ServiceCoverage o = byService.remove(OTHER_SERVICES);
        if (o == null) {
            byService.put(
                    OTHER_SERVICES,
                    new ServiceCoverage(
                            OTHER_SERVICES,
                            row.seen(),
                            row.protectedRequests(),
                            row.checked(),
                            row.dlpRequired(),
                            row.dlpCovered(),
                            row.dlpSeen(),
                            row.unchecked(),
                            row.withoutDlp(),
                            row.unverifiable(),
                            row.canary(),
                            row.reused(),
                            row.joins(),
                            row.samples()));
            return;
        }
        List<Sample> samples = new ArrayList<>(o.samples());
        if (samples.size() < 10) {
            samples.addAll(row.samples().subList(0, Math.min(row.samples().size(), 10 - samples.size())));
        }
        byService.put(
                OTHER_SERVICES,
                new ServiceCoverage(
                        OTHER_SERVICES,
                        o.seen() + row.seen(),
                        o.protectedRequests() + row.protectedRequests(),
                        o.checked() + row.checked(),
                        o.dlpRequired() + row.dlpRequired(),
                        o.dlpCovered() + row.dlpCovered(),
                        o.dlpSeen() + row.dlpSeen(),
                        o.unchecked() + row.unchecked(),
                        o.withoutDlp() + row.withoutDlp(),
                        o.unverifiable() + row.unverifiable(),
                        o.canary() + row.canary(),
                        o.reused() + row.reused(),
                        o.joins().plus(row.joins()),
                        samples));
    }

    private static int bind(PreparedStatement ps, Instant since, Instant until, Optional<String> service)
            throws SQLException {
        ps.setTimestamp(1, Timestamp.from(since));
        ps.setTimestamp(2, Timestamp.from(until));
        ps.setTimestamp(3, Timestamp.from(since.minus(CHECK_SLACK)));
        ps.setTimestamp(4, Timestamp.from(until.plus(CHECK_SLACK)));
        ps.setTimestamp(5, Timestamp.from(since.minus(CHECK_SLACK)));
        ps.setTimestamp(6, Timestamp.from(until.plus(CHECK_SLACK)));
        ps.setTimestamp(7, Timestamp.from(since.minus(CHECK_SLACK)));
        ps.setTimestamp(8, Timestamp.from(until.plus(SESSION_SLACK)));
        ps.setString(9, service.orElse(null));
        ps.setString(10, service.orElse(null));
        return 11;
    }
}
