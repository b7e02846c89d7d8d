package io.meshguard.cli.dlp;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.CliRun;
import io.meshguard.testing.FixturePolicies;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard dlp} with {@code dlp.require_approval} on reads the approved dlp.yaml's digest from PostgreSQL, and
 * with {@code dlp.approval_key_file} records held tool calls there. Without {@code db.url} it has no approval to
 * enforce by: it must refuse to start, before it starts anything, rather than serve an unapproved file or run a held
 * tool.
 */
class DlpApprovalGateStartTest {
    @Test
    // a server that starts anyway never returns: fail on time instead of hanging the build
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void dlpServe_requireApprovalWithoutDatabase_refusesToStartNamingDbUrl(@TempDir Path dir) throws Exception {
        CliRun run = CliRun.of(
                "dlp", "--config", config(dir, "require_approval: true").toString());

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err())
                .isEqualTo("meshguard dlp: dlp.require_approval needs db.url: the approvals are read from PostgreSQL"
                        + " (approved_policy)\n");
        assertThat(run.out()).isEmpty();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void dlpServe_approvalKeyWithoutDatabase_refusesToStartNamingDbUrl(@TempDir Path dir) throws Exception {
        Path key = Files.writeString(dir.resolve("approval.key"), "k".repeat(48));

        CliRun run = CliRun.of(
                "dlp", "--config", config(dir, "approval_key_file: " + key).toString());

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err())
                .isEqualTo("meshguard dlp: dlp.approval_key_file needs db.url: held tool calls are recorded in the"
                        + " database\n");
    }

    /** The shipped fixture dlp.yaml, ports the system picks (should it start after all), {@code dlpKey} under dlp. */
    private static Path config(Path dir, String dlpKey) throws Exception {
        return Files.writeString(
                dir.resolve("dlp-config.yaml"), """
                dlp:
                  policy: %s
                  %s
                grpc:
                  port: 0
                http:
                  port: 0
                """.formatted(FixturePolicies.file("dlp.yaml"), dlpKey));
    }
}
