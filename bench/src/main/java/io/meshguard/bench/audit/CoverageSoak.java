package io.meshguard.bench.audit;

import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PathPolicy;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.audit.als.AccessLogHeaders;
import io.meshguard.audit.als.AccessLogMapper;
import io.meshguard.audit.als.AccessLogSenders;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.audit.coverage.CoverageMonitor;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.audit.query.CoverageReport.Coverage;
import io.meshguard.audit.query.CoverageReport.Sample;
import io.meshguard.audit.query.CoverageReport.ServiceCoverage;
import io.meshguard.contract.RouteContract.AccessLogTags;
import io.meshguard.runtime.SuppliedClock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.ToLongFunction;
import javax.sql.DataSource;

/**
 * A long soak of the proof-of-coverage join in emulated time: traffic as gateways, waypoints and sidecars log it (the
 * access-log entries Envoy's gRPC logger sends, turned into rows by the receiver's own {@link AccessLogMapper}), the
 * Check rows extauthz writes and the DLP server's session rows, each reaching PostgreSQL when its writer would deliver
 * it (flush delays, clock skew between the servers, spool episodes that hold one writer's rows back, outages during
 * which nothing is written and the join fails). The real {@link CoverageMonitor} runs every 15 emulated seconds on an
 * emulated clock, and the real {@link CoverageReport} over the whole soak at the end.
 *
 * <p>Every request knows whether it really reached a workload without its Check (an injected bypass) or without its
 * DLP session. A false alarm is a count the monitor or the report gave that no injected bypass explains; a miss is an
 * injected bypass neither counted. Bypass services are named apart from checked traffic where the path makes them so
 * (a pod IP), and share the service otherwise (a waypoint whose CUSTOM policy is bound by selector, a gateway route
 * whose ext_authz filter did not apply), where the report's sample ids are compared with the injected ones.
 */
public final class CoverageSoak {
    static final Instant T0 = Instant.parse("2027-09-01T00:00:00Z");
    /** The monitor as shipped: the defaults of audit.coverage.interval, .lag and .settle. */
    static final Duration INTERVAL = AuditConfig.COVERAGE_INTERVAL.defaultValue();

    static final Duration LAG = AuditConfig.COVERAGE_LAG.defaultValue();

    static final String TRANSFERS = "transfers";
    static final String CHAT = "chat";
    static final String LEDGER = "ledger.loans.svc.cluster.local";
    static final String ACCOUNTS = "accounts.bank.svc.cluster.local";
    static final String EDGE = "api.bank.example";

    /** What happened to one request; the bypass kinds are the injected ones. */
    enum Kind {
        GATEWAY_OK(false),
        GATEWAY_RETRIED(false),
        GATEWAY_RETRIES_EXHAUSTED(false),
        UPSTREAM_TIMEOUT(false),
        CLIENT_RESET_BEFORE_CHECK(false),
        CLIENT_RESET_AFTER_CHECK(false),
        NO_ROUTE_404(false),
        HEADERS_TOO_LARGE_431(false),
        DENIED_401(false),
        RATE_LIMITED_429(false),
        CANARY_EXPIRED_TOKEN(false),
        CANARY_TEST_CARD(false),
        STREAM_OK(false),
        WAYPOINT_OK(false),
        SIDECAR_OK(false),
        BYPASS_POD_IP(true),
        BYPASS_SELECTOR_BOUND_WAYPOINT(true),
        BYPASS_FILTER_NOT_APPLIED(true),
        BYPASS_LOGGED_LATE(true),
        BYPASS_STREAM(true),
        BYPASS_WITHOUT_DLP(true);

        final boolean bypass;

        Kind(boolean bypass) {
            this.bypass = bypass;
        }
    }

    /**
     * @param length emulated time the traffic spans
     * @param rate requests per emulated second
     * @param bypassesPerKind injected requests of each bypass kind, spread over the soak
     */
    public record Settings(Duration length, double rate, int bypassesPerKind, long seed, Duration hiccupEvery) {
        /** The shipped soak's episodes: a writer's hiccup every 2 h, a PostgreSQL outage every 6 h. */
        public Settings(Duration length, double rate, int bypassesPerKind, long seed) {
            this(length, rate, bypassesPerKind, seed, Duration.ofHours(2));
        }
    }

