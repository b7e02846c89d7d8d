package io.meshguard.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.Main;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The developer's command line is the shipped one plus up, local and demo; the shipped one has none of the three. */
class DevMainTest {
    private static final Set<String> DEV_ONLY = Set.of("up", "local", "demo");

    @Test
    void devMain_hasEveryShippedCommand_plusUpLocalAndDemo() {
        Set<String> shipped = Main.commandLine().getSubcommands().keySet();
        Set<String> dev = DevMain.commandLine().getSubcommands().keySet();

        assertThat(shipped).as("the image's meshguard.jar carries no dev stack").doesNotContainAnyElementsOf(DEV_ONLY);
        assertThat(dev).containsAll(shipped).containsAll(DEV_ONLY);
        assertThat(dev).hasSize(shipped.size() + DEV_ONLY.size());
    }
}
