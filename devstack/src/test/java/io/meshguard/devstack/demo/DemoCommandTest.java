package io.meshguard.devstack.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.CliRun;
import io.meshguard.devstack.DevCliRun;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journeys themselves run in e2e's GatewayJourneysTest against the stack as up wires it. */
class DemoCommandTest {
    @TempDir
    Path dataDir;

    @Test
    void demo_withoutARunningUp_saysWhereItLookedAndWhatToDo() {
        CliRun run = DevCliRun.of("demo", "--data-dir", dataDir.toString());

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("no running `meshguard up`", dataDir.toString(), "./meshguard up");
        assertThat(run.out()).isEmpty();
    }
}
