package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.access.AuthMethod;
import io.meshguard.access.Person;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.audit.trail.TrailedPolicyReloads;
import io.meshguard.dlpserver.DlpAuditSink;
import io.meshguard.dlpserver.DlpServer;
import io.meshguard.dlpserver.DlpServerSettings;
import io.meshguard.dlpserver.HeldToolCalls;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.policy.PolicyReload;
import io.meshguard.runtime.policy.PolicySource;
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.LoopbackSettings;
import io.meshguard.xds.XdsController;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * dlp.yaml under four eyes with real parts: a real PostgreSQL, the controller's policy requests as its admin API and
 * console call them, and a real DLP server with {@code dlp.require_approval} driven over gRPC as Envoy drives it. At
 * first install nothing is approved and the server refuses every stream; sally requests the pinned tools, may not
 * approve her own request, victor does, and the server enforces them. Someone who edits the file alone to drop the
 * transfer_funds pin changes nothing: the old pin still holds for a real tools/call, readiness, metrics and the admin
 * trail say why. Once that draft is requested and approved, the server enforces it.
 */
@IntegrationTest
class DlpPolicyRequestJourneyTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    static final String ISSUER = "https://idp.bank.example/realms/staff";
    static final Person SALLY = new Person("oidc " + ISSUER + " sally", "sally", AuthMethod.OIDC);
    static final Person VICTOR = new Person("oidc " + ISSUER + " victor", "victor", AuthMethod.OIDC);

    static final String GET_BALANCE_PIN = """
                - name: get_balance
                  description: "the account's balance"
                  input_schema: {"type": "object"}
            """;
    static final String TRANSFER_PIN = """
                - name: transfer_funds
                  description: "moves money out"
                  input_schema: {"type": "object", "required": ["amount", "currency"], "additionalProperties": false,
                    "properties": {"amount": {"type": "integer", "minimum": 1}, "currency": {"enum": ["EUR", "CHF"]}}}
            """;

    /** The MCP route pins get_balance and transfer_funds: any other tool, or other arguments, are refused. */
    static final String PINNED = mcpRoutePinning(GET_BALANCE_PIN + TRANSFER_PIN);

    /** The draft: transfer_funds is no longer pinned, so its calls are refused. */
    static final String DROPPED = mcpRoutePinning(GET_BALANCE_PIN);

    static String mcpRoutePinning(String pins) {
        return HeldToolCalls.mcpRoute("mcp_pins:\n  tools:\n" + pins);
    }

    static final String TRANSFER = "{\"amount\":5,\"currency\":\"CHF\"}";

    @Test
    void dlpDraftDroppingAPin_isEnforcedOnlyOnceASecondPersonApprovedIt_theOldPinHoldingThroughTheServerMeanwhile()
            throws Exception {
        Path file = dir.resolve("dlp.yaml");
        Files.writeString(file, PINNED);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        List<Long> ids;
        DlpServerSettings settings = new DlpServerSettings(
                GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                file,
                "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8),
                Duration.ofMillis(100));
        try (XdsController xds = XdsController.create(
                        LoopbackSettings.of(),
                        PG.dataSource(),
                        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                        c -> {});
                DlpServer dlp = DlpServer.create(
                        settings, DlpAuditSink.NONE, meters, Tracing.disabled(), Optional.of(PG.dataSource()))) {
            dlp.policy()
                    .addReloadListener(
                            new TrailedPolicyReloads(new AdminTrail(PG.dataSource()), "extproc-dlp", "dlp-0"));
            dlp.start();
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", dlp.grpcPort())
                    .usePlaintext()
                    .build();
            try {
                PolicyChanges changes = xds.adminServices().policyChanges();

                // first install: nothing approved, so nothing is enforced: not ready, every stream refused
                assertThat(dlp.policy().get()).isNull();
                assertThat(readiness(dlp).ready()).isFalse();
                assertThat(readiness(dlp).detail()).contains("not approved").contains("--policy dlp");
                assertThat(HeldToolCalls.callTool(channel, "get_balance", "{}"))
                        .isInstanceOfSatisfying(
                                StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

                // the pinned tools go through four eyes: not by their requester, by a second person
                PolicyRequest first =
                        changes.request(PolicyChanges.DLP, SALLY, "req-1", bundle(PINNED), "pin the bank's tools");
                assertThat(first.policy()).isEqualTo("dlp");
                assertThat(first.digest()).isEqualTo(digest(PINNED));
                assertThat(first.reportCurrent()).isTrue();
                assertThatThrownBy(() -> changes.approve(first.id(), SALLY, "req-2", "mine"))
                        .isInstanceOfSatisfying(AdminJson.Refusal.class, r -> assertThat(r.status())
                                .isEqualTo(403))
                        .hasMessageContaining("another person must approve it");
                changes.approve(first.id(), VICTOR, "req-3", "reviewed, CB-7");
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> dlp.policy().get() != null);
                assertThat(readiness(dlp).ready()).isTrue();
                assertThat(forwarded(HeldToolCalls.callTool(channel, "transfer_funds", TRANSFER)))
                        .contains("\"amount\":5");

                // whoever edits the file alone changes nothing: the old pin still holds, and everything says why
                Files.writeString(file, DROPPED);
                assertThat(dlp.policy().reload()).isFalse();
                assertThat(dlp.policy().problem()).get().asString().contains("not approved");
                assertThat(readiness(dlp).detail()).contains("newer files rejected: not approved");
                assertThat(forwarded(HeldToolCalls.callTool(channel, "transfer_funds", TRANSFER)))
                        .contains("\"amount\":5");
                assertThat(gauge(meters, "meshguard.policy.unapproved")).isEqualTo(1);
                assertThat(gauge(meters, "meshguard.policy.approval.required")).isEqualTo(1);
                String refused = PG.dsl()
                        .fetchOne("select outcome from admin_trail where action = 'policy_reload' and target ="
                                + " 'policies/dlp' order by seq desc limit 1")
                        .get(0, String.class);
                assertThat(refused).contains("refused").contains("not approved");

                // the draft as a request: its diff and report name the dropped pin; approved, it is enforced
                PolicyRequest draft =
                        changes.request(PolicyChanges.DLP, SALLY, "req-4", bundle(DROPPED), "retire transfer_funds");
                assertThat(draft.baseDigest()).contains(digest(PINNED));
                assertThat(draft.diff()).contains("+++ b/dlp.yaml").contains("-        - name: transfer_funds");
                assertThat(draft.report().orElseThrow().groups()).anySatisfy(g -> assertThat(g.sentence())
                        .contains("profile mcp")
                        .contains("tools/call transfer_funds")
                        .contains("no longer pinned"));
                changes.approve(draft.id(), VICTOR, "req-5", "retired, CB-8");
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> dlp.policy().problem().isEmpty());
                assertThat(gauge(meters, "meshguard.policy.unapproved")).isZero();
                ProcessingResponse now =
                        (ProcessingResponse) HeldToolCalls.callTool(channel, "transfer_funds", TRANSFER);
                assertThat(now.hasImmediateResponse()).as(now.toString()).isTrue();
                assertThat(now.getImmediateResponse().getDetails()).isEqualTo("meshguard_dlp_mcp_tool_not_pinned");
                ids = List.of(first.id(), draft.id());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }

        List<String> steps = PG.dsl()
                .fetch("select action || ' ' || target from admin_trail where action like 'policy-%' order by seq")
                .getValues(0, String.class);
        assertThat(steps)
                .containsExactly(
                        "policy-request policy-request/dlp/" + ids.get(0),
                        "policy-report policy-request/dlp/" + ids.get(0),
                        "policy-approve policy-request/dlp/" + ids.get(0),
                        "policy-request policy-request/dlp/" + ids.get(1),
                        "policy-report policy-request/dlp/" + ids.get(1),
                        "policy-approve policy-request/dlp/" + ids.get(1));
        AdminTrailVerifier.Report chain = new AdminTrailVerifier(PG.dataSource()).verify(Optional.empty());
        assertThat(chain.intact()).as("%s", chain.firstBad()).isTrue();
    }

    @Test
    void dlpRequestOfSeveralFiles_refused422_theDlpServerReadsOneFile() throws Exception {
        try (XdsController xds = XdsController.create(
                LoopbackSettings.of(),
                PG.dataSource(),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                c -> {})) {
            PolicyBundle two = new PolicyBundle(
                    List.of(new PolicySource("a.yaml", PINNED), new PolicySource("dlp.yaml", DROPPED)));
            assertThatThrownBy(() -> xds.adminServices()
                            .policyChanges()
                            .request(PolicyChanges.DLP, SALLY, "req-9", two, "two files"))
                    .isInstanceOfSatisfying(
                            AdminJson.Refusal.class, r -> assertThat(r.status()).isEqualTo(422))
                    .hasMessageContaining("not a valid dlp policy");
        }
    }

    private static ReadinessCheck.Result readiness(DlpServer dlp) {
        return dlp.readinessChecks().stream()
                .filter(c -> c.name().equals("policy:dlp"))
                .findFirst()
                .orElseThrow()
                .check();
    }

    /** The body the server let through to the MCP server; fails when it answered the request itself. */
    private static String forwarded(Object answer) {
        assertThat(answer).isInstanceOf(ProcessingResponse.class);
        ProcessingResponse r = (ProcessingResponse) answer;
        assertThat(r.hasImmediateResponse()).as(r.toString()).isFalse();
        return r.getRequestBody().getResponse().getBodyMutation().getBody().toStringUtf8();
    }

    private static double gauge(SimpleMeterRegistry meters, String name) {
        return meters.get(name).tag("policy", "dlp").gauge().value();
    }

    private static PolicyBundle bundle(String dlpYaml) {
        return new PolicyBundle(List.of(new PolicySource("dlp.yaml", dlpYaml)));
    }

    private static String digest(String dlpYaml) {
        return PolicyReload.digestOf(List.of(new PolicySource("dlp.yaml", dlpYaml)));
    }
}
