package io.meshguard.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.devstack.part.UpPorts;
import io.meshguard.testing.SlowTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@SlowTest
class MainTest {
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private PrintStream originalErr;
    private PrintStream originalOut;

    @BeforeEach
    void captureStreams() {
        originalErr = System.err;
        originalOut = System.out;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreStreams() {
        System.setErr(originalErr);
        System.setOut(originalOut);
    }

    @Test
    void version_printsThePomVersionAndTheCommit() throws Exception {
        int code = DevMain.execute("-V");

        assertThat(code).isZero();
        // the parent version in cli/pom.xml: the one version of every module, the image tag and /metrics
        var pom = javax.xml.parsers.DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(java.nio.file.Path.of("pom.xml").toFile());
        String pomVersion =
                javax.xml.xpath.XPathFactory.newInstance().newXPath().evaluate("/project/parent/version", pom);
        assertThat(out.toString(StandardCharsets.UTF_8).lines().toList())
                .containsExactly(
                        "meshguard " + pomVersion.trim(),
                        "commit " + io.meshguard.runtime.BuildInfo.current().commit(),
                        "java " + System.getProperty("java.runtime.version"));
        assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("meshguard dev");
    }

    @Test
    void unknownFlag_exitsNonZeroAndNamesTheFlag() {
        int code = DevMain.execute("up", "--no-such-flag");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Unknown option: '--no-such-flag'");
    }

    @Test
    void unknownCommand_exitsNonZeroAndSaysSo() {
        int code = DevMain.execute("frobnicate");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Unmatched argument at index 0: 'frobnicate'");
    }

    @Test
    void noCommand_exitsNonZeroAndAsksForOne() {
        int code = DevMain.execute();

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("a subcommand is required");
    }

    @Test
    void badPortValue_exitsNonZeroAndNamesTheOption() {
        int code = DevMain.execute("up", "--status-port", "ninety");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("--status-port")
                .contains("ninety");
    }

    @Test
    void help_listsEveryTopLevelCommand() {
        int code = DevMain.execute("--help");

        assertThat(code).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("up", "extauthz", "dlp", "xds", "policy", "authz", "audit", "apikey");
    }

    @Test
    void devTokenHelp_showsWholeSentencesAndAnExampleThatRunsAgainstUp() {
        int code = DevMain.execute("dev", "token", "--help");

        assertThat(code).isZero();
        String help = out.toString(StandardCharsets.UTF_8);
        assertThat(help.replaceAll("\\s+", " "))
                .contains("Only the dev policy generated there trusts it; the shipped policies/authz.yaml does not.");
        assertThat(help)
                .contains("  TOKEN=$(./meshguard dev token --sub alice --tenant t1)\n")
                .contains("      --header \"authorization=Bearer $TOKEN\" --header x-tenant-id=t1\n")
                .as("no example for a gateway `up` does not run")
                .doesNotContain("curl");
    }

    @Test
    void upHelp_namesAFlagForEveryPort() {
        assertThat(DevMain.execute("up", "--help")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains(UpPorts.DEFAULTS.byFlag().keySet().toArray(String[]::new));
    }
}