    /**
     * @param falseAlarms counts the monitor or the report gave that no injected bypass explains, per service and result
     * @param misses injected bypasses not counted, per service and result
     * @param reportSampleMismatches sample ids of the final report that are not injected bypasses of that service
     */
    public record Result(
            long requests,
            Map<Kind, Long> byKind,
            long monitorRuns,
            long monitorFailures,
            Map<String, Long> falseAlarms,
            Map<String, Long> misses,
            Map<String, Long> reportFalseAlarms,
            Map<String, Long> reportMisses,
            List<String> reportSampleMismatches,
            long expectedUnchecked,
            long expectedWithoutDlp,
            double joinMillisMean,
            double joinMillisMax,
            Duration wall) {
        public long falseAlarmCount() {
            return falseAlarms.values().stream().mapToLong(Long::longValue).sum()
                    + reportFalseAlarms.values().stream()
                            .mapToLong(Long::longValue)
                            .sum()
                    + reportSampleMismatches.size();
        }

        public long missCount() {
            return misses.values().stream().mapToLong(Long::longValue).sum()
                    + reportMisses.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** A row and the emulated instant its writer delivers it to PostgreSQL. */
    private record Arrival(Instant at, long order, AuditEvent row) {}

    private final Settings settings;
    private final DataSource dataSource;
    private final Random random;
    private final AccessLogMapper mapper = new AccessLogMapper(AccessLogHeaders.defaults(), PathPolicy.DROP_QUERY);
    private static final AccessLogSenders.Sender GATEWAY = new AccessLogSenders.Sender(
            AccessLogSenders.Kind.GATEWAY, "spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway");
    private final PriorityQueue<Arrival> pending = new PriorityQueue<>(
            (a, b) -> a.at().equals(b.at()) ? Long.compare(a.order(), b.order()) : a.at().compareTo(b.at()));
    private final Map<String, Long> expected = new TreeMap<>();
    private final Map<String, Set<String>> bypassIds = new TreeMap<>();
    private final Map<Kind, Long> byKind = new EnumMap<>(Kind.class);
    private long order;
    private boolean verbose = Boolean.getBoolean("soak.verbose");
    private long ids;

    public CoverageSoak(Settings settings, DataSource dataSource) {
        this.settings = settings;
        this.dataSource = dataSource;
        this.random = new Random(settings.seed());
        this.hiccupEvery = settings.hiccupEvery();
        this.outageEvery = settings.hiccupEvery().multipliedBy(3);
    }

    // --- the servers' clocks and writers: extauthz replicas run ahead or behind the gateways' clock, the DLP server
    // (which runs the monitor) too; every writer flushes within a second, and now and then one spools

    private static final Duration[] EXTAUTHZ_SKEW = {Duration.ofMillis(-1800), Duration.ofMillis(700), Duration.ZERO};
    private static final Duration DLP_SKEW = Duration.ofMillis(-400);
    private static final Duration MONITOR_SKEW = Duration.ofMillis(900);
    /**
     * Every 2 h one writer (access log, extauthz, DLP in turn) has 3 minutes of failing batches: each is retried with
     * the writer's backoff (at most 5 s) and a write timeout (10 s), so its rows reach PostgreSQL 5 to 30 s late.
     */
    private final Duration hiccupEvery;

    private static final Duration HICCUP_FOR = Duration.ofMinutes(3);
    /** Every third hiccup period (6 h) PostgreSQL is away for 4 minutes: nothing is written and the join fails. */
    private final Duration outageEvery;

    private static final Duration OUTAGE_FOR = Duration.ofMinutes(4);

    /** When a row written at {@code written} by {@code writer} is in PostgreSQL. */
    private Instant delivered(Instant written, String writer) {
        // the writer's flush interval (200 ms) and its batch's commit
        Instant at = written.plusMillis(20 + random.nextInt(1200));
        long offset = Duration.between(T0, written).toMillis();
        long episode = offset / hiccupEvery.toMillis();
        String failing =
                switch ((int) (episode % 3)) {
                    case 0 -> "access_log";
                    case 1 -> "extauthz";
                    default -> "dlp";
                };
        if (episode > 0 && failing.equals(writer) && offset % hiccupEvery.toMillis() < HICCUP_FOR.toMillis()) {
            at = written.plusMillis(5_000 + random.nextInt(25_000));
        }
        Instant outageEnd = outageEnd(at);
        if (outageEnd != null) {
            at = outageEnd.plusMillis(random.nextInt(60_000)); // each writer replays its spool when it reconnects
        }
        return at;
    }

    /** The end of the PostgreSQL outage {@code at} falls in, if any. */
    private Instant outageEnd(Instant at) {
        long offset = Duration.between(T0, at).toMillis();
        long n = offset / outageEvery.toMillis();
        if (n > 0 && offset % outageEvery.toMillis() < OUTAGE_FOR.toMillis()) {
            return T0.plusMillis(n * outageEvery.toMillis()).plus(OUTAGE_FOR);
        }
        return null;
    }

    private void deliver(Instant at, AuditEvent row) {
        pending.add(new Arrival(at, order++, row));
    }

    // --- one request of each kind, as the proxies, extauthz and the DLP server record it

    private void request(Kind kind, Instant start) throws Exception {
        byKind.merge(kind, 1L, Long::sum);
        String id = "req-" + Long.toHexString(ids++) + "-" + kind.ordinal();
        Instant check = start.plusMillis(1 + random.nextInt(5));
        Duration took = Duration.ofMillis(5 + random.nextInt(300));
        switch (kind) {
            case GATEWAY_OK -> gateway(id, start, took, 200, null, true, true, true, Map.of());
            case GATEWAY_RETRIED -> {
                // the first try reset, the retry answered: one request, one Check, one row
                gateway(id, start, took.plusMillis(250), 200, null, true, true, true, Map.of());
            }
            case GATEWAY_RETRIES_EXHAUSTED ->
                gateway(
                        id,
                        start,
                        took.plusMillis(600),
                        503,
                        ResponseFlags.newBuilder()
                                .setUpstreamRemoteReset(true)
                                .setUpstreamRetryLimitExceeded(true)
                                .build(),
                        true,
                        true,
                        true,
                        Map.of());
            case UPSTREAM_TIMEOUT ->
                gateway(
                        id,
                        start,
                        Duration.ofSeconds(15),
                        504,
                        ResponseFlags.newBuilder()
                                .setUpstreamRequestTimeout(true)
                                .build(),
                        true,
                        true,
                        true,
                        Map.of());
            case CLIENT_RESET_BEFORE_CHECK -> {
                // the client went away while ext_authz still buffered the body it needs (with_request_body): the
                // route was chosen (the row names its cluster), no Check was made, nothing reached the upstream
                gateway(
                        id,
                        start,
                        took,
                        0,
                        ResponseFlags.newBuilder()
                                .setDownstreamConnectionTermination(true)
                                .build(),
                        false,
                        false,
                        false,
                        Map.of());
            }
            case CLIENT_RESET_AFTER_CHECK ->
                gateway(
                        id,
                        start,
                        took,
                        0,
                        ResponseFlags.newBuilder()
                                .setDownstreamConnectionTermination(true)
                                .build(),
                        true,
                        true,
                        true,
                        Map.of());
            case NO_ROUTE_404 -> {
                // no route: Envoy's own 404, no cluster, no tags; the Check may run before the router answers
                accessLog(entry(id, start, took, 404, "", EDGE, "/nowhere")
                        .setCommonProperties(common(start, took, "")
                                .setResponseFlags(ResponseFlags.newBuilder().setNoRouteFound(true))));
                checkRow(id, check, "allow", EDGE);
            }
            case HEADERS_TOO_LARGE_431 ->
                accessLog(entry(id, start, Duration.ofMillis(1), 431, "", EDGE, "/big")
                        .setCommonProperties(common(start, Duration.ofMillis(1), "")
                                .setResponseFlags(ResponseFlags.newBuilder().setDownstreamProtocolError(true))));
            case DENIED_401 -> {
                gatewayDenied(id, start, 401, Map.of());
                checkRow(id, check, "deny", EDGE);
            }
            case RATE_LIMITED_429 -> {
                HTTPAccessLogEntry.Builder e = gatewayEntry(id, start, took, 429, TRANSFERS);
                e.setCommonProperties(e.getCommonProperties().toBuilder()
                        .setResponseFlags(ResponseFlags.newBuilder().setRateLimited(true)));
                accessLog(e);
                checkRow(id, check, "deny", EDGE);
            }
            case CANARY_EXPIRED_TOKEN -> {
                gatewayDenied(id, start, 401, Map.of(AccessLogTags.CANARY_HEADER, "expired_token"));
                checkRow(id, check, "deny", EDGE);
            }
            case CANARY_TEST_CARD -> {
                // the Check allows, the DLP answers 403 itself before any upstream: no flag on the row
                gateway(
                        id,
                        start,
                        took,
                        403,
                        null,
                        true,
                        true,
                        false,
                        Map.of(AccessLogTags.CANARY_HEADER, "test_card"));
            }
            case STREAM_OK -> stream(id, start, streamLength(), true);
            case WAYPOINT_OK -> mesh(id, start, took, "inbound-vip|8080|http|" + LEDGER, LEDGER, true);
            case SIDECAR_OK -> mesh(id, start, took, "inbound|8080||", ACCOUNTS, true);
            case BYPASS_POD_IP -> {
                mesh(id, start, took, "inbound|8080||", "10.4.0.7:8080", false);
                bypass("10.4.0.7", "unchecked", id);
            }
            case BYPASS_SELECTOR_BOUND_WAYPOINT -> {
                mesh(id, start, took, "inbound-vip|8080|http|" + LEDGER, LEDGER, false);
                bypass(LEDGER, "unchecked", id);
            }
            case BYPASS_FILTER_NOT_APPLIED -> {
                gateway(id, start, took, 200, null, false, false, true, Map.of());
                bypass(TRANSFERS, "unchecked", id);
                bypass(TRANSFERS, "without_dlp", id);
            }
            case BYPASS_LOGGED_LATE -> {
                // the row reaches PostgreSQL 1-4 minutes after the request (the receiver's writer spooled it)
                AuditEvent row = mapper.toEvent(
                        entry(id, start, took, 200, "inbound|8080||", "10.4.0.8:8080", "/items")
                                .build(),
                        "sidecar~10.4.0.8~bank",
                        "meshguard",
                        new AccessLogSenders.Sender(
                                AccessLogSenders.Kind.SIDECAR, "spiffe://cluster.local/ns/bank/sa/bank"));
                deliver(start.plus(took).plusSeconds(60 + random.nextInt(180)), row);
                bypass("10.4.0.8", "unchecked", id);
            }
            case BYPASS_STREAM -> {
                // a stream to a pod without its Check: its one row comes when it ends (30 s to 4 min later)
                stream(id, start, Duration.ofSeconds(30 + random.nextInt(210)), false);
                bypass("10.4.0.9", "unchecked", id);
            }
            case BYPASS_WITHOUT_DLP -> {
                gateway(id, start, took, 200, null, true, false, true, Map.of());
                bypass(TRANSFERS, "without_dlp", id);
            }
        }
    }

    private Duration streamLength() {
        // most chats end within a minute, some run for minutes
        return random.nextInt(10) == 0
                ? Duration.ofSeconds(60 + random.nextInt(420))
                : Duration.ofMillis(2000 + random.nextInt(50_000));
    }

    private void bypass(String service, String result, String id) {
        expected.merge(service + " " + result, 1L, Long::sum);
        bypassIds.computeIfAbsent(service, k -> new HashSet<>()).add(id);
    }

    private void gateway(
            String id,
            Instant start,
            Duration took,
            int status,
            ResponseFlags flags,
            boolean checked,
            boolean dlp,
            boolean reachedUpstream,
            Map<String, String> headers)
            throws Exception {
        HTTPAccessLogEntry.Builder e = gatewayEntry(id, start, took, status, TRANSFERS);
        AccessLogCommon.Builder common = e.getCommonProperties().toBuilder();
        if (flags != null) {
            common.setResponseFlags(flags);
        }
        if (reachedUpstream) {
            common.setUpstreamRemoteAddress(address("10.4.1.20", 8080));
        }
        e.setCommonProperties(common);
        e.setRequest(e.getRequest().toBuilder().putAllRequestHeaders(headers));
        accessLog(e);
        if (checked) {
            checkRow(id, start.plusMillis(1 + random.nextInt(5)), "allow", EDGE);
        }
        if (dlp) {
            dlpSession(id, start.plus(took));
        }
    }

    private void gatewayDenied(String id, Instant start, int status, Map<String, String> headers) throws Exception {
        HTTPAccessLogEntry.Builder e = gatewayEntry(id, start, Duration.ofMillis(3), status, TRANSFERS);
        e.setCommonProperties(e.getCommonProperties().toBuilder()
                .setResponseFlags(ResponseFlags.newBuilder()
                        .setUnauthorizedDetails(ResponseFlags.Unauthorized.newBuilder()
                                .setReason(ResponseFlags.Unauthorized.Reason.EXTERNAL_SERVICE))));
        e.setRequest(e.getRequest().toBuilder().putAllRequestHeaders(headers));
        accessLog(e);
    }

    private HTTPAccessLogEntry.Builder gatewayEntry(String id, Instant start, Duration took, int status, String route) {
        HTTPAccessLogEntry.Builder e = entry(id, start, took, status, "outbound|8080||transfers.bank", EDGE, "/v2/x");
        e.setCommonProperties(e.getCommonProperties().toBuilder()
                .putCustomTags(AccessLogTags.tag(AccessLogTags.API), "payments")
                .putCustomTags(AccessLogTags.tag(AccessLogTags.API_VERSION), "v2")
                .putCustomTags(AccessLogTags.tag(AccessLogTags.GATEWAY_ROUTE), route)
                .putCustomTags(AccessLogTags.tag(AccessLogTags.AUTHZ), AccessLogTags.AUTHZ_CHECKED));
        return e;
    }

    private void stream(String id, Instant start, Duration length, boolean checked) throws Exception {
        HTTPAccessLogEntry.Builder e = checked
                ? entry(id, start, length, 200, "outbound|8080||llm.bank", EDGE, "/v2/chat")
                : entry(id, start, length, 200, "inbound|8080||", "10.4.0.9:8080", "/events");
        AccessLogCommon.Builder common =
                e.getCommonProperties().toBuilder().setUpstreamRemoteAddress(address("10.4.1.30", 8080));
        if (checked) {
            common.putCustomTags(AccessLogTags.tag(AccessLogTags.API), "assistant")
                    .putCustomTags(AccessLogTags.tag(AccessLogTags.API_VERSION), "v2")
                    .putCustomTags(AccessLogTags.tag(AccessLogTags.GATEWAY_ROUTE), CHAT)
                    .putCustomTags(AccessLogTags.tag(AccessLogTags.AUTHZ), AccessLogTags.AUTHZ_CHECKED);
        }
        e.setCommonProperties(common);
        e.setResponse(e.getResponse().toBuilder().putResponseHeaders("content-type", "text/event-stream"));
        accessLog(e);
        if (checked) {
            checkRow(id, start.plusMillis(2), "allow", EDGE);
            dlpSession(id, start.plus(length));
        }
    }

    private void mesh(String id, Instant start, Duration took, String cluster, String authority, boolean checked)
            throws Exception {
        HTTPAccessLogEntry.Builder e = entry(id, start, took, 200, cluster, authority, "/loans/v1/schedule");
        e.setCommonProperties(e.getCommonProperties().toBuilder().setUpstreamRemoteAddress(address("10.4.0.7", 8080)));
        accessLog(e);
        if (checked) {
            checkRow(id, start.plusMillis(1 + random.nextInt(5)), "allow", authority);
        }
    }

    private HTTPAccessLogEntry.Builder entry(
            String id, Instant start, Duration took, int status, String cluster, String authority, String path) {
        // proxies send the id as they got it; extauthz and the DLP server may log another spelling
        String logged = random.nextInt(20) == 0 ? id.toUpperCase(java.util.Locale.ROOT) : id;
        HTTPResponseProperties.Builder response = HTTPResponseProperties.newBuilder();
        if (status > 0) {
            response.setResponseCode(UInt32Value.of(status));
        }
        return HTTPAccessLogEntry.newBuilder()
                .setCommonProperties(common(start, took, cluster))
                .setRequest(HTTPRequestProperties.newBuilder()
                        .setRequestMethod(RequestMethod.POST)
                        .setAuthority(authority)
                        .setPath(path)
                        .setRequestId(logged))
                .setResponse(response);
    }

    private static AccessLogCommon.Builder common(Instant start, Duration took, String cluster) {
        return AccessLogCommon.newBuilder()
                .setStartTime(Timestamp.newBuilder()
                        .setSeconds(start.getEpochSecond())
                        .setNanos(start.getNano()))
                .setTimeToLastDownstreamTxByte(com.google.protobuf.Duration.newBuilder()
                        .setSeconds(took.getSeconds())
                        .setNanos(took.getNano()))
                .setUpstreamCluster(cluster);
    }

    private static Address address(String ip, int port) {
        return Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
                .build();
    }

    /** Envoy logs when the stream ends (start time in the entry) and flushes within a second. */
    private void accessLog(HTTPAccessLogEntry.Builder e) throws Exception {
        HTTPAccessLogEntry entry = e.build();
        AuditEvent row = mapper.toEvent(entry, "router~10.4.1.2~gateway-1.meshguard", "meshguard", GATEWAY);
        Instant start = Instant.ofEpochSecond(
                entry.getCommonProperties().getStartTime().getSeconds(),
                entry.getCommonProperties().getStartTime().getNanos());
        com.google.protobuf.Duration took = entry.getCommonProperties().getTimeToLastDownstreamTxByte();
        Instant end = start.plusSeconds(took.getSeconds()).plusNanos(took.getNanos());
        deliver(delivered(end.plusMillis(random.nextInt(1000)), "access_log"), row);
    }

    /** extauthz's row of a Check, for the request's authority: the coverage proof joins on id and authority. */
    private void checkRow(String id, Instant at, String decision, String authority) {
        Duration skew = EXTAUTHZ_SKEW[random.nextInt(EXTAUTHZ_SKEW.length)];
        AuditEvent row = AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(at.plus(skew))
                .requestId(id)
                .authority(authority)
                .method("POST")
                .path("/v2/x")
                .status("allow".equals(decision) ? 200 : 401)
                .decision(decision)
                .reason("allow".equals(decision) ? "ok" : "token_expired")
                .latencyUs(300)
                .build();
        deliver(delivered(at, "extauthz"), row);
    }

    private void dlpSession(String id, Instant end) {
        AuditEvent row = AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(end.plus(DLP_SKEW))
                .requestId(id)
                .decision("pass")
                .source("extproc-dlp")
                .detail("dlp_findings", Map.of())
                .detail("dlp_notes", Map.of())
                .build();
        deliver(delivered(end, "dlp"), row);
    }

    // --- the run

    private static final Kind[] WEIGHTED;

    static {
        Map<Kind, Integer> weights = new EnumMap<>(Kind.class);
        weights.put(Kind.GATEWAY_OK, 300);
        weights.put(Kind.GATEWAY_RETRIED, 20);
        weights.put(Kind.GATEWAY_RETRIES_EXHAUSTED, 5);
        weights.put(Kind.UPSTREAM_TIMEOUT, 8);
        weights.put(Kind.CLIENT_RESET_BEFORE_CHECK, 6);
        weights.put(Kind.CLIENT_RESET_AFTER_CHECK, 6);
        weights.put(Kind.NO_ROUTE_404, 15);
        weights.put(Kind.HEADERS_TOO_LARGE_431, 3);
        weights.put(Kind.DENIED_401, 30);
        weights.put(Kind.RATE_LIMITED_429, 10);
        weights.put(Kind.CANARY_EXPIRED_TOKEN, 2);
        weights.put(Kind.CANARY_TEST_CARD, 2);
        weights.put(Kind.STREAM_OK, 40);
        weights.put(Kind.WAYPOINT_OK, 150);
        weights.put(Kind.SIDECAR_OK, 150);
        List<Kind> list = new ArrayList<>();
        weights.forEach((k, w) -> {
            for (int i = 0; i < w; i++) {
                list.add(k);
            }
        });
        WEIGHTED = list.toArray(Kind[]::new);
    }

    public Result run() throws Exception {
        long wallStart = System.nanoTime();
        Instant end = T0.plus(settings.length());
        // the requests, then the bypasses at evenly spread random instants
        long total = (long) (settings.length().toSeconds() * settings.rate());
        List<Instant> bypassAt = new ArrayList<>();
        List<Kind> bypassKinds = new ArrayList<>();
        for (Kind k : Kind.values()) {
            if (!k.bypass) {
                continue;
            }
            for (int i = 0; i < settings.bypassesPerKind(); i++) {
                bypassAt.add(T0.plusMillis(
                        (long) (random.nextDouble() * settings.length().toMillis())));
                bypassKinds.add(k);
            }
        }
        AtomicInstant now = new AtomicInstant(T0);
        // the monitor's clock in emulated time: the soak's instant plus the monitor's skew
        Clock monitorClock = new SuppliedClock(() -> now.get().plus(MONITOR_SKEW));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        OutageDataSource database = new OutageDataSource(dataSource);
        CoverageReport report = new CoverageReport(database);
        // -Dsoak.baseline=true: the monitor's constructor of the release before (no settle time), for the baseline
        // run against that release's audit classes (docs/benchmarks.md)
        CoverageMonitor monitor = Boolean.getBoolean("soak.baseline")
                ? new CoverageMonitor(report, INTERVAL, LAG, monitorClock, meters)
                : new CoverageMonitor(
                        report, INTERVAL, LAG, AuditConfig.COVERAGE_SETTLE.defaultValue(), monitorClock, meters);
        long runs = 0;
        long failures = 0;
        double joinMillis = 0;
        double joinMax = 0;
        long nextRequest = 0;
        Map<String, Long> alarmsSoFar = new TreeMap<>();
        Instant nextMonitor = T0.plus(INTERVAL);
        // everything delivered in one emulated second goes to PostgreSQL as one batch, as a writer's flush does
        Instant drainedUntil = end.plus(Duration.ofMinutes(12));
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(dataSource), BatchWriteMethod.COPY, Duration.ofSeconds(30))) {
            for (Instant t = T0; t.isBefore(drainedUntil); t = t.plusSeconds(1)) {
                now.set(t);
                Instant second = t.plusSeconds(1);
                while (nextRequest < total) {
                    Instant start = T0.plusNanos((long) (nextRequest * 1e9 / settings.rate()));
                    if (!start.isBefore(second)) {
                        break;
                    }
                    request(WEIGHTED[random.nextInt(WEIGHTED.length)], start);
                    nextRequest++;
                }
                for (int i = 0; i < bypassAt.size(); i++) {
                    Instant b = bypassAt.get(i);
                    if (!b.isBefore(t) && b.isBefore(second)) {
                        request(bypassKinds.get(i), b);
                    }
                }
                List<AuditEvent> batch = new ArrayList<>();
                while (!pending.isEmpty() && pending.peek().at().isBefore(second)) {
                    batch.add(pending.poll().row());
                }
                if (!batch.isEmpty()) {
                    store.write(batch);
                }
                if (!second.isBefore(nextMonitor)) {
                    now.set(nextMonitor);
                    nextMonitor = nextMonitor.plus(INTERVAL);
                    // PostgreSQL away: the join fails as it would, and the monitor knows it did
                    database.down = outageEnd(now.get()) != null;
                    long s = System.nanoTime();
                    try {
                        monitor.runOnce();
                    } catch (SQLException e) {
                        failures++;
                        continue;
                    }
                    double ms = (System.nanoTime() - s) / 1e6;
                    alarmsSoFar = alarms(meters, now.get(), alarmsSoFar);
                    joinMillis += ms;
                    joinMax = Math.max(joinMax, ms);
                    runs++;
                }
            }
        }
        // the monitor's counts against what was injected
        Map<String, Long> counted = new TreeMap<>();
        for (Counter c : meters.find("meshguard.coverage.requests").counters()) {
            String result = c.getId().getTag("result");
            if (("unchecked".equals(result) || "without_dlp".equals(result)) && c.count() > 0) {
                counted.put(c.getId().getTag("service") + " " + result, (long) c.count());
            }
        }
        Map<String, Long> falseAlarms = new TreeMap<>();
        Map<String, Long> misses = new TreeMap<>();
        compare(counted, falseAlarms, misses);
        // and the report over the whole soak, as `meshguard coverage --since` prints it
        Coverage whole = report.report(T0.minusSeconds(60), end.plusSeconds(60), Optional.empty(), 100);
        Map<String, Long> reported = new TreeMap<>();
        List<String> mismatches = new ArrayList<>();
        for (ServiceCoverage s : whole.services()) {
            putIfPositive(reported, s.service() + " unchecked", s.unchecked());
            putIfPositive(reported, s.service() + " without_dlp", s.withoutDlp());
            Set<String> injected = bypassIds.getOrDefault(s.service(), Set.of());
            for (Sample sample : s.samples()) {
                if (!injected.contains(sample.requestId().toLowerCase(java.util.Locale.ROOT))) {
                    mismatches.add(s.service() + " " + sample.requestId());
                }
            }
        }
        Map<String, Long> reportFalseAlarms = new TreeMap<>();
        Map<String, Long> reportMisses = new TreeMap<>();
        compare(reported, reportFalseAlarms, reportMisses);
        ToLongFunction<String> sum = result -> expected.entrySet().stream()
                .filter(e -> e.getKey().endsWith(" " + result))
                .mapToLong(Map.Entry::getValue)
                .sum();
        return new Result(
                total + bypassAt.size(),
                byKind,
                runs,
                failures,
                falseAlarms,
                misses,
                reportFalseAlarms,
                reportMisses,
                mismatches,
                sum.applyAsLong("unchecked"),
                sum.applyAsLong("without_dlp"),
                runs == 0 ? 0 : joinMillis / runs,
                joinMax,
                Duration.ofNanos(System.nanoTime() - wallStart));
    }

