package io.meshguard.runtime.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    static final ConfigKey<Integer> PORT = ConfigKey.integer("grpc.port", 9001, 0, 65535, "gRPC port.");
    static final ConfigKey<Long> MAX_MESSAGE =
            ConfigKey.byteSize("grpc.max_inbound_message_bytes", 4L << 20, 1024, Integer.MAX_VALUE, "Largest message.");
    static final ConfigKey<Duration> DRAIN = ConfigKey.duration("grpc.drain_timeout", Duration.ofSeconds(5), "Drain.");
    static final ConfigKey<Optional<Duration>> MAX_AGE =
            ConfigKey.optionalDuration("grpc.max_connection_age", Optional.empty(), "Max age.");
    static final ConfigKey<String> MODE = ConfigKey.oneOf("audit.mode", "async", List.of("async", "sync"), "Mode.");
    static final ConfigKey<List<String>> ISSUERS = ConfigKey.stringList("jwt.issuers", List.of(), "Trusted issuers.");
    static final ConfigKey<Boolean> FAIL_OPEN = ConfigKey.bool("fail_open", false, "Fail open.");
    static final ConfigKey<Path> POLICY =
            ConfigKey.path("policy.path", Path.of("/etc/meshguard/authz.yaml"), "Policy.");

    static final ConfigSchema SCHEMA = ConfigSchema.builder()
            .add(PORT, MAX_MESSAGE, DRAIN, MAX_AGE, MODE, ISSUERS, FAIL_OPEN, POLICY)
            .build();

    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("server.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    @Test
    void load_noFileNoEnv_givesDefaults() throws Exception {
        Config config = ConfigLoader.load(SCHEMA, Optional.empty(), Map.of());

        assertThat(config.get(PORT)).isEqualTo(9001);
        assertThat(config.get(MAX_MESSAGE)).isEqualTo(4L << 20);
        assertThat(config.get(MAX_AGE)).isEmpty();
        assertThat(config.source(PORT)).isEqualTo(new ConfigSource.Default());
        assertThat(config.source(PORT)).hasToString("default");
    }

    @Test
    void load_nestedYaml_setsValuesAndRemembersLines() throws Exception {
        Path file = write("""
                grpc:
                  port: 7000
                  max_inbound_message_bytes: 512KiB
                  drain_timeout: 300ms
                  max_connection_age: 30m
                audit:
                  mode: SYNC
                jwt:
                  issuers:
                    - https://idp.example
                    - https://other.example
                fail_open: true
                policy.path: /tmp/p.yaml
                """);

        Config config = ConfigLoader.load(SCHEMA, Optional.of(file), Map.of());

        assertThat(config.get(PORT)).isEqualTo(7000);
        assertThat(config.get(MAX_MESSAGE)).isEqualTo(512 * 1024L);
        assertThat(config.get(DRAIN)).isEqualTo(Duration.ofMillis(300));
        assertThat(config.get(MAX_AGE)).contains(Duration.ofMinutes(30));
        assertThat(config.get(MODE)).isEqualTo("sync");
        assertThat(config.get(ISSUERS)).containsExactly("https://idp.example", "https://other.example");
        assertThat(config.get(FAIL_OPEN)).isTrue();
        assertThat(config.get(POLICY)).isEqualTo(Path.of("/tmp/p.yaml"));
        assertThat(config.source(PORT)).isEqualTo(new ConfigSource.File(file.toString(), 2));
        assertThat(config.source(POLICY)).hasToString(file + ":13");
    }

    @Test
    void load_envOverride_winsOverFile() throws Exception {
        Path file = write("grpc:\n  port: 7000\n");

        Config config = ConfigLoader.load(
                SCHEMA, Optional.of(file), Map.of("MESHGUARD_GRPC_PORT", "7100", "MESHGUARD_JWT_ISSUERS", "a, b,,c"));

        assertThat(config.get(PORT)).isEqualTo(7100);
        assertThat(config.source(PORT)).isEqualTo(new ConfigSource.Env("MESHGUARD_GRPC_PORT"));
        assertThat(config.source(PORT)).hasToString("env MESHGUARD_GRPC_PORT");
        assertThat(config.get(ISSUERS)).containsExactly("a", "b", "c");
    }

    @Test
    void load_envOffWord_clearsOptionalDuration() throws Exception {
        Path file = write("grpc:\n  max_connection_age: 1h\n");

        Config config =
                ConfigLoader.load(SCHEMA, Optional.of(file), Map.of("MESHGUARD_GRPC_MAX_CONNECTION_AGE", "off"));

        assertThat(config.get(MAX_AGE)).isEmpty();
    }

    @Test
    void load_unknownEnvVar_isIgnored() throws Exception {
        Config config =
                ConfigLoader.load(SCHEMA, Optional.empty(), Map.of("MESHGUARD_DLP_SOMETHING", "x", "PATH", "/bin"));

        assertThat(config.get(PORT)).isEqualTo(9001);
    }

    @Test
    void load_customEnvPrefix_readsOnlyThatPrefix() throws Exception {
        Config config = ConfigLoader.load(
                SCHEMA,
                Optional.empty(),
                Map.of("MESHGUARD_GRPC_PORT", "1", "MESHGUARD_EXTAUTHZ_GRPC_PORT", "9101"),
                "MESHGUARD_EXTAUTHZ_");

        assertThat(config.get(PORT)).isEqualTo(9101);
    }

    @Test
    void load_wrongType_namesKeyAndFileLine() throws IOException {
        Path file = write("grpc:\n  drain_timeout: 5s\n  port: ninety\n");

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(new ConfigProblem(
                                file + ":3", "grpc.port: expected an integer between 0 and 65535, found 'ninety'")));
    }

    @Test
    void load_unknownKey_reportsLineAndSuggestion() throws IOException {
        Path file = write("grpc:\n  prot: 7000\n");

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(file + ":2: unknown key 'grpc.prot' (did you mean 'grpc.port'?)");
    }

    @Test
    void load_unknownTopLevelKey_withoutCloseMatch_hasNoSuggestion() throws IOException {
        Path file = write("database:\n  url: x\n");

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()))
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(new ConfigProblem(file + ":1", "unknown key 'database'")));
    }

    @Test
    void load_manyProblems_listsThemAll() throws IOException {
        Path file = write("""
                grpc:
                  port: 70000
                  max_inbound_message_bytes: 12 parsecs
                  drain_timeout: soon
                audit:
                  mode: maybe
                fail_open: yes
                extra: 1
                """);

        assertThatThrownBy(() -> ConfigLoader.load(
                        SCHEMA, Optional.of(file), Map.of("MESHGUARD_GRPC_MAX_CONNECTION_AGE", "forever")))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .extracting(ConfigProblem::toString)
                        .containsExactly(
                                file + ":2: grpc.port: expected an integer between 0 and 65535, found 70000",
                                file + ":3: grpc.max_inbound_message_bytes: expected a byte size such as 4194304,"
                                        + " 512KiB or 4MiB, found '12 parsecs'",
                                file + ":4: grpc.drain_timeout: expected a duration such as 300ms, 5s, 2m, 1h or 1d,"
                                        + " found 'soon'",
                                file + ":6: audit.mode: expected one of async, sync, found 'maybe'",
                                file + ":7: fail_open: expected true or false, found 'yes'",
                                file + ":8: unknown key 'extra'",
                                "env MESHGUARD_GRPC_MAX_CONNECTION_AGE: grpc.max_connection_age: expected a duration"
                                        + " such as 300ms, 5s, 2m, 1h or 1d, found 'forever'"))
                .hasMessageStartingWith("invalid configuration (7 problems):");
    }

    @Test
    void load_byteSizeBelowMinimum_isOutOfRange() throws IOException {
        Path file = write("grpc:\n  max_inbound_message_bytes: 10\n");

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()))
                .hasMessageContaining(file + ":2: grpc.max_inbound_message_bytes: expected a byte size between 1KiB"
                        + " and 2147483647, found 10");
    }

    @Test
    void load_groupGivenAScalar_isRejected() throws IOException {
        Path file = write("grpc: 9001\n");

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()))
                .hasMessageContaining(file + ":1: grpc is a group of settings, expected a map, found a scalar value");
    }

    @Test
    void load_sameKeyDottedAndNested_isRejected() throws IOException {
        Path file = write("grpc.port: 1\ngrpc:\n  port: 2\n");

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()))
                .hasMessageContaining(file + ":3: grpc.port is set twice (first on line 1)");
    }

    @Test
    void load_listGivenAMap_isRejected() throws IOException {
        Path file = write("jwt:\n  issuers:\n    a: b\n");

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()))
                .hasMessageContaining(file + ":3: jwt.issuers: expected a list of strings, found a map");
    }

    @Test
    void load_missingFile_isReported() {
        Path missing = dir.resolve("nope.yaml");

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(missing), Map.of()))
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(new ConfigProblem(missing.toString(), "config file not found")));
    }

    @Test
    void load_directoryInsteadOfFile_isReportedAsUnreadable() {
        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(dir), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(dir + ": cannot read config file");
    }

    @Test
    void load_invalidUtf8_isReported() throws IOException {
        Path file = dir.resolve("bin.yaml");
        Files.write(file, new byte[] {'a', ':', ' ', (byte) 0xC3, (byte) 0x28});

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()))
                .hasMessageContaining("not valid UTF-8");
    }

    @Test
    void load_yamlSyntaxError_reportsLine() throws IOException {
        Path file = write("grpc:\n  port: [1\n");

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()))
                .hasMessageContaining(file + ":")
                .hasMessageContaining("not valid YAML");
    }

    @Test
    void load_rootIsAList_isRejected() throws IOException {
        Path file = write("- a\n- b\n");

        assertThatThrownBy(() -> ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()))
                .hasMessageContaining(file + ":1: expected a map of settings, found a list");
    }

    @Test
    void load_emptyFile_givesDefaults() throws Exception {
        Path file = write("# nothing set\n");
        Files.writeString(file, "# nothing set\n", StandardCharsets.UTF_8);

        assertThat(ConfigLoader.load(SCHEMA, Optional.of(file), Map.of()).get(PORT))
                .isEqualTo(9001);
    }

    @Test
    void get_keyNotInSchema_isAWiringError() throws Exception {
        Config config = ConfigLoader.load(SCHEMA, Optional.empty(), Map.of());
        ConfigKey<Integer> other = ConfigKey.integer("http.port", 1, 0, 65535, "x");

        assertThatThrownBy(() -> config.get(other))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("http.port is not in this server's schema");
    }

    @Test
    void get_sameNameOtherDefault_readsTheLoadedValue() throws Exception {
        Config config = ConfigLoader.load(SCHEMA, Optional.empty(), Map.of("MESHGUARD_GRPC_PORT", "1234"));
        ConfigKey<Integer> samePortOtherDefault = ConfigKey.integer("grpc.port", 18000, 0, 65535, "xDS port.");

        assertThat(config.get(samePortOtherDefault)).isEqualTo(1234);
    }

    @Test
    void values_listEverySettingWithItsSource() throws Exception {
        Config config = ConfigLoader.load(SCHEMA, Optional.empty(), Map.of("MESHGUARD_GRPC_DRAIN_TIMEOUT", "2m"));

        assertThat(config.values()).hasSize(SCHEMA.keys().size());
        Config.Value drain = config.values().get(2);
        assertThat(drain.formatted()).isEqualTo("2m");
        assertThat(drain.source()).hasToString("env MESHGUARD_GRPC_DRAIN_TIMEOUT");
    }
}
