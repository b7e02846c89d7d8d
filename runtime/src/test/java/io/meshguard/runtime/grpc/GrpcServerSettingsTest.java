package io.meshguard.runtime.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigException;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.http.HttpServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GrpcServerSettingsTest {
    private static final ConfigGroup<GrpcServerSettings> GRPC = GrpcServerSettings.configGroup(9001);
    private static final ConfigGroup<HttpServerSettings> HTTP = HttpServerSettings.configGroup(9101);
    private static final ConfigSchema SCHEMA =
            ConfigSchema.builder().add(GRPC).add(HTTP).build();

    @Test
    void defaults_matchTheDocumentedValues() throws ConfigException {
        GrpcServerSettings settings = GRPC.read(ConfigLoader.load(SCHEMA, Optional.empty(), Map.of()));

        assertThat(settings).isEqualTo(GrpcServerSettings.defaults(9001));
        assertThat(settings.bind()).isEqualTo("0.0.0.0");
        assertThat(settings.maxInboundMessageBytes()).isEqualTo(4 * 1024 * 1024);
        assertThat(settings.keepAliveTime()).isEqualTo(Duration.ofSeconds(60));
        assertThat(settings.keepAliveTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(settings.permitKeepAliveTime()).isEqualTo(Duration.ofSeconds(10));
        assertThat(settings.maxConnectionAge()).isEmpty();
        assertThat(settings.maxConnectionAgeGrace()).isEmpty();
        assertThat(settings.drainTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(settings.reflection()).isTrue();
        assertThat(HTTP.read(Config.defaults(SCHEMA))).isEqualTo(new HttpServerSettings("0.0.0.0", 9101));
    }

    @Test
    void fileAndEnv_overrideSettings(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("extauthz.yaml");
        Files.writeString(file, """
                grpc:
                  port: 7001
                  max_inbound_message_bytes: 1MiB
                  max_connection_age: 30m
                  max_connection_age_grace: 5m
                http:
                  port: 7101
                """);

        Config config = ConfigLoader.load(
                SCHEMA,
                Optional.of(file),
                Map.of("MESHGUARD_GRPC_DRAIN_TIMEOUT", "0", "MESHGUARD_GRPC_REFLECTION", "false"));
        GrpcServerSettings settings = GRPC.read(config);

        assertThat(settings.port()).isEqualTo(7001);
        assertThat(settings.maxInboundMessageBytes()).isEqualTo(1024 * 1024);
        assertThat(settings.maxConnectionAge()).contains(Duration.ofMinutes(30));
        assertThat(settings.maxConnectionAgeGrace()).contains(Duration.ofMinutes(5));
        assertThat(settings.drainTimeout()).isZero();
        assertThat(settings.reflection()).isFalse();
        assertThat(HTTP.read(config).port()).isEqualTo(7101);
    }

    @Test
    void portKey_carriesTheServerDefault() {
        assertThat(GrpcServerSettings.portKey(18000).defaultValue()).isEqualTo(18000);
        assertThat(GrpcServerSettings.configGroup(18000).keys())
                .extracting(ConfigKey::name)
                .containsExactly(
                        "grpc.bind",
                        "grpc.port",
                        "grpc.max_inbound_message_bytes",
                        "grpc.max_concurrent_calls",
                        "grpc.keepalive_time",
                        "grpc.keepalive_timeout",
                        "grpc.permit_keepalive_time",
                        "grpc.max_connection_age",
                        "grpc.max_connection_age_grace",
                        "grpc.drain_timeout",
                        "grpc.shutdown_timeout",
                        "grpc.reflection",
                        "grpc.flow_control_window");
    }

    @Test
    void markdownTable_documentsEveryGrpcAndHttpKey() {
        String table = SCHEMA.toMarkdownTable();

        for (ConfigKey<?> key : SCHEMA.keys()) {
            assertThat(table).contains("| `" + key.name() + "` | `" + key.envVar() + "` |");
        }
        assertThat(table).contains("| `grpc.max_connection_age` | `MESHGUARD_GRPC_MAX_CONNECTION_AGE` | `off` |");
        assertThat(table).contains("| `grpc.port` | `MESHGUARD_GRPC_PORT` | `9001` |");
    }

    @Test
    void negativeDuration_isRejected() {
        GrpcServerSettings defaults = GrpcServerSettings.defaults(0);

        assertThatThrownBy(() -> defaults.withShutdown(Duration.ofSeconds(-1), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> defaults.withAddress("0.0.0.0", 70000)).isInstanceOf(IllegalArgumentException.class);
    }
}
