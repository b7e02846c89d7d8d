package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DlpServerSettingsTest {
    @Test
    void defaults_thenFileThenEnvironment(@TempDir Path dir) throws Exception {
        Config none = ConfigLoader.load(DlpServerSettings.schema(), Optional.empty(), Map.of());
        DlpServerSettings d = DlpServerSettings.from(none);
        assertThat(d.grpc().port()).isEqualTo(9002);
        assertThat(d.grpc().maxInboundMessageBytes()).isEqualTo(16 * 1024 * 1024);
        assertThat(d.policyFile()).isEqualTo(Path.of("policies/dlp.yaml"));
        assertThat(d.hashKey()).isEmpty();

        Path file = dir.resolve("dlp-server.yaml");
        Files.writeString(
                file, "grpc:\n  port: 19002\n  max_inbound_message_bytes: 2MiB\ndlp:\n  policy: /etc/dlp.yaml\n");
        String hex = "ab".repeat(32);
        DlpServerSettings s = DlpServerSettings.from(ConfigLoader.load(
                DlpServerSettings.schema(), Optional.of(file), Map.of("MESHGUARD_DLP_HASH_KEY", hex)));
        assertThat(s.grpc().port()).isEqualTo(19002);
        assertThat(s.grpc().maxInboundMessageBytes()).isEqualTo(2 * 1024 * 1024);
        assertThat(s.policyFile()).isEqualTo(Path.of("/etc/dlp.yaml"));
        assertThat(s.hashKey()).hasSize(32);
    }

    @Test
    void streamLimits_defaultAllowFiftyThousandHeldStreams_andAreReadFromTheEnvironment() throws Exception {
        DlpServerSettings d =
                DlpServerSettings.from(ConfigLoader.load(DlpServerSettings.schema(), Optional.empty(), Map.of()));
        assertThat(d.grpc().maxConcurrentCalls())
                .as("one replica is sized for 50,000 held event streams")
                .isGreaterThanOrEqualTo(50_000);
        assertThat(d.grpc().flowControlWindowBytes())
                .as("grpc-java's auto-tuned window")
                .isZero();

        DlpServerSettings s = DlpServerSettings.from(ConfigLoader.load(
                DlpServerSettings.schema(),
                Optional.empty(),
                Map.of(
                        "MESHGUARD_GRPC_MAX_CONCURRENT_CALLS", "35000",
                        "MESHGUARD_GRPC_FLOW_CONTROL_WINDOW", "256KiB")));
        assertThat(s.grpc().maxConcurrentCalls()).isEqualTo(35_000);
        assertThat(s.grpc().flowControlWindowBytes()).isEqualTo(256 * 1024);
        assertThat(s.grpc().maxInboundMessageBytes())
                .as("the window setting leaves the message limit as it was")
                .isEqualTo(16 * 1024 * 1024);
    }

    @Test
    void deadlines_defaultToTwoAndFiveSeconds_readFromTheEnvironment_andRefuseZeroOrNegative() throws Exception {
        DlpServerSettings d =
                DlpServerSettings.from(ConfigLoader.load(DlpServerSettings.schema(), Optional.empty(), Map.of()));
        assertThat(d.deadlines()).isEqualTo(PhaseDeadlines.DEFAULTS);
        assertThat(d.deadlines().headers()).isEqualTo(java.time.Duration.ofSeconds(2));
        assertThat(d.deadlines().stream())
                .as("no whole-stream bound unless asked")
                .isZero();

        DlpServerSettings s = DlpServerSettings.from(ConfigLoader.load(
                DlpServerSettings.schema(),
                Optional.empty(),
                Map.of(
                        "MESHGUARD_DLP_DEADLINE_HEADERS",
                        "500ms",
                        "MESHGUARD_DLP_DEADLINE_BODY_CHUNK",
                        "3s",
                        "MESHGUARD_DLP_DEADLINE_TRAILERS",
                        "4s",
                        "MESHGUARD_DLP_DEADLINE_STREAM",
                        "10m")));
        assertThat(s.deadlines())
                .isEqualTo(new PhaseDeadlines(
                        java.time.Duration.ofMillis(500),
                        java.time.Duration.ofSeconds(3),
                        java.time.Duration.ofSeconds(4),
                        java.time.Duration.ofMinutes(10)));
        assertThat(s.withPolicyFile(Path.of("other.yaml")).deadlines()).isEqualTo(s.deadlines());

        assertThatThrownBy(() -> load("MESHGUARD_DLP_DEADLINE_BODY_CHUNK", "0s"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be positive");
        assertThatThrownBy(() -> new PhaseDeadlines(
                        java.time.Duration.ofSeconds(1),
                        java.time.Duration.ofSeconds(1),
                        java.time.Duration.ofSeconds(1),
                        java.time.Duration.ofSeconds(-1)))
                .hasMessageContaining("dlp.deadline.stream");
    }

    @Test
    void shortHashKey_isRefused() {
        assertThatThrownBy(() -> DlpServerSettings.parseKey("too-short")).hasMessageContaining("at least 32 bytes");
    }

    @Test
    void hashKeyFile_isReadAtStart_andWinsOverTheEnvironmentKey(@TempDir Path dir) throws Exception {
        Path key = dir.resolve("hash-key");
        Files.writeString(key, "cd".repeat(32) + "\n");
        DlpServerSettings s = DlpServerSettings.from(ConfigLoader.load(
                DlpServerSettings.schema(),
                Optional.empty(),
                Map.of("MESHGUARD_DLP_HASH_KEY_FILE", key.toString(), "MESHGUARD_DLP_HASH_KEY", "ab".repeat(32))));
        assertThat(s.hashKey()).isEqualTo(java.util.HexFormat.of().parseHex("cd".repeat(32)));
        // Same rule for the commands that read only the environment (meshguard up, dlp scan).
        assertThat(DlpServerSettings.keyFromEnvironment(Map.of(
                        "MESHGUARD_DLP_HASH_KEY_FILE", key.toString(), "MESHGUARD_DLP_HASH_KEY", "ab".repeat(32))))
                .isEqualTo(s.hashKey());
    }

    @Test
    void hashKeyFile_missing_isRefusedWithItsName(@TempDir Path dir) {
        Path missing = dir.resolve("nope");
        assertThatThrownBy(() -> load("MESHGUARD_DLP_HASH_KEY_FILE", missing.toString()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dlp.hash_key_file " + missing + " does not exist");
    }

    @Test
    void hashKeyFile_empty_isRefusedNotTreatedAsNoKey(@TempDir Path dir) throws Exception {
        Path empty = dir.resolve("empty");
        Files.writeString(empty, " \n");
        assertThatThrownBy(() -> load("MESHGUARD_DLP_HASH_KEY_FILE", empty.toString()))
                .hasMessage("dlp.hash_key_file " + empty + " is empty");
    }

    @Test
    void hashKeyFile_unreadable_isRefused(@TempDir Path dir) throws Exception {
        // A directory cannot be read as a file, also for root (who ignores file modes).
        Path notAFile = Files.createDirectory(dir.resolve("secret-dir"));
        assertThatThrownBy(() -> load("MESHGUARD_DLP_HASH_KEY_FILE", notAFile.toString()))
                .hasMessageStartingWith("cannot read dlp.hash_key_file " + notAFile);
    }

    @Test
    void hashKeyFile_tooShortOrNotText_isRefused(@TempDir Path dir) throws Exception {
        Path shortKey = dir.resolve("short");
        Files.writeString(shortKey, "too-short");
        assertThatThrownBy(() -> load("MESHGUARD_DLP_HASH_KEY_FILE", shortKey.toString()))
                .hasMessage("dlp.hash_key_file " + shortKey + ": the key must be at least 32 bytes (or 64 hex digits)");
        Path binary = dir.resolve("binary");
        Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, (byte) 0xc3});
        assertThatThrownBy(() -> load("MESHGUARD_DLP_HASH_KEY_FILE", binary.toString()))
                .hasMessageContaining("is not UTF-8 text");
    }

    private static DlpServerSettings load(String... env) throws Exception {
        Map<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i < env.length; i += 2) {
            m.put(env[i], env[i + 1]);
        }
        return DlpServerSettings.from(ConfigLoader.load(DlpServerSettings.schema(), Optional.empty(), m));
    }
}
