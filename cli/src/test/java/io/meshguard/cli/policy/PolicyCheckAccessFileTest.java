package io.meshguard.cli.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.CliRun;
import io.meshguard.testing.FixturePolicies;
import io.meshguard.testing.SlowTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code meshguard policy check DIR/} checks every policy file in DIR, the admin plane's access.yaml included. */
@SlowTest
class PolicyCheckAccessFileTest {
    @TempDir
    Path tmp;

    private Path policiesWithAccess(String access) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("policies"));
        for (String file : new String[] {"authz.yaml", "dlp.yaml"}) {
            Files.copy(
                    FixturePolicies.directory().resolve(file), dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(dir.resolve("access.yaml"), access);
        return dir;
    }

    @Test
    void check_typoInAccessYaml_failsNamingFileAndLine() throws Exception {
        Path dir = policiesWithAccess("""
                claims: [groups]
                roles:
                  auditor:
                    permissions: [audit:read]
                bindings:
                  - {match: auditors, role: auditr, scope: system}
                """);
        CliRun run = CliRun.of("policy", "check", dir.toString());
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("access.yaml:6:").contains("role 'auditr' is not defined");
        assertThat(run.out()).doesNotContain("access.yaml");
    }

    @Test
    void check_validAccessYaml_reportsItOk() throws Exception {
        Path dir = policiesWithAccess(Files.readString(Path.of("..", "policies", "access.yaml")));
        CliRun run = CliRun.of("policy", "check", dir.toString());
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("ok  " + dir.resolve("access.yaml"));
    }
}
