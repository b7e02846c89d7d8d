package io.meshguard.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DbConfigTest {
    private final DbConfig group = new DbConfig("meshguard-test");
    private final ConfigSchema schema = ConfigSchema.builder().add(group).build();

    @Test
    void read_passwordFile_winsOverPasswordAndIsStripped(@TempDir Path dir) throws Exception {
        Path secret = Files.writeString(dir.resolve("password"), "from-file\n");
        Config config = ConfigLoader.load(
                schema,
                Optional.empty(),
                Map.of(
                        "MESHGUARD_DB_URL", "jdbc:postgresql://db:5432/meshguard",
                        "MESHGUARD_DB_PASSWORD", "from-env",
                        "MESHGUARD_DB_PASSWORD_FILE", secret.toString(),
                        "MESHGUARD_DB_POOL_SIZE", "4"));

        DbSettings settings = group.read(config);

        assertThat(settings.password()).isEqualTo("from-file");
        assertThat(settings.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/meshguard");
        assertThat(settings.maxPoolSize()).isEqualTo(4);
        assertThat(settings.applicationName()).isEqualTo("meshguard-test");
    }

    @Test
    void read_withoutUrl_namesTheKeyAndItsVariable() throws Exception {
        Config config = ConfigLoader.load(schema, Optional.empty(), Map.of());

        assertThatThrownBy(() -> group.read(config))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("db.url")
                .hasMessageContaining("MESHGUARD_DB_URL");
    }

    @Test
    void read_unreadablePasswordFile_saysWhichFile(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("no-such-secret");
        Config config = ConfigLoader.load(
                schema,
                Optional.empty(),
                Map.of(
                        "MESHGUARD_DB_URL",
                        "jdbc:postgresql://db/meshguard",
                        "MESHGUARD_DB_PASSWORD_FILE",
                        missing.toString()));

        assertThatThrownBy(() -> group.read(config)).hasMessageContaining(missing.toString());
    }
}
