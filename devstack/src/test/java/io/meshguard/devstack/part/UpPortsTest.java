package io.meshguard.devstack.part;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.cli.CliRun;
import io.meshguard.devstack.DevCliRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code up --keycloak-port} against the other ports {@code up} listens on. */
class UpPortsTest {
    @TempDir
    Path dir;

    @Test
    void keycloakPort_onAnotherFlagsPort_isRefusedNamingBothFlags() {
        for (var other : UpPorts.DEFAULTS.byFlag().entrySet()) {
            assertThatThrownBy(() -> UpPorts.DEFAULTS.requireDistinct("--keycloak-port", other.getValue()))
                    .as(other.getKey())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(
                            "port " + other.getValue() + " is given to both --keycloak-port and " + other.getKey());
        }
        assertThatCode(() -> UpPorts.DEFAULTS.requireDistinct("--keycloak-port", 18080))
                .doesNotThrowAnyException();
        assertThatCode(() -> UpPorts.ANY.requireDistinct("--keycloak-port", 0))
                .as("0 picks a free port")
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> UpPorts.ANY.requireDistinct("--keycloak-port", 70000))
                .hasMessageContaining("--keycloak-port must be between 0 and 65535");
    }

    @Test
    void up_withKeycloakOnTheAdminPort_stopsBeforeStartingAnything() {
        List<String> args = new ArrayList<>(List.of("up", "--data-dir", dir.toString(), "--idp", "keycloak"));
        UpPorts.ANY.byFlag().keySet().stream()
                .filter(f -> !f.equals("--xds-admin-port"))
                .forEach(f -> args.addAll(List.of(f, "0")));
        args.addAll(List.of("--xds-admin-port", "19103", "--keycloak-port", "19103"));
        CliRun run = DevCliRun.of(args.toArray(String[]::new));
        assertThat(run.exit()).isNotZero();
        assertThat(run.err()).contains("port 19103 is given to both --keycloak-port and --xds-admin-port");
        assertThat(dir.resolve("postgres")).as("nothing was started").doesNotExist();
    }
}