    /** Prints when a count beyond the injected ones appears (the emulated time says which episode caused it). */
    private Map<String, Long> alarms(SimpleMeterRegistry meters, Instant at, Map<String, Long> before) {
        Map<String, Long> now = new TreeMap<>();
        for (Counter c : meters.find("meshguard.coverage.requests").counters()) {
            String result = c.getId().getTag("result");
            if ("unchecked".equals(result) || "without_dlp".equals(result)) {
                now.put(c.getId().getTag("service") + " " + result, (long) c.count());
            }
        }
        if (verbose) {
            now.forEach((k, n) -> {
                long was = before.getOrDefault(k, 0L);
                if (n > was && !bypassIds.containsKey(k.substring(0, k.indexOf(' ')))) {
                    System.out.printf("false alarm at %s: %s +%d%n", at, k, n - was);
                }
            });
        }
        return now;
    }

    private void compare(Map<String, Long> counted, Map<String, Long> falseAlarms, Map<String, Long> misses) {
        Set<String> keys = new HashSet<>(counted.keySet());
        keys.addAll(expected.keySet());
        for (String k : keys) {
            long got = counted.getOrDefault(k, 0L);
            long want = expected.getOrDefault(k, 0L);
            putIfPositive(falseAlarms, k, got - want);
            putIfPositive(misses, k, want - got);
        }
    }

