package io.meshguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PathPolicy;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.audit.als.AccessLogHeaders;
import io.meshguard.audit.als.AccessLogMapper;
import io.meshguard.audit.als.AccessLogReceiver;
import io.meshguard.audit.query.CoverageReport.Coverage;
import io.meshguard.audit.query.CoverageReport.Sample;
import io.meshguard.audit.query.CoverageReport.ServiceCoverage;
import io.meshguard.contract.RouteContract.AccessLogTags;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.StreamSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The coverage join on a real PostgreSQL, with the access-log rows sent as Envoy sends them: over real gRPC on
 * loopback into the ALS receiver, whose events are written by the audit store. Checks and DLP sessions are the rows
 * extauthz ({@code AuditSinkDecisions}) and the DLP server ({@code AuditLogRecorder}) write.
 */
@IntegrationTest
class CoverageReportTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final Instant T0 = Instant.parse("2027-03-04T10:00:00Z");
    static final String REVIEWS = "reviews.shop.svc.cluster.local";
    static final String LEDGER = "ledger.bank.svc.cluster.local";
    static final String VAULT = "vault.bank.svc.cluster.local";
    static final String GATEWAY_HOST = "api.bank.example";

    @BeforeAll
    static void data() throws Exception {
        List<HTTPAccessLogEntry> logged = List.of(
                // a waypoint's row for a Checked request; the Check carries the id in another spelling
                mesh("Req-Covered-1", 1, "inbound-vip|9080|http|" + REVIEWS, REVIEWS)
                        .build(),
                // a sidecar's inbound row reached by pod IP: the bypass class (pod IP, no waypoint, selector-bound
                // CUSTOM on ztunnel) has no Check at all
                mesh("req-bypass-1", 2, "inbound|8080||", "10.1.2.3:8080").build(),
                // no x-request-id: nothing to join on
                mesh("", 3, "inbound|8080||", LEDGER).build(),
                mesh("req-ledger-ok", 4, "inbound|8080||", LEDGER).build(),
                // gateway route with ext_authz and a DLP profile: Check and session / Check only
                gateway("req-gw-ok", 5, "transfers", AccessLogTags.AUTHZ_CHECKED)
                        .build(),
                gateway("req-gw-nodlp", 6, "transfers", AccessLogTags.AUTHZ_CHECKED)
                        .build(),
                // a sunset version's canned answer: no upstream, nothing to check
                gateway("req-closed", 7, AccessLogTags.CLOSED_ROUTE, AccessLogTags.AUTHZ_NONE)
                        .setCommonProperties(common(7, "").putAllCustomTags(tags(AccessLogTags.CLOSED_ROUTE, "none")))
                        .build(),
                // Envoy answered 403 itself after an ext_authz failure: it never reached the workload
                mesh("req-denied", 8, "inbound|8080||", LEDGER)
                        .setCommonProperties(common(8, "inbound|8080||")
                                .setResponseFlags(ResponseFlags.newBuilder()
                                        .setUnauthorizedDetails(ResponseFlags.Unauthorized.newBuilder()
                                                .setReason(ResponseFlags.Unauthorized.Reason.EXTERNAL_SERVICE))))
                        .build(),
                // outside the window
                mesh("req-old", -7200, "inbound|8080||", "10.1.2.3:8080").build(),
                // the second hour: clients that went away. Before any upstream host was chosen (ext_authz still
                // buffering the body it checks): no Check, no answer, nothing reached the vault
                reset("req-reset-early", 7201, false).build(),
                // after the request reached a vault pod, without a Check: a bypass however the client left
                reset("req-reset-late", 7202, true).build(),
                // a canary, checked like any request and counted apart
                mesh("req-canary", 7203, "inbound|8080||", VAULT)
                        .setRequest(HTTPRequestProperties.newBuilder()
                                .setRequestMethod(RequestMethod.GET)
                                .setAuthority(VAULT)
                                .setPath("/items")
                                .setRequestId("req-canary")
                                .putRequestHeaders(AccessLogTags.CANARY_HEADER, "test_card"))
                        .build());
        List<AuditEvent> rows = new ArrayList<>(viaAccessLogService(logged));
        rows.add(check("req-covered-1", 1, REVIEWS));
        rows.add(check("req-ledger-ok", 4, LEDGER));
        rows.add(check("req-gw-ok", 5, GATEWAY_HOST));
        rows.add(check("req-gw-nodlp", 6, GATEWAY_HOST));
        rows.add(dlpSession("req-gw-ok", 5 + 30)); // the session row is written when the stream ends
        rows.add(check("req-canary", 7203, VAULT));
        // a DLP session for the bypassed request does not make it Checked, and is no logged request of its own
        rows.add(dlpSession("req-bypass-1", 2));
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(rows);
        }
    }

    private static Coverage report() throws Exception {
        return new CoverageReport(PG.dataSource()).report(T0, T0.plus(Duration.ofHours(1)), Optional.empty(), 5);
    }

    private static ServiceCoverage service(Coverage c, String name) {
        return c.services().stream()
                .filter(s -> s.service().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no service " + name + " in " + c.services()));
    }

    @Test
    void loggedRequest_withMatchingCheck_inAnyCase_isCovered() throws Exception {
        ServiceCoverage reviews = service(report(), REVIEWS);
        assertThat(reviews.seen()).isEqualTo(1);
        assertThat(reviews.protectedRequests()).isEqualTo(1);
        assertThat(reviews.checked()).isEqualTo(1);
        assertThat(reviews.uncovered()).isZero();
        assertThat(reviews.covered()).isTrue();
        assertThat(reviews.samples()).isEmpty();
    }

    /**
     * A Check covers one request (R5-05): in-mesh Envoys keep a client's x-request-id, so a client can repeat the id of
     * one real Check on requests that reached the workload past it, or first send its id to extauthz (denied) and
     * then to the workload, or take a Check another service answered. None of these counts as checked.
     */
    @Test
    void clientChosenRequestId_replayedDeniedOrForAnotherHost_isNeverChecked() throws Exception {
        Instant day = T0.plus(Duration.ofDays(3));
        int base = (int) Duration.between(T0, day).toSeconds();
        String cards = "cards.bank.svc.cluster.local";
        List<HTTPAccessLogEntry> logged = new ArrayList<>();
        // five upstream hits carrying one real Check's id
        for (int i = 0; i < 5; i++) {
            logged.add(
                    mesh("req-replayed", base + 1 + i, "inbound|8080||", cards).build());
        }
        // its id went to extauthz first and was denied, then straight to the workload
        logged.add(mesh("req-denied-first", base + 10, "inbound|8080||", cards).build());
        // a Check that allowed the id for another service
        logged.add(mesh("req-other-host", base + 11, "inbound|8080||", cards).build());
        // a client retry: two requests with one id, each with its own allowing Check
        logged.add(mesh("req-retried", base + 12, "inbound|8080||", cards).build());
        logged.add(mesh("req-retried", base + 13, "inbound|8080||", cards).build());
        List<AuditEvent> rows = new ArrayList<>(viaAccessLogService(logged));
        rows.add(check("req-replayed", base, cards));
        rows.add(check("req-denied-first", base + 9, cards, "deny"));
        rows.add(check("req-other-host", base + 11, REVIEWS));
        rows.add(check("req-retried", base + 12, cards + ":8080"));
        rows.add(check("req-retried", base + 13, cards));
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(rows);
        }

        ServiceCoverage s = service(
                new CoverageReport(PG.dataSource()).report(day, day.plus(Duration.ofHours(1)), Optional.empty(), 20),
                cards);

        assertThat(s.protectedRequests()).isEqualTo(9);
        assertThat(s.checked()).isEqualTo(2);
        assertThat(s.unchecked()).isEqualTo(7);
        assertThat(s.reused()).isEqualTo(5);
        assertThat(s.samples())
                .extracting(Sample::requestId)
                .contains("req-replayed", "req-denied-first", "req-other-host")
                .doesNotContain("req-retried");
    }

    /**
     * With the nonce extauthz returns on every allow, the row a proxy logs carries its own Check's nonce: the request
     * id a client chose no longer pairs a request with someone else's Check. (a) five hits carry one real Check's id,
     * only the one that Check decided carries its nonce; (b) a workload's own id, allowed by extauthz for another
     * service, then sent to this one; a nonce no Check minted; one nonce on two rows; and an allow from before
     * nonces, still joined on its request id.
     */
    @Test
    void coverage_nonceOnTheRow_joinsItsOwnCheck_andAReusedRequestIdCountsUnchecked() throws Exception {
        Instant day = T0.plus(Duration.ofDays(5));
        int base = (int) Duration.between(T0, day).toSeconds();
        String payments = "payments.bank.svc.cluster.local";
        String inbound = "inbound|8080||";
        List<HTTPAccessLogEntry> logged = new ArrayList<>();
        logged.add(withNonce(mesh("req-forged", base + 1, inbound, payments), "nonce-a"));
        for (int i = 0; i < 4; i++) {
            logged.add(mesh("req-forged", base + 2 + i, inbound, payments).build());
        }
        logged.add(withNonce(mesh("req-own-id", base + 10, inbound, LEDGER), "nonce-b"));
        logged.add(mesh("req-own-id", base + 11, inbound, payments).build());
        logged.add(withNonce(mesh("req-made-up", base + 12, inbound, payments), "nonce-made-up"));
        logged.add(withNonce(mesh("req-twice-1", base + 13, inbound, payments), "nonce-c"));
        logged.add(withNonce(mesh("req-twice-2", base + 14, inbound, payments), "nonce-c"));
        logged.add(mesh("req-before-nonces", base + 15, inbound, payments).build());
        List<AuditEvent> rows = new ArrayList<>(viaAccessLogService(logged));
        rows.add(nonceCheck("req-forged", base, payments, "nonce-a"));
        rows.add(nonceCheck("req-own-id", base + 9, LEDGER, "nonce-b"));
        rows.add(nonceCheck("req-twice-1", base + 12, payments, "nonce-c"));
        rows.add(check("req-before-nonces", base + 14, payments));
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(rows);
        }

        Coverage c =
                new CoverageReport(PG.dataSource()).report(day, day.plus(Duration.ofHours(1)), Optional.empty(), 20);
        ServiceCoverage s = service(c, payments);

        assertThat(s.protectedRequests()).isEqualTo(10);
        assertThat(s.checked()).isEqualTo(2);
        assertThat(s.joins().onNonce()).isEqualTo(1);
        assertThat(s.unchecked()).isEqualTo(8);
        assertThat(s.joins()).isEqualTo(new CoverageReport.CheckJoins(1, 4, 1, 2));
        assertThat(s.samples())
                .extracting(Sample::requestId)
                .contains("req-forged", "req-own-id", "req-made-up", "req-twice-1", "req-twice-2")
                .doesNotContain("req-before-nonces");
        assertThat(service(c, LEDGER).checked()).isEqualTo(1);
        var json = c.toJson().path("services").findValues("joined_on");
        assertThat(json).anySatisfy(j -> {
            assertThat(j.path("nonce").asLong()).isEqualTo(1);
            assertThat(j.path("request_id").asLong()).isEqualTo(1);
        });
    }

    @Test
    void loggedRequest_withoutCheck_isReportedUnchecked_withItsId_evenWithADlpSession() throws Exception {
        ServiceCoverage podIp = service(report(), "10.1.2.3");
        assertThat(podIp.seen()).isEqualTo(1);
        assertThat(podIp.unchecked()).isEqualTo(1);
        assertThat(podIp.checked()).isZero();
        assertThat(podIp.dlpSeen()).isEqualTo(1);
        assertThat(podIp.samples()).containsExactly(new Sample("req-bypass-1", true, false));
    }

    @Test
    void gatewayRoute_withCheckButNoDlpSession_isReportedWithoutDlp() throws Exception {
        ServiceCoverage transfers = service(report(), "transfers");
        assertThat(transfers.protectedRequests()).isEqualTo(2);
        assertThat(transfers.checked()).isEqualTo(2);
        assertThat(transfers.dlpRequired()).isEqualTo(2);
        assertThat(transfers.dlpCovered()).isEqualTo(1);
        assertThat(transfers.withoutDlp()).isEqualTo(1);
        assertThat(transfers.unchecked()).isZero();
        assertThat(transfers.samples()).containsExactly(new Sample("req-gw-nodlp", false, true));
    }

    @Test
    void loggedRequest_withoutRequestId_isUnverifiable_neverCovered() throws Exception {
        ServiceCoverage ledger = service(report(), LEDGER);
        // the id-less row, the checked one, and Envoy's own 403 (seen, not protected: it reached no workload)
        assertThat(ledger.seen()).isEqualTo(3);
        assertThat(ledger.protectedRequests()).isEqualTo(2);
        assertThat(ledger.checked()).isEqualTo(1);
        assertThat(ledger.unverifiable()).isEqualTo(1);
        assertThat(ledger.unchecked()).isZero();
        assertThat(ledger.covered()).isFalse();
    }

    @Test
    void cannedAnswer_withAuthzNone_isSeenButNotProtected_andOldRowsAreOutsideTheWindow() throws Exception {
        Coverage c = report();
        ServiceCoverage closed = service(c, AccessLogTags.CLOSED_ROUTE);
        assertThat(closed.seen()).isEqualTo(1);
        assertThat(closed.protectedRequests()).isZero();
        assertThat(closed.covered()).isTrue();
        assertThat(c.services()).extracting(ServiceCoverage::service).doesNotContain("unknown");
        assertThat(c.uncovered()).isEqualTo(2);
        assertThat(c.unverifiable()).isEqualTo(1);
    }

    @Test
    void clientGoneBeforeAnyUpstreamHost_isNotProtected_butAfterReachingTheWorkload_isUnchecked() throws Exception {
        Coverage c = new CoverageReport(PG.dataSource())
                .report(T0.plus(Duration.ofHours(2)), T0.plus(Duration.ofHours(3)), Optional.empty(), 5);
        ServiceCoverage vault = service(c, VAULT);
        assertThat(vault.seen()).isEqualTo(3);
        // the early reset is no request the vault saw; the canary was checked
        assertThat(vault.protectedRequests()).isEqualTo(2);
        assertThat(vault.checked()).isEqualTo(1);
        assertThat(vault.unchecked()).isEqualTo(1);
        assertThat(vault.samples()).containsExactly(new Sample("req-reset-late", true, false));
    }

    @Test
    void canaryRequests_areCountedApart_andStillJoined() throws Exception {
        Coverage c = new CoverageReport(PG.dataSource())
                .report(T0.plus(Duration.ofHours(2)), T0.plus(Duration.ofHours(3)), Optional.empty(), 5);
        assertThat(service(c, VAULT).canary()).isEqualTo(1);
        assertThat(c.toJson().path("services").get(0).path("canary").asLong()).isEqualTo(1);
        assertThat(service(report(), REVIEWS).canary()).isZero();
    }

    @Test
    void serviceFilter_reportsOnlyThatService() throws Exception {
        Coverage c = new CoverageReport(PG.dataSource())
                .report(T0, T0.plus(Duration.ofHours(1)), Optional.of("transfers"), 1);
        assertThat(c.services()).extracting(ServiceCoverage::service).containsExactly("transfers");
    }

    @Test
    void window_isBounded() {
        CoverageReport r = new CoverageReport(PG.dataSource());
        assertThatThrownBy(() -> r.report(T0, T0.plus(Duration.ofDays(40)), Optional.empty(), 5))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> r.report(T0, T0, Optional.empty(), 5)).isInstanceOf(IllegalArgumentException.class);
    }

    // --- rows as the servers write them

    static AuditEvent check(String requestId, int second, String authority) {
        return check(requestId, second, authority, "allow");
    }

    static AuditEvent check(String requestId, int second, String authority, String decision) {
        return decisionRow(requestId, second, authority, decision).build();
    }

    /** An allow as extauthz writes it since it mints nonces: the nonce it returned kept in the details. */
    static AuditEvent nonceCheck(String requestId, int second, String authority, String nonce) {
        return decisionRow(requestId, second, authority, "allow")
                .detail(AccessLogMapper.NONCE_DETAIL, nonce)
                .build();
    }

    private static AuditEvent.Builder decisionRow(String requestId, int second, String authority, String decision) {
        return AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(T0.plusSeconds(second))
                .requestId(requestId)
                .authority(authority)
                .method("POST")
                .path("/")
                .status(decision.equals("allow") ? 200 : 403)
                .decision(decision)
                .reason(decision.equals("allow") ? "ok" : "no_matching_route")
                .latencyUs(300);
    }

    /** The entry as a proxy logs it after ext_authz put the allow's nonce into the stream's dynamic metadata. */
    static HTTPAccessLogEntry withNonce(HTTPAccessLogEntry.Builder entry, String nonce) {
        entry.getCommonPropertiesBuilder()
                .setMetadata(io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder()
                        .putFilterMetadata(
                                AccessLogTags.EXT_AUTHZ_METADATA_NAMESPACE,
                                com.google.protobuf.Struct.newBuilder()
                                        .putFields(
                                                AccessLogTags.AUTHZ_NONCE,
                                                com.google.protobuf.Value.newBuilder()
                                                        .setStringValue(nonce)
                                                        .build())
                                        .putFields(
                                                "ext_authz_duration",
                                                com.google.protobuf.Value.newBuilder()
                                                        .setNumberValue(2)
                                                        .build())
                                        .build()));
        return entry.build();
    }

    static AuditEvent dlpSession(String requestId, int second) {
        return AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(T0.plusSeconds(second))
                .requestId(requestId)
                .decision("pass")
                .source("extproc-dlp")
                .detail("dlp_findings", Map.of())
                .detail("dlp_notes", Map.of())
                .build();
    }

    static HTTPAccessLogEntry.Builder mesh(String requestId, int second, String cluster, String authority) {
        HTTPRequestProperties.Builder request = HTTPRequestProperties.newBuilder()
                .setRequestMethod(RequestMethod.GET)
                .setAuthority(authority)
                .setPath("/items");
        if (!requestId.isEmpty()) {
            request.setRequestId(requestId);
        }
        return HTTPAccessLogEntry.newBuilder()
                .setCommonProperties(common(second, cluster))
                .setRequest(request)
                .setResponse(HTTPResponseProperties.newBuilder().setResponseCode(UInt32Value.of(200)));
    }

    /** A client reset (Envoy's DC flag) with no response; {@code reached}: an upstream host had been chosen. */
    static HTTPAccessLogEntry.Builder reset(String requestId, int second, boolean reached) {
        AccessLogCommon.Builder common = common(second, "inbound|8080||")
                .setResponseFlags(ResponseFlags.newBuilder().setDownstreamConnectionTermination(true));
        if (reached) {
            common.setUpstreamRemoteAddress(io.envoyproxy.envoy.config.core.v3.Address.newBuilder()
                    .setSocketAddress(io.envoyproxy.envoy.config.core.v3.SocketAddress.newBuilder()
                            .setAddress("10.1.2.9")
                            .setPortValue(8080)));
        }
        return mesh(requestId, second, "inbound|8080||", VAULT)
                .setCommonProperties(common)
                .setResponse(HTTPResponseProperties.getDefaultInstance());
    }

    static HTTPAccessLogEntry.Builder gateway(String requestId, int second, String route, String authz) {
        return mesh(requestId, second, "payments-v2", GATEWAY_HOST)
                .setCommonProperties(common(second, "payments-v2").putAllCustomTags(tags(route, authz)));
    }

    static Map<String, String> tags(String route, String authz) {
        return Map.of(
                AccessLogTags.tag(AccessLogTags.API),
                "payments",
                AccessLogTags.tag(AccessLogTags.API_VERSION),
                "v2",
                AccessLogTags.tag(AccessLogTags.GATEWAY_ROUTE),
                route,
                AccessLogTags.tag(AccessLogTags.AUTHZ),
                authz);
    }

    static AccessLogCommon.Builder common(int second, String cluster) {
        Instant t = T0.plusSeconds(second);
        return AccessLogCommon.newBuilder()
                .setStartTime(Timestamp.newBuilder().setSeconds(t.getEpochSecond()))
                .setUpstreamCluster(cluster);
    }

    /** Sends the entries as Envoy's gRPC access logger does and returns the events the receiver made of them. */
    static List<AuditEvent> viaAccessLogService(List<HTTPAccessLogEntry> entries) throws Exception {
        List<AuditEvent> received = new CopyOnWriteArrayList<>();
        AccessLogReceiver receiver = new AccessLogReceiver(
                received::add,
                new AccessLogMapper(AccessLogHeaders.defaults(), PathPolicy.DROP_QUERY),
                io.meshguard.audit.als.AccessLogSenders.localDevelopment(),
                new SimpleMeterRegistry());
        Server server = LoopbackGrpc.serve(receiver);
        ManagedChannel channel = LoopbackGrpc.channelTo(server.getPort());
        try {
            StreamObserver<StreamAccessLogsMessage> stream =
                    AccessLogServiceGrpc.newStub(channel).streamAccessLogs(StreamSink.discarding());
            stream.onNext(StreamAccessLogsMessage.newBuilder()
                    .setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                            .setNode(Node.newBuilder()
                                    .setId("waypoint~10.0.0.9~waypoint-7f9.shop~shop.svc.cluster.local"))
                            .setLogName("meshguard"))
                    .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder()
                            .addAllLogEntry(entries))
                    .build());
            await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == entries.size());
            stream.onCompleted();
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        return List.copyOf(received);
    }
}
