package io.meshguard.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.Main;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

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

    /**
     * picocli wraps a description line longer than the help's width where it must, and the next line then starts on a
     * line of its own: a line that long is a whole paragraph, followed by an empty line or nothing.
     */
    @Test
    void everyCommandsHelp_wrapsOnlyWholeParagraphs() {
        CommandLine root = DevMain.commandLine();
        int width = root.getUsageHelpWidth();
        List<String> cut = new ArrayList<>();
        walk(root, line -> {
            String[] description = line.getCommandSpec().usageMessage().description();
            for (int i = 0; i + 1 < description.length; i++) {
                if (description[i].length() > width && !description[i + 1].isEmpty()) {
                    cut.add(line.getCommandSpec().qualifiedName() + ": \"" + description[i + 1] + "\"");
                }
            }
        });
        assertThat(cut)
                .as("description lines that would follow a wrapped line's widow")
                .isEmpty();
    }

    private static void walk(CommandLine line, java.util.function.Consumer<CommandLine> each) {
        each.accept(line);
        line.getSubcommands().values().stream().distinct().forEach(sub -> walk(sub, each));
    }
}