    private static void putIfPositive(Map<String, Long> map, String key, long n) {
        if (n > 0) {
            map.put(key, n);
        }
    }

    /** PostgreSQL as the monitor reaches it: while {@code down}, no connection (the soak's outages). */
    static final class OutageDataSource implements DataSource {
        private final DataSource delegate;
        volatile boolean down;

        OutageDataSource(DataSource delegate) {
            this.delegate = delegate;
        }

        @Override
        public java.sql.Connection getConnection() throws SQLException {
            if (down) {
                throw new SQLException("Connection refused (the soak's PostgreSQL outage)", "08001");
            }
            return delegate.getConnection();
        }

        @Override
        public java.sql.Connection getConnection(String user, String password) throws SQLException {
            if (down) {
                throw new SQLException("Connection refused (the soak's PostgreSQL outage)", "08001");
            }
            return delegate.getConnection(user, password);
        }

        @Override
        public java.io.PrintWriter getLogWriter() throws SQLException {
            return delegate.getLogWriter();
        }

        @Override
        public void setLogWriter(java.io.PrintWriter out) throws SQLException {
            delegate.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) throws SQLException {
            delegate.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() throws SQLException {
            return delegate.getLoginTimeout();
        }

        @Override
        public java.util.logging.Logger getParentLogger() throws java.sql.SQLFeatureNotSupportedException {
            return delegate.getParentLogger();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            return delegate.unwrap(iface);
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) throws SQLException {
            return delegate.isWrapperFor(iface);
        }
    }

