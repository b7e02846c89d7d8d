package io.meshguard.dlp.server;

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
        Files.writeString(file, "grpc:\n  port: 19002\n  max_inbound_message_bytes: 2MiB\ndlp:\n  policy: /etc/dlp.yaml\n");
        String hex = "ab".repeat(32);
        DlpServerSettings s = DlpServerSettings.from(ConfigLoader.load(DlpServerSettings.schema(), Optional.of(file),
                Map.of("MESHGUARD_DLP_HASH_KEY", hex)));
        assertThat(s.grpc().port()).isEqualTo(19002);
        assertThat(s.grpc().maxInboundMessageBytes()).isEqualTo(2 * 1024 * 1024);
        assertThat(s.policyFile()).isEqualTo(Path.of("/etc/dlp.yaml"));
        assertThat(s.hashKey()).hasSize(32);
    }

    @Test
    void shortHashKey_isRefused() {
        assertThatThrownBy(() -> DlpServerSettings.parseKey("too-short")).hasMessageContaining("at least 32 bytes");
    }
}
