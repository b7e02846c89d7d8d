package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.access.AuthMethod;
import io.meshguard.access.Person;
import io.meshguard.dlpserver.DlpAuditSink;
import io.meshguard.dlpserver.DlpServer;
import io.meshguard.dlpserver.DlpServerSettings;
import io.meshguard.dlpserver.HeldToolCalls;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.StreamSink;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A high-risk MCP tool call through the real DLP server over gRPC on loopback and the controller's approvals, both on
 * a real PostgreSQL: held on the first call, approved by two people, run once by the retry — and every insider's
 * shortcut refused: changed arguments, another caller or agent with the reference, a renamed tool, a changed policy,
 * one approver twice, the caller or the agent's owner approving, break-glass, a second retry, a late retry, a timeout
 * (closed by the list or by the controller's expiry sweep, each with a deny row).
 */
@IntegrationTest
class ToolCallApprovalJourneyTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String POLICY = HeldToolCalls.policy(
            "{tools: [transfer_funds, close_account], expires_seconds: 600, agent_owners: {agent-7: owner-olga}}");

    static final ObjectMapper JSON = new ObjectMapper();
    static final String ISSUER = "https://idp.bank.example/realms/agents";

    /** The test moves it: expiry is decided by the DLP server's and the controller's clocks alike. */
    static final MovableClock CLOCK = new MovableClock(Instant.now());

    static final Queue<ConfigChangeAudit.ConfigChange> TRAIL = new ConcurrentLinkedQueue<>();
    static Path dir;
    static Path policyFile;
    static DlpServer dlp;
    static ManagedChannel channel;
    static ToolCallApprovals approvals;

    static final Person ALICE = new Person("oidc " + ISSUER + " alice", "alice", AuthMethod.OIDC);
    static final Person BOB = new Person("oidc " + ISSUER + " bob", "bob", AuthMethod.OIDC);
    static final Person CAROL = new Person("oidc " + ISSUER + " carol", "carol", AuthMethod.OIDC);
    static final Person CALLER = new Person("oidc " + ISSUER + " user-ursula", "ursula", AuthMethod.OIDC);
    static final Person OWNER = new Person("oidc " + ISSUER + " owner-olga", "olga", AuthMethod.OIDC);
    static final Person ROOT = new Person("break-glass root", "root", AuthMethod.BREAK_GLASS);

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("tool-approvals");
        policyFile = dir.resolve("dlp.yaml");
        Files.writeString(policyFile, POLICY, StandardCharsets.UTF_8);
        DlpServerSettings settings = new DlpServerSettings(
                GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                policyFile,
                "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8),
                Duration.ofMillis(100));
        dlp = DlpServer.create(settings, DlpAuditSink.NONE, new SimpleMeterRegistry());
        dlp.toolApprovals(HeldToolCalls.approvals(PG.dataSource(), CLOCK));
        dlp.start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", dlp.grpcPort())
                .usePlaintext()
                .build();
        approvals = new ToolCallApprovals(PG.dataSource(), TRAIL::add, CLOCK);
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        dlp.close();
    }

    /** What the DLP server answered a whole request: the local reply, or the body that goes on to the MCP server. */
    record Answer(int status, String body, boolean forwarded) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }

        String reference() throws Exception {
            return json().path("error").path("data").path("approval").asText();
        }

        long approvalId() throws Exception {
            return json().path("error").path("data").path("approval_id").asLong();
        }

        String problem() throws Exception {
            return json().path("error").path("data").path("problem").asText();
        }
    }

    static String call(String tool, String args) {
        return HeldToolCalls.body(tool, args);
    }

    static final String ARGS =
            "{\"from\":\"CH93 0076 2011 6238 5295 7\",\"amount\":250000,\"card\":\"5500 0000 0000 0004\"}";

    /** One tools/call as Envoy hands it over after extauthz allowed it (identity headers set by extauthz). */
    static Answer send(String caller, String agent, String tool, String body, String reference) throws Exception {
        List<String> kv = new ArrayList<>(List.of(
                HeldToolCalls.headers(tool, "x-user-id", caller, "x-auth-issuer", ISSUER, "x-client-id", agent)));
        if (!reference.isEmpty()) {
            kv.addAll(List.of("x-mcp-approval", reference));
        }
        BlockingQueue<Object> got = new LinkedBlockingQueue<>();
        StreamObserver<ProcessingRequest> out =
                ExternalProcessorGrpc.newStub(channel).process(StreamSink.into(got, got::add));
        HeaderMap.Builder map = HeaderMap.newBuilder();
        for (int i = 0; i < kv.size(); i += 2) {
            map.addHeaders(
                    HeaderValue.newBuilder().setKey(kv.get(i)).setRawValue(ByteString.copyFromUtf8(kv.get(i + 1))));
        }
        out.onNext(ProcessingRequest.newBuilder()
                .setProtocolConfig(ProtocolConfiguration.newBuilder()
                        .setRequestBodyMode(BodySendMode.BUFFERED)
                        .setResponseBodyMode(BodySendMode.NONE))
                .setRequestHeaders(HttpHeaders.newBuilder().setHeaders(map).setEndOfStream(false))
                .build());
        take(got);
        out.onNext(ProcessingRequest.newBuilder()
                .setRequestBody(HttpBody.newBuilder()
                        .setBody(ByteString.copyFromUtf8(body))
                        .setEndOfStream(true))
                .build());
        ProcessingResponse r = take(got);
        out.onCompleted();
        if (r.hasImmediateResponse()) {
            return new Answer(
                    r.getImmediateResponse().getStatus().getCodeValue(),
                    r.getImmediateResponse().getBody().toStringUtf8(),
                    false);
        }
        return new Answer(
                200,
                r.getRequestBody().getResponse().getBodyMutation().getBody().toStringUtf8(),
                true);
    }

    static ProcessingResponse take(BlockingQueue<Object> got) throws InterruptedException {
        Object o = got.poll(30, TimeUnit.SECONDS);
        if (o instanceof ProcessingResponse r) {
            return r;
        }
        throw new AssertionError("expected a ProcessingResponse, got " + o);
    }

    static Answer first(String tool, String args) throws Exception {
        Answer held = send("user-ursula", "agent-7", tool, call(tool, args), "");
        assertThat(held.status()).isEqualTo(403);
        assertThat(held.forwarded()).isFalse();
        assertThat(held.json().path("error").path("code").asInt()).isEqualTo(-32090);
        assertThat(held.reference()).hasSizeGreaterThanOrEqualTo(32);
        return held;
    }

    static void approveTwice(long id) {
        approvals.approve(id, ALICE, "checked with the customer", "r1");
        approvals.approve(id, BOB, "within the mandate", "r2");
    }

    static String state(long id) throws Exception {
        try (Connection c = PG.dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select state from mcp_tool_approval where id = " + id)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void heldCall_approvedByTwo_retryRunsOnce_secondRetryRefused() throws Exception {
        Answer held = first("transfer_funds", ARGS);
        long id = held.approvalId();

        ToolCallApprovals.ToolCall shown = approvals.get(id).orElseThrow();
        assertThat(shown.state()).isEqualTo("pending");
        assertThat(shown.maskedArguments().toString())
                .as("approvers see the arguments as the route's profile masks them")
                .doesNotContain("5500 0000 0000 0004")
                .contains("250000");
        assertThat(shown.argsDigest()).hasSize(64).doesNotContain("250000");
        assertThat(shown.caller()).isEqualTo("user-ursula");
        assertThat(shown.agent()).isEqualTo("agent-7");
        assertThat(shown.agentOwner()).isEqualTo("owner-olga");

        Answer early = send("user-ursula", "agent-7", "transfer_funds", call("transfer_funds", ARGS), held.reference());
        assertThat(early.forwarded()).as("one approval is not two").isFalse();
        assertThat(early.problem()).isEqualTo("mcp_approval_pending");

        approvals.approve(id, ALICE, "checked with the customer", "r1");
        assertThat(approvals.get(id).orElseThrow().state()).isEqualTo("pending");
        Answer oneApproval =
                send("user-ursula", "agent-7", "transfer_funds", call("transfer_funds", ARGS), held.reference());
        assertThat(oneApproval.forwarded()).isFalse();
        approvals.approve(id, BOB, "within the mandate", "r2");
        assertThat(approvals.get(id).orElseThrow().approvedBy()).containsExactly("alice", "bob");
        assertThat(approvals.get(id).orElseThrow().state()).isEqualTo("approved");

        Answer runs = send("user-ursula", "agent-7", "transfer_funds", call("transfer_funds", ARGS), held.reference());
        assertThat(runs.forwarded()).isTrue();
        assertThat(runs.body()).contains("\"name\":\"transfer_funds\"").contains("250000");
        assertThat(state(id)).isEqualTo("used");

        Answer again = send("user-ursula", "agent-7", "transfer_funds", call("transfer_funds", ARGS), held.reference());
        assertThat(again.forwarded()).as("an approval runs one call").isFalse();
        assertThat(again.status()).isEqualTo(403);
        assertThat(again.problem()).isEqualTo("mcp_approval_used");
    }

    @Test
    void toolNotHeld_runsWithoutApproval() throws Exception {
        Answer a = send("user-ursula", "agent-7", "get_balance", call("get_balance", "{\"account\":\"1\"}"), "");
        assertThat(a.forwarded()).isTrue();
    }

    @Test
    void retryWithChangedArguments_refused_andTheApprovalVoided() throws Exception {
        Answer held = first("transfer_funds", ARGS);
        approveTwice(held.approvalId());
        String changed = ARGS.replace("250000", "2500000");
        Answer r = send("user-ursula", "agent-7", "transfer_funds", call("transfer_funds", changed), held.reference());
        assertThat(r.forwarded()).isFalse();
        assertThat(r.problem()).isEqualTo("mcp_approval_mismatch");
        assertThat(r.json().path("error").path("message").asText())
                .contains("the arguments")
                .doesNotContain("2500000");
        assertThat(state(held.approvalId())).isEqualTo("voided");
        Answer original =
                send("user-ursula", "agent-7", "transfer_funds", call("transfer_funds", ARGS), held.reference());
        assertThat(original.forwarded()).as("a voided approval stays void").isFalse();
    }

    @Test
    void retryWithReorderedKeys_sameArguments_runs() throws Exception {
        Answer held = first("transfer_funds", "{\"a\":1,\"b\":{\"y\":2,\"x\":3}}");
        approveTwice(held.approvalId());
        Answer r = send(
                "user-ursula",
                "agent-7",
                "transfer_funds",
                call("transfer_funds", "{\"b\":{\"x\":3,\"y\":2},\"a\":1}"),
                held.reference());
        assertThat(r.forwarded()).as("the digest is over canonical JSON").isTrue();
    }

    @Test
    void referenceReusedByAnotherCallerOrAgent_refused() throws Exception {
        Answer held = first("transfer_funds", ARGS);
        approveTwice(held.approvalId());
        Answer other =
                send("user-mallory", "agent-7", "transfer_funds", call("transfer_funds", ARGS), held.reference());
        assertThat(other.forwarded()).isFalse();
        assertThat(other.json().path("error").path("message").asText()).contains("the caller");
        assertThat(state(held.approvalId())).isEqualTo("voided");

        Answer held2 = first("transfer_funds", ARGS);
        approveTwice(held2.approvalId());
        Answer otherAgent =
                send("user-ursula", "agent-9", "transfer_funds", call("transfer_funds", ARGS), held2.reference());
        assertThat(otherAgent.forwarded()).isFalse();
        assertThat(otherAgent.json().path("error").path("message").asText()).contains("the agent");
    }

    @Test
    void referenceUsedForAnotherTool_refused() throws Exception {
        Answer held = first("transfer_funds", ARGS);
        approveTwice(held.approvalId());
        Answer r = send("user-ursula", "agent-7", "close_account", call("close_account", ARGS), held.reference());
        assertThat(r.forwarded()).isFalse();
        assertThat(r.json().path("error").path("message").asText()).contains("the tool");
    }

    @Test
    void unknownReference_refused() throws Exception {
        Answer r = send(
                "user-ursula",
                "agent-7",
                "transfer_funds",
                call("transfer_funds", ARGS),
                "not-a-reference-of-any-call");
        assertThat(r.forwarded()).isFalse();
        assertThat(r.problem()).isEqualTo("mcp_approval_unknown");
    }

    @Test
    void policyChangedBetweenApprovalAndRetry_refused() throws Exception {
        Answer held = first("transfer_funds", ARGS);
        approveTwice(held.approvalId());
        String before = Files.readString(policyFile);
        try {
            Files.writeString(policyFile, before.replace("{card: mask}", "{card: mask, email: mask}"));
            dlp.policy().reload();
            Answer r = send("user-ursula", "agent-7", "transfer_funds", call("transfer_funds", ARGS), held.reference());
            assertThat(r.forwarded()).isFalse();
            assertThat(r.json().path("error").path("message").asText()).contains("policy version");
        } finally {
            Files.writeString(policyFile, before);
            dlp.policy().reload();
        }
    }

    @Test
    void approverApprovingTwice_countsOnce() throws Exception {
        Answer held = first("transfer_funds", ARGS);
        approvals.approve(held.approvalId(), ALICE, "ok", "r1");
        assertThatThrownBy(() -> approvals.approve(held.approvalId(), ALICE, "ok again", "r2"))
                .isInstanceOf(AdminJson.Refusal.class)
                .hasMessageContaining("already approved");
        assertThat(approvals.get(held.approvalId()).orElseThrow().state()).isEqualTo("pending");
        Answer r = send("user-ursula", "agent-7", "transfer_funds", call("transfer_funds", ARGS), held.reference());
        assertThat(r.forwarded()).isFalse();
    }

    @Test
    void callerOwnerOrBreakGlass_mayNotApprove() throws Exception {
        Answer held = first("transfer_funds", ARGS);
        long id = held.approvalId();
        for (Person p : List.of(CALLER, OWNER, ROOT)) {
            assertThatThrownBy(() -> approvals.approve(id, p, "mine", "r"))
                    .as(p.name())
                    .isInstanceOfSatisfying(
                            AdminJson.Refusal.class, e -> assertThat(e.status()).isEqualTo(403));
        }
        // the caller under another issuer's login is still the caller: refused by subject, failing closed
        Person callerElsewhere = new Person("oidc https://other.example user-ursula", "ursula2", AuthMethod.OIDC);
        assertThatThrownBy(() -> approvals.approve(id, callerElsewhere, "mine", "r"))
                .isInstanceOf(AdminJson.Refusal.class);
        approvals.approve(id, ALICE, "ok", "r1");
        assertThatThrownBy(() -> approvals.approve(id, CALLER, "mine", "r")).isInstanceOf(AdminJson.Refusal.class);
        assertThat(approvals.get(id).orElseThrow().state()).isEqualTo("pending");
        approvals.approve(id, CAROL, "ok", "r3");
        assertThat(approvals.get(id).orElseThrow().state()).isEqualTo("approved");
    }

    @Test
    void rejected_neverRuns() throws Exception {
        Answer held = first("close_account", "{\"account\":\"42\"}");
        approvals.approve(held.approvalId(), ALICE, "ok", "r1");
        approvals.reject(held.approvalId(), BOB, "not with this customer", "r2");
        assertThatThrownBy(() -> approvals.approve(held.approvalId(), CAROL, "ok", "r3"))
                .isInstanceOf(AdminJson.Refusal.class);
        Answer r = send(
                "user-ursula",
                "agent-7",
                "close_account",
                call("close_account", "{\"account\":\"42\"}"),
                held.reference());
        assertThat(r.forwarded()).isFalse();
        assertThat(r.problem()).isEqualTo("mcp_approval_rejected");
    }

    @Test
    void timeout_writesADenyRow_andALateRetryIsRefused() throws Exception {
        Answer held = first("transfer_funds", ARGS);
        Answer approvedLate = first("transfer_funds", ARGS);
        approveTwice(approvedLate.approvalId());
        CLOCK.advance(Duration.ofSeconds(601));
        try {
            Answer late = send(
                    "user-ursula", "agent-7", "transfer_funds", call("transfer_funds", ARGS), approvedLate.reference());
            assertThat(late.forwarded())
                    .as("approved, but not run before its expiry")
                    .isFalse();
            assertThat(late.problem()).isEqualTo("mcp_approval_expired");
            assertThatThrownBy(() -> approvals.approve(held.approvalId(), ALICE, "too late", "r"))
                    .isInstanceOf(AdminJson.Refusal.class)
                    .hasMessageContaining("expired");
            assertThat(state(held.approvalId())).isEqualTo("expired");
            assertThat(TRAIL).anySatisfy(c -> {
                assertThat(c.action()).isEqualTo("tool_call_expired");
                assertThat(c.object()).isEqualTo("tool-approvals/" + held.approvalId());
                assertThat(c.detail()).startsWith("denied: transfer_funds").doesNotContain("250000");
            });
        } finally {
            CLOCK.advance(Duration.ofSeconds(-601));
        }
    }

    @Test
    void pendingCallsPastExpiry_closedByTheList_withDenyRows() throws Exception {
        Answer held = first("close_account", "{\"account\":\"7\"}");
        CLOCK.advance(Duration.ofSeconds(601));
        try {
            approvals.list("r-list");
            assertThat(state(held.approvalId())).isEqualTo("expired");
            assertThat(TRAIL).anySatisfy(c -> assertThat(c.object()).isEqualTo("tool-approvals/" + held.approvalId()));
        } finally {
            CLOCK.advance(Duration.ofSeconds(-601));
        }
    }

    @Test
    void pendingCallPastExpiry_closedByTheSweep_withoutAnyoneListing() throws Exception {
        Answer held = first("close_account", "{\"account\":\"8\"}");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ToolCallExpirySweep sweep = new ToolCallExpirySweep(approvals, Duration.ofMillis(50), CLOCK, meters);
        assertThat(sweep.sweep()).as("nothing expired yet").isZero();
        assertThat(state(held.approvalId())).isEqualTo("pending");
        CLOCK.advance(Duration.ofSeconds(601));
        try {
            sweep.start();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!state(held.approvalId()).equals("expired") && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            assertThat(state(held.approvalId())).isEqualTo("expired");
            assertThat(TRAIL).anySatisfy(c -> {
                assertThat(c.action()).isEqualTo("tool_call_expired");
                assertThat(c.object()).isEqualTo("tool-approvals/" + held.approvalId());
                assertThat(c.detail()).startsWith("denied: close_account");
            });
            assertThat(meters.get("meshguard_tool_call_approvals_expired_total")
                            .counter()
                            .count())
                    .isGreaterThanOrEqualTo(1);
            assertThat(meters.get("meshguard_tool_call_approvals_sweep_age_seconds")
                            .gauge()
                            .value())
                    .isLessThan(60);
            Answer late = send(
                    "user-ursula",
                    "agent-7",
                    "close_account",
                    call("close_account", "{\"account\":\"8\"}"),
                    held.reference());
            assertThat(late.forwarded()).isFalse();
            assertThat(late.problem()).isEqualTo("mcp_approval_expired");
        } finally {
            sweep.close();
            CLOCK.advance(Duration.ofSeconds(-601));
        }
    }

    @Test
    void sweepWithTheDatabaseAway_countsAFailure_andTheAgeGrows() throws Exception {
        org.postgresql.ds.PGSimpleDataSource away = new org.postgresql.ds.PGSimpleDataSource();
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        away.setServerNames(new String[] {"127.0.0.1"});
        away.setPortNumbers(new int[] {closedPort});
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ToolCallExpirySweep sweep = new ToolCallExpirySweep(
                new ToolCallApprovals(away, TRAIL::add, CLOCK), Duration.ofSeconds(15), CLOCK, meters);
        CLOCK.advance(Duration.ofSeconds(120));
        try {
            assertThat(sweep.sweep()).isZero();
            assertThat(meters.get("meshguard_tool_call_approvals_sweep_failures_total")
                            .counter()
                            .count())
                    .isEqualTo(1);
            assertThat(meters.get("meshguard_tool_call_approvals_sweep_age_seconds")
                            .gauge()
                            .value())
                    .isGreaterThanOrEqualTo(120);
        } finally {
            CLOCK.advance(Duration.ofSeconds(-120));
        }
    }

    @Test
    void noIdentity_refused_nothingHeld() throws Exception {
        Answer a = send("", "", "transfer_funds", call("transfer_funds", ARGS), "");
        assertThat(a.forwarded()).isFalse();
        assertThat(a.problem()).isEqualTo("mcp_approval_anonymous");
    }

    @Test
    void digestIsKeyed_aRowAloneCannotConfirmAGuess() throws Exception {
        Answer held = first("transfer_funds", "{\"amount\":1}");
        String stored = approvals.get(held.approvalId()).orElseThrow().argsDigest();
        String plainSha = java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                        .digest("{\"amount\":1}".getBytes(StandardCharsets.UTF_8)));
        assertThat(stored).isNotEqualTo(plainSha);
    }
}
