package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The approval of a held tool call is looked up on the gate's threads, never while the stream's handler holds the
 * stream: a slow database is answered 503 with its reason before the phase deadline and stalls no other stream, an
 * unreachable one fails closed with a decision row, a stream reset while its lookup runs answers nothing and leaves
 * no approval behind, and what Envoy sends meanwhile is answered after the decision, in order. The caller is read
 * from the identity headers dlp.yaml names, as renamed in authz.yaml.
 */
@IntegrationTest
class ToolApprovalLookupTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String POLICY = HeldToolCalls.policy("{tools: [transfer_funds]}");

    static final ObjectMapper JSON = new ObjectMapper();

    /** A DLP server with approvals on {@code db}, whose lookups may take half of {@code bodyChunk}. */
    static final class Gateway implements AutoCloseable {
        final Path dir;
        final DlpServer server;
        final ManagedChannel channel;
        final SimpleMeterRegistry meters = new SimpleMeterRegistry();
        final Queue<DlpAuditSink.ApiCallEvent> calls = new ConcurrentLinkedQueue<>();

        Gateway(String policy, DataSource db, Duration bodyChunk) throws Exception {
            dir = Files.createTempDirectory("tool-approval-lookup");
            Path file = dir.resolve("dlp.yaml");
            Files.writeString(file, policy, StandardCharsets.UTF_8);
            DlpServerSettings settings = new DlpServerSettings(
                    GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                    file,
                    "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8),
                    Duration.ofHours(1),
                    new PhaseDeadlines(Duration.ofSeconds(2), bodyChunk, Duration.ofSeconds(2), Duration.ZERO));
            server = DlpServer.create(
                    settings,
                    new DlpAuditSink() {
                        @Override
                        public void finding(FindingEvent e) {}

                        @Override
                        public void apiCall(ApiCallEvent e) {
                            calls.add(e);
                        }
                    },
                    meters);
            server.toolApprovals(HeldToolCalls.approvals(db, Clock.systemUTC()));
            server.start();
            channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                    .usePlaintext()
                    .build();
        }

        /** Sends a tools/call as Envoy does after extauthz allowed it; the body's answer is not awaited. */
        EnvoyStream call(String tool, String... identity) throws Exception {
            EnvoyStream s = new EnvoyStream(channel, BodySendMode.BUFFERED, BodySendMode.NONE);
            s.requestHeaders(false, HeldToolCalls.headers(tool, identity));
            assertThat(s.next().hasRequestHeaders()).isTrue();
            s.requestBody(body(tool).getBytes(StandardCharsets.UTF_8), true);
            return s;
        }

        double lookups() {
            return meters.get("meshguard.dlp.mcp.approval.lookups").gauge().value();
        }

        double counted(String result) {
            var c = meters.find("meshguard.dlp.mcp.approval")
                    .tag("result", result)
                    .counter();
            return c == null ? 0 : c.count();
        }

        @Override
        public void close() throws Exception {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.close();
        }
    }

    static String body(String tool) {
        return HeldToolCalls.body(tool, "{\"amount\":250000,\"card\":\"5500 0000 0000 0004\"}");
    }

    static String[] caller(String who) {
        return new String[] {"x-user-id", who, "x-auth-issuer", "bank-idp", "x-client-id", "agent-7"};
    }

    /** A transaction that holds the approvals table: every lookup waits for it, as on a database that hangs. */
    static final class TableLock implements AutoCloseable {
        final Connection c;

        TableLock() throws Exception {
            c = PG.dataSource().getConnection();
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("lock table mcp_tool_approval in access exclusive mode");
            }
        }

        @Override
        public void close() throws Exception {
            if (!c.isClosed()) {
                c.rollback();
                c.close();
            }
        }
    }

    static int rows(String caller) throws Exception {
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("select count(*) from mcp_tool_approval where caller = ?")) {
            ps.setString(1, caller);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    static JsonNode json(ProcessingResponse r) throws Exception {
        return JSON.readTree(r.getImmediateResponse().getBody().toStringUtf8());
    }

    static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void slowDatabase_heldCallRefused503WithItsReasonBeforeTheDeadline_otherStreamsAnswered_nothingHeld()
            throws Exception {
        try (Gateway gw = new Gateway(POLICY, PG.dataSource(), Duration.ofSeconds(4));
                TableLock lock = new TableLock()) {
            long started = System.nanoTime();
            EnvoyStream held = gw.call("transfer_funds", caller("user-slow"));
            eventually(() -> gw.lookups() >= 1, "the lookup runs");

            // another stream, same route, a tool that is not held: answered while the lookup waits on the database
            EnvoyStream other = gw.call("get_balance", caller("user-other"));
            ProcessingResponse forwarded = other.next();
            assertThat(forwarded.hasRequestBody()).isTrue();
            assertThat(held.drainNow())
                    .as("the held call is still being decided")
                    .isEmpty();

            ProcessingResponse r = held.next();
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(r.hasImmediateResponse()).isTrue();
            assertThat(r.getImmediateResponse().getStatus().getCodeValue())
                    .as("the approval's own refusal, not the deadline's 504")
                    .isEqualTo(503);
            assertThat(json(r).path("error").path("data").path("problem").asText())
                    .isEqualTo("mcp_approval_unavailable");
            assertThat(json(r).path("error").path("message").asText()).contains("did not answer within 2000 ms");
            assertThat(tookMs).isLessThan(4000);
            held.close();
            other.close();
            lock.close();
            eventually(() -> gw.lookups() == 0, "the lookup ends once the database answers");
            eventually(() -> gw.counted("abandoned") == 1, "the late insert rolls back");
            assertThat(rows("user-slow"))
                    .as("no approval opened for a call whose client was refused")
                    .isZero();
            eventually(() -> gw.calls.size() == 2, "both decision rows");
            assertThat(gw.calls)
                    .anySatisfy(c -> assertThat(c.notes()).containsEntry("block", "request:mcp_approval_unavailable"));
        }
    }

    @Test
    void unreachableDatabase_heldCallRefused503_withADecisionRow() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        PGSimpleDataSource away = new PGSimpleDataSource();
        away.setServerNames(new String[] {"127.0.0.1"});
        away.setPortNumbers(new int[] {closedPort});
        away.setDatabaseName("meshguard");
        away.setConnectTimeout(2);
        try (Gateway gw = new Gateway(POLICY, away, Duration.ofSeconds(5))) {
            EnvoyStream s = gw.call("transfer_funds", caller("user-away"));
            ProcessingResponse r = s.next();
            assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(503);
            assertThat(json(r).path("error").path("message").asText()).contains("cannot be read now");
            s.close();
            eventually(() -> !gw.calls.isEmpty(), "the decision row");
            assertThat(gw.calls.peek().notes()).containsEntry("block", "request:mcp_approval_unavailable");
            assertThat(gw.calls.peek().outcome()).isEqualTo("blocked");
        }
    }

    @Test
    void streamResetWhileTheLookupRuns_answersNothing_leavesNoApprovalAndNoState() throws Exception {
        try (Gateway gw = new Gateway(POLICY, PG.dataSource(), Duration.ofSeconds(20));
                TableLock lock = new TableLock()) {
            EnvoyStream s = gw.call("transfer_funds", caller("user-gone"));
            eventually(() -> gw.lookups() >= 1, "the lookup runs");
            s.cancel();
            eventually(() -> gw.server.service().openStreams() == 0, "the reset stream's state is dropped");
            lock.close();
            eventually(() -> gw.lookups() == 0, "the lookup ends");
            eventually(() -> gw.counted("abandoned") == 1, "the lookup's insert rolls back");
            assertThat(gw.counted("held")).isZero();
            assertThat(rows("user-gone"))
                    .as("no pending approval nobody can redeem")
                    .isZero();
        }
    }

    @Test
    void messagesDuringTheLookup_waitForItsAnswer_thenInOrder() throws Exception {
        try (Gateway gw = new Gateway(POLICY, PG.dataSource(), Duration.ofSeconds(20))) {
            EnvoyStream s;
            try (TableLock lock = new TableLock()) {
                s = gw.call("transfer_funds", caller("user-waits"));
                eventually(() -> gw.lookups() >= 1, "the lookup runs");
                s.halfClose(); // Envoy is done sending: the answer it waits for still comes first
                Thread.sleep(200);
                assertThat(s.drainNow()).isEmpty();
            }
            ProcessingResponse r = s.next();
            assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(403);
            assertThat(json(r).path("error").path("data").path("approval").asText())
                    .hasSizeGreaterThanOrEqualTo(32);
            assertThat(s.nextEvent(Duration.ofSeconds(10))).isEqualTo("completed");
            assertThat(rows("user-waits")).isEqualTo(1);
        }
    }

    @Test
    void renamedIdentityHeaders_theGateReadsTheCallerFromThem() throws Exception {
        String renamed = POLICY.replace(
                "version: 1\n",
                "version: 1\nidentity_headers: {subject: x-mg-subject, issuer: x-mg-issuer, client_id: x-mg-agent}\n");
        try (Gateway gw = new Gateway(renamed, PG.dataSource(), Duration.ofSeconds(5))) {
            EnvoyStream s = gw.call(
                    "transfer_funds",
                    "x-mg-subject",
                    "user-renamed",
                    "x-mg-issuer",
                    "bank-idp",
                    "x-mg-agent",
                    "agent-r");
            ProcessingResponse r = s.next();
            assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(403);
            assertThat(json(r).path("error").path("code").asInt()).isEqualTo(-32090);
            s.close();
            try (Connection c = PG.dataSource().getConnection();
                    PreparedStatement ps = c.prepareStatement(
                            "select caller_issuer, agent from mcp_tool_approval where caller = 'user-renamed'")) {
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("bank-idp");
                    assertThat(rs.getString(2)).isEqualTo("agent-r");
                }
            }

            // the default names are no longer extauthz's: a client could have sent them, they identify nobody
            EnvoyStream forged = gw.call("transfer_funds", caller("user-forged"));
            ProcessingResponse f = forged.next();
            assertThat(json(f).path("error").path("data").path("problem").asText())
                    .isEqualTo("mcp_approval_anonymous");
            forged.close();
            assertThat(rows("user-forged")).isZero();
        }
    }
}
