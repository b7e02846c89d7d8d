package io.meshguard.cli.dlp;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.cli.CliRun;
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
 * {@code meshguard dlp impact} with a draft that changes pinned MCP tools, on a real PostgreSQL holding extauthz-shaped
 * decision rows of tool calls: each changed pin is named with the window's recorded calls of its tool, and the report
 * says why those calls cannot be replayed against the new schema.
 */
@IntegrationTest
class DlpImpactPinsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path spool;

    private static final String POLICY = """
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

    @BeforeAll
    static void recordToolCalls() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AuditWriter writer = AuditWriter.start(
                AuditWriterSettings.defaults(SpoolSettings.defaults(spool)).withFlushInterval(Duration.ofMillis(20)),
                ConnectionSource.forUrl(PG.jdbcUrl(), PG.user(), PG.password(), Duration.ofSeconds(5)),
                meters);
        Instant now = Instant.now();
        String[] tools = {"transfer_funds", "transfer_funds", "get_balance"};
        for (int i = 0; i < tools.length; i++) {
            writer.record(AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                    .occurredAt(now.plusMillis(i))
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
                        meters.get("meshguard.audit.events.written").counter().count() >= 3);
        writer.close();
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
    void impact_draftChangesAPinnedSchema_namesTheToolWithItsRecordedCalls_andSaysWhyNoReplay(@TempDir Path root)
            throws Exception {
        Path current = dir(root, "current", POLICY);
        Path draft = dir(root, "draft", POLICY.replace("{amount: {type: integer}}", "{amount: {type: string}}"));

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

    @Test
    void impact_draftWithTheSamePins_noPinSection(@TempDir Path root) throws Exception {
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
        assertThat(r.out()).doesNotContain("pinned MCP tools");
    }
}
