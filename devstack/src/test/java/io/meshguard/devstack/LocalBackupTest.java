package io.meshguard.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.cli.CliRun;
import io.meshguard.cli.common.UpState;
import io.meshguard.devstack.part.UpPorts;
import io.meshguard.testing.FixturePolicies;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.StartedProcesses;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard local backup|restore} as a user runs them around a real {@code up} (a child process on free
 * ports): refused while up runs, a backup after it stopped, a change after the backup, and the restore brings the
 * stack back to what the backup held.
 */
@IntegrationTest
class LocalBackupTest {
    private static final Duration START_LIMIT = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    @AutoClose
    private final StartedProcesses started = new StartedProcesses();

    @Test
    void backupThenChangeThenRestore_bringsTheDataBack_andNeitherRunsWhileUpDoes() throws Exception {
        Path data = dir.resolve("data");
        Path backup = dir.resolve("backup.zip");

        Process up = startUp(data);
        assertThat(cli("tenant", "create", "before-backup", "--data-dir", data.toString())
                        .exit())
                .isZero();
        // a file copy of a running PostgreSQL is not a backup: refused, and nothing is written
        CliRun whileUp = cli("local", "backup", backup.toString(), "--data-dir", data.toString());
        assertThat(whileUp.exit()).isEqualTo(1);
        assertThat(whileUp.err()).contains("in use by another meshguard up");
        assertThat(backup).doesNotExist();
        CliRun restoreWhileUp = cli("local", "restore", backup.toString(), "--data-dir", data.toString());
        assertThat(restoreWhileUp.exit()).isEqualTo(1);
        stop(up);

        CliRun backedUp = cli("local", "backup", backup.toString(), "--data-dir", data.toString());
        assertThat(backedUp.exit()).as(backedUp.err()).isZero();
        assertThat(backedUp.out()).contains("PostgreSQL 17 data");
        assertThat(Files.getPosixFilePermissions(backup))
                .as("it holds the stack's keys")
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(cli("local", "backup", backup.toString(), "--data-dir", data.toString())
                        .err())
                .contains("never overwrites");

        up = startUp(data);
        assertThat(cli("tenant", "create", "after-backup", "--data-dir", data.toString())
                        .exit())
                .isZero();
        assertThat(tenants(data)).contains("before-backup", "after-backup");
        stop(up);

        CliRun restored = cli("local", "restore", backup.toString(), "--data-dir", data.toString());
        assertThat(restored.exit()).as(restored.err()).isZero();
        up = startUp(data);
        assertThat(tenants(data)).contains("before-backup").doesNotContain("after-backup");
        stop(up);
    }

    @Test
    void restore_ofAFileThatIsNotOurBackup_changesNothing() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path kept = Files.writeString(data.resolve("xds-admin-token"), "kept");
        Files.writeString(data.resolve(LocalBackup.MAC_KEY), "ab".repeat(32) + "\n");
        Path climbing = zip(
                dir.resolve("climbing.zip"),
                LocalBackup.MANIFEST,
                "{\"format\": 2, \"files\": {\"../outside\": \"00\"}}",
                LocalBackup.MAC_ENTRY,
                "00",
                "../outside",
                "x");
        CliRun slip = cli("local", "restore", climbing.toString(), "--data-dir", data.toString());
        assertThat(slip.exit()).isEqualTo(1);
        assertThat(slip.err()).contains("its manifest's MAC does not verify");
        assertThat(dir.resolve("outside")).doesNotExist();

        Path foreign = zip(dir.resolve("foreign.zip"), "postgres/PG_VERSION", "17");
        CliRun notOurs = cli("local", "restore", foreign.toString(), "--data-dir", data.toString());
        assertThat(notOurs.exit()).isEqualTo(1);
        assertThat(notOurs.err()).contains("not a `meshguard local backup`");
        assertThat(Files.readString(kept)).isEqualTo("kept");
        try (var left = Files.list(data)) {
            assertThat(left.map(p -> p.getFileName().toString()))
                    .as("no staging left behind")
                    .containsExactlyInAnyOrder("xds-admin-token", LocalBackup.MAC_KEY, DataDirLock.FILE_NAME);
        }
    }

    private static Path zip(Path file, String... namesAndContents) throws IOException {
        try (OutputStream out = Files.newOutputStream(file);
                ZipOutputStream zip = new ZipOutputStream(out)) {
            for (int i = 0; i < namesAndContents.length; i += 2) {
                zip.putNextEntry(new ZipEntry(namesAndContents[i]));
                zip.write(namesAndContents[i + 1].getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return file;
    }

    private static CliRun cli(String... args) {
        return DevCliRun.of(args);
    }

    private static String tenants(Path data) {
        CliRun list = cli("tenant", "list", "--data-dir", data.toString());
        assertThat(list.exit()).as(list.err()).isZero();
        return list.out();
    }

    private Process startUp(Path data) throws IOException {
        List<String> command = new ArrayList<>(UpJvm.command());
        command.addAll(List.of(
                "up",
                "--data-dir",
                data.toString(),
                "--redis",
                "none",
                "--policies",
                FixturePolicies.directory().toString()));
        UpPorts.ANY.byFlag().keySet().forEach(flag -> command.addAll(List.of(flag, "0")));
        Process up = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(
                        ProcessBuilder.Redirect.appendTo(dir.resolve("up.log").toFile()))
                .start();
        started.add(up);
        await().atMost(START_LIMIT)
                .pollInterval(Duration.ofMillis(300))
                .failFast("up exited early: " + dir.resolve("up.log"), () -> !up.isAlive())
                .until(() -> UpState.readRunning(data).isPresent());
        return up;
    }

    private static void stop(Process up) throws InterruptedException {
        up.destroy(); // SIGTERM, as Ctrl-C: PostgreSQL shuts down cleanly
        assertThat(up.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
}
