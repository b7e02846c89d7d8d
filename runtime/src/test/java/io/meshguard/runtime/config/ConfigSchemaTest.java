package io.meshguard.runtime.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConfigSchemaTest {

    @Test
    void build_duplicateKeyName_isRejected() {
        ConfigKey<Integer> a = ConfigKey.integer("grpc.port", 1, 0, 65535, "a");
        ConfigKey<Integer> b = ConfigKey.integer("grpc.port", 2, 0, 65535, "b");

        assertThatThrownBy(() -> ConfigSchema.builder().add(a, b).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("duplicate config key: grpc.port");
    }

    @Test
    void build_keysWithSameEnvVar_areRejected() {
        ConfigKey<String> a = ConfigKey.string("a.b_c", "", "a");
        ConfigKey<String> b = ConfigKey.string("a_b.c", "", "b");

        assertThatThrownBy(() -> ConfigSchema.builder().add(a, b).build())
                .hasMessage("config keys a.b_c and a_b.c both map to MESHGUARD_A_B_C");
    }

    @Test
    void build_keyThatIsAlsoAParent_isRejected() {
        ConfigKey<String> a = ConfigKey.string("grpc", "", "a");
        ConfigKey<String> b = ConfigKey.string("grpc.bind", "", "b");

        assertThatThrownBy(() -> ConfigSchema.builder().add(a, b).build())
                .hasMessage("config key grpc is also the parent of grpc.bind");
    }

    @Test
    void key_badName_isRejected() {
        assertThatThrownBy(() -> ConfigKey.string("Grpc.Port", "", "x")).hasMessageContaining("dotted snake_case");
        assertThatThrownBy(() -> ConfigKey.string("grpc..port", "", "x")).hasMessageContaining("dotted snake_case");
    }

    @Test
    void key_defaultOutOfRange_isRejected() {
        assertThatThrownBy(() -> ConfigKey.integer("a", 70000, 0, 65535, "x"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void envVar_isPrefixedUpperSnakeCase() {
        assertThat(ConfigKey.integer("grpc.max_inbound_message_bytes", 1, 0, 9, "x")
                        .envVar())
                .isEqualTo("MESHGUARD_GRPC_MAX_INBOUND_MESSAGE_BYTES");
    }

    @Test
    void toMarkdownTable_listsEveryKeyWithEnvAndFormattedDefault() {
        ConfigSchema schema = ConfigSchema.builder()
                .add(ConfigKey.byteSize(
                        "grpc.max_inbound_message_bytes", 4L << 20, 1, Integer.MAX_VALUE, "Largest request message."))
                .add(ConfigKey.optionalDuration("grpc.max_connection_age", Optional.empty(), "Off | or a duration."))
                .add(ConfigKey.duration("grpc.drain_timeout", Duration.ofSeconds(5), "Drain wait."))
                .add(ConfigKey.stringList("jwt.issuers", List.of(), "Issuers."))
                .build();

        assertThat(schema.toMarkdownTable()).isEqualTo("""
                | key | env | default | description |
                |---|---|---|---|
                | `grpc.max_inbound_message_bytes` | `MESHGUARD_GRPC_MAX_INBOUND_MESSAGE_BYTES` | `4MiB` | Largest request message. |
                | `grpc.max_connection_age` | `MESHGUARD_GRPC_MAX_CONNECTION_AGE` | `off` | Off \\| or a duration. |
                | `grpc.drain_timeout` | `MESHGUARD_GRPC_DRAIN_TIMEOUT` | `5s` | Drain wait. |
                | `jwt.issuers` | `MESHGUARD_JWT_ISSUERS` |  | Issuers. |
                """);
    }
}