    /** The emulated instant every clock of the soak reads. */
    static final class AtomicInstant {
        private volatile Instant value;

        AtomicInstant(Instant value) {
            this.value = value;
        }

        Instant get() {
            return value;
        }

        void set(Instant v) {
            value = v;
        }
    }

    /**
     * {@code CoverageSoak HOURS RATE BYPASSES_PER_KIND}: the soak on a throwaway embedded PostgreSQL; prints the
     * figures docs/benchmarks.md records.
     */
    public static void main(String[] args) throws Exception {
        double hours = args.length > 0 ? Double.parseDouble(args[0]) : 24;
        double rate = args.length > 1 ? Double.parseDouble(args[1]) : 2;
        int bypasses = args.length > 2 ? Integer.parseInt(args[2]) : 40;
        try (BenchDatabase db = BenchDatabase.start()) {
            Settings settings = new Settings(Duration.ofSeconds((long) (hours * 3600)), rate, bypasses, 46);
            long cpu0 = cpuNanos();
            Result r = new CoverageSoak(settings, db.dataSource).run();
            long cpu = cpuNanos() - cpu0;
            System.out.printf("soak: %s emulated, %,d requests (%s)%n", settings.length(), r.requests(), r.byKind());
            System.out.printf(
                    "monitor: %,d runs, %,d failed (outages), join mean %.1f ms, max %.1f ms%n",
                    r.monitorRuns(), r.monitorFailures(), r.joinMillisMean(), r.joinMillisMax());
            System.out.printf(
                    "injected: %d unchecked, %d without DLP%n", r.expectedUnchecked(), r.expectedWithoutDlp());
            System.out.printf("monitor false alarms: %s%nmonitor misses: %s%n", r.falseAlarms(), r.misses());
            System.out.printf(
                    "report false alarms: %s, sample ids not injected: %s%nreport misses: %s%n",
                    r.reportFalseAlarms(), r.reportSampleMismatches(), r.reportMisses());
            System.out.printf(
                    "| %s emulated, %,d requests | false alarms %d, misses %d | wall %.1f s, CPU %.1f s |%n",
                    settings.length(),
                    r.requests(),
                    r.falseAlarmCount(),
                    r.missCount(),
                    r.wall().toMillis() / 1000.0,
                    cpu / 1e9);
        }
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
