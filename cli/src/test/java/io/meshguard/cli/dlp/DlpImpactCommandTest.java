package io.meshguard.cli.dlp;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.cli.CliRun;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlpserver.AuditLogRecorder;
import io.meshguard.dlpserver.DlpAuditSink;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard dlp impact} on a real PostgreSQL whose {@code dlp_finding} rows were written by the DLP server's
 * audit recorder through the audit writer: the policy in force changes nothing; a draft that blocks cards in
 * responses and stops reporting e-mail addresses names both changes with their request ids.
 */
@IntegrationTest
class DlpImpactCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final String POLICY = """
            version: 1
            tenant_header: x-tenant-id
            profiles:
              - name: default
                request:
                  detectors:
                    private_key: block
                response:
                  detectors:
                    card: mask
                    email: alert
            """;

    @TempDir
    static Path spool;

    @BeforeAll
    static void recordFindingsThroughTheDlpRecorder() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AuditWriter writer = AuditWriter.start(
                AuditWriterSettings.defaults(SpoolSettings.defaults(spool)).withFlushInterval(Duration.ofMillis(20)),
                ConnectionSource.forUrl(PG.jdbcUrl(), PG.user(), PG.password(), Duration.ofSeconds(5)),
                meters);
        AuditLogRecorder recorder = new AuditLogRecorder(writer);
        Instant now = Instant.now();
        for (int i = 0; i < 3; i++) {
            recorder.finding(finding(now.plusMillis(i), "card-" + i, Direction.RESPONSE, "card", "mask", 0.95));
        }
        recorder.finding(finding(now.plusMillis(10), "email-0", Direction.RESPONSE, "email", "alert", 0.9));
        recorder.finding(finding(now.plusMillis(11), "key-0", Direction.REQUEST, "private_key", "block", 0.99));
        // tool calls as extauthz records them: the decision names the tool, never its arguments
        String[] tools = {"transfer_funds", "transfer_funds", "get_balance"};
        for (int i = 0; i < tools.length; i++) {
            writer.record(AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                    .occurredAt(now.plusMillis(20 + i))
                    .requestId("call-" + i)
                    .tenant("acme")
                    .route("mcp-tools")
                    .decision("allow")
                    .status(200)
                    .detail("mcp_method", "tools/call")
                    .detail("mcp_name", tools[i])
                    .build());
        }
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(() ->
                        meters.get("meshguard.audit.events.written").counter().count() >= 8);
        writer.close();
    }

    private static DlpAuditSink.FindingEvent finding(
            Instant at, String requestId, Direction d, String detector, String action, double confidence) {
        return new DlpAuditSink.FindingEvent(
                at,
                requestId,
                "",
                "acme",
                "api.example",
                "/v1/things",
                "things",
                "default",
                d,
                detector,
                action,
                "/0/value",
                16,
                "00".repeat(32),
                "dlp-00000000",
                confidence);
    }

    private static String dbUrl() {
        String sep = PG.jdbcUrl().contains("?") ? "&" : "?";
        return PG.jdbcUrl() + sep + "user=" + PG.user() + "&password=" + PG.password();
    }

    private static Path dir(Path root, String name, String yaml) throws Exception {
        Path d = Files.createDirectories(root.resolve(name));
        Files.writeString(d.resolve("dlp.yaml"), yaml);
        return d;
    }

    @Test
    void impact_policyInForce_changesNoFinding(@TempDir Path root) throws Exception {
        Path current = dir(root, "current", POLICY);

        CliRun r = CliRun.of(
                "dlp",
                "impact",
                current.toString(),
                "--in-force",
                current.toString(),
                "--db",
                dbUrl(),
                "--since",
                "1h");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("findings: 5  unchanged: 5  changed: 0  not replayable: 0");
        assertThat(r.out()).as("no pin changed, none named").doesNotContain("pinned MCP tools");
        assertThat(r.out()).contains("finding rows are not in the admin trail's hash chain");
    }

    @Test
    void impact_draftBlockingCardsAndDroppingEmail_namesBothChangesWithRequestIds(@TempDir Path root) throws Exception {
        Path current = dir(root, "current", POLICY);
        Path draft = dir(
                root, "draft", POLICY.replace("        card: mask\n        email: alert\n", "        card: block\n"));

        CliRun r = CliRun.of(
                "dlp",
                "impact",
                draft.toString(),
                "--in-force",
                current.toString(),
                "--db",
                dbUrl(),
                "--since",
                "1h",
                "--fail-on-change");

        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.out()).contains("findings: 5  unchanged: 1  changed: 4  not replayable: 0");
        assertThat(r.out())
                .contains("3 findings of card in profile default (response): mask -> block (card: block in the draft);"
                        + " e.g. card-0, card-1, card-2");
        assertThat(r.out()).contains("1 findings of email in profile default (response): alert -> none");
    }

    private static final String PINS = """
            version: 1
            profiles:
              - name: mcp
                mcp: true
                mcp_pins:
                  tools:
                    - name: transfer_funds
                      input_schema: {type: object, properties: {amount: {type: integer}}}
                    - name: get_balance
                      input_schema: {type: object}
            """;

    @Test
    void impact_draftChangesAPinnedSchema_namesTheToolWithItsRecordedCalls_andSaysWhyNoReplay(@TempDir Path root)
            throws Exception {
        Path current = dir(root, "current", PINS);
        Path draft = dir(root, "draft", PINS.replace("{amount: {type: integer}}", "{amount: {type: string}}"));

        CliRun r = CliRun.of(
                "dlp", "impact", draft.toString(), "--in-force", current.toString(), "--db", dbUrl(), "--since", "1h");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out())
                .containsPattern(
                        "profile mcp: transfer_funds changed \\(sha256:[0-9a-f]{64} -> sha256:[0-9a-f]{64}\\): "
                                + "2 recorded calls")
                .contains("not replayable against the new schemas")
                .doesNotContain("get_balance");
    }
}
