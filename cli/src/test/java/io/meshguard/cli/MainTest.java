package io.meshguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
    @Test
    void commandLine_namedCommand_buildsOnlyThatCommand() {
        CommandLine xds = Main.commandLine(java.util.List.of(), "xds", "render");

        assertThat(xds.getSubcommands().keySet()).containsExactlyInAnyOrder("xds", "help");
        assertThat(xds.getSubcommands().get("xds").getSubcommands()).containsKey("render");
    }

    @Test
    void commandLine_version_buildsNoCommand() {
        assertThat(Main.commandLine(java.util.List.of(), "--version")
                        .getSubcommands()
                        .keySet())
                .containsExactly("help");
        assertThat(Main.execute("-V")).isZero();
    }

    @Test
    void commandLine_noCommandNamed_buildsEveryCommand() {
        int every = Main.commandLine().getSubcommands().size();

        assertThat(every).isGreaterThan(15);
        assertThat(Main.commandLine(java.util.List.of()).getSubcommands()).hasSize(every);
        assertThat(Main.commandLine(java.util.List.of(), "--help").getSubcommands())
                .hasSize(every);
        assertThat(Main.commandLine(java.util.List.of(), "help", "xds").getSubcommands())
                .hasSize(every);
        assertThat(Main.commandLine(java.util.List.of(), "xdss").getSubcommands())
                .hasSize(every);
    }

    @Test
    void execute_mistypedCommand_stillSuggestsTheNearestOfAll() {
        StringWriter err = new StringWriter();
        CommandLine line = Main.commandLine(java.util.List.of(), "audti");
        line.setErr(new PrintWriter(err));

        assertThat(line.execute("audti")).isEqualTo(2);
        assertThat(err.toString()).contains("audit");
    }
}
