package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.xds.AdminClient;
import io.meshguard.devstack.demo.DemoCommand;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code meshguard demo --zones 2} against the stack as {@code up} wires it: two clusters registered through
 * the admin API, two zone controllers with emulated Envoy nodes, a publish that reaches one cluster only, central
 * stopped and restarted, a zone whose link hangs marked stale, a revocation. The journey checks each step itself (its exit code); this test also reads
 * that each step was shown, and that it replays on a stack that already played it.
 */
@IntegrationTest
class ZonesDemoTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static E2eStack stack;

    @BeforeAll
    static void startStack() throws Exception {
        stack = E2eStack.start(PG, Files.createTempDirectory("meshguard-zones-demo"));
    }

    @AfterAll
    static void stopStack() {
        if (stack != null) {
            stack.close();
        }
    }

    private static String play() throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        int exit = DemoCommand.playZones(
                new AdminClient(stack.xdsAdminUrl(), stack.adminTokenFile()),
                stack.database(),
                2,
                new PrintStream(text, true, StandardCharsets.UTF_8));
        String out = text.toString(StandardCharsets.UTF_8);
        System.out.println(out); // the journey as a user reads it, in the test's report
        assertThat(exit).as(out).isZero();
        return out;
    }

    @Test
    void zonesJourney_publishReachesOneCluster_zoneServesThroughCentralsAbsence_resyncs_revocationCuts()
            throws Exception {
        String out = play();

        assertThat(out).contains("Every step held.").doesNotContain("NOT SHOWN");
        // Z1: both clusters registered with a one-time token, both zones configured their node
        assertThat(out)
                .contains(
                        "demo-zone-1  registered, serves demo-zone-1-gw; one-time token",
                        "demo-zone-2  registered, serves demo-zone-2-gw; one-time token");
        assertThat(section(out, "Z1"))
                .contains(
                        "node envoy-demo-zone-1-1 holds 1 listener(s)", "node envoy-demo-zone-2-1 holds 1 listener(s)");
        // Z2: the new route reaches zone 1's node; zone 2's node and the stray node of zone 1's group there do not
        assertThat(section(out, "Z2"))
                .containsPattern("demo-zone-1  node envoy-demo-zone-1-1 holds [^\n]*" + "demo-zone-1-gw-orders")
                .contains(
                        "demo-zone-2  node envoy-demo-zone-2-1 unchanged",
                        "node envoy-demo-zone-2-stray (group demo-zone-1-gw) holds nothing")
                .doesNotContainPattern("envoy-demo-zone-2-1 unchanged[^\n]*orders");
        // Z3: central away, the joining node gets all of it from its zone
        assertThat(section(out, "Z3"))
                .contains("stopped; zones connected to it: 0")
                .containsPattern("node envoy-demo-zone-1-joined fully configured in \\d+ ms: [^\n]*orders[^\n]*"
                        + "\\(the same as envoy-demo-zone-1-1\\)");
        // Z4: resynced; Z5: a hung link marked stale, then live again; Z6: cut off
        assertThat(section(out, "Z4"))
                .containsPattern("serves revision \\d+ \\d+ ms after central started again")
                .contains("fleet            demo-zone-1: connected", "fleet            demo-zone-2: connected");
        assertThat(section(out, "Z5"))
                .containsPattern("fleet            demo-zone-2: stale \\d+ ms after its link hung")
                .containsPattern("node envoy-demo-zone-2-1 still holds 1 listener\\(s\\)")
                .containsPattern("demo-zone-2: connected and echoing again \\d+ ms after the link came back");
        assertThat(section(out, "Z6")).containsPattern("demo-zone-2  cut off in \\d+ ms \\(credential revoked\\)");
        Matcher joined = Pattern.compile("fully configured in (\\d+) ms").matcher(out);
        assertThat(joined.find()).isTrue();
        // the demo's clusters leave the fleet with it (they once stayed listed for good)
        assertThat(out).contains("The demo's clusters were revoked and removed from the fleet.");
        assertThat(new AdminClient(stack.xdsAdminUrl(), stack.adminTokenFile())
                        .send("GET", "/v1/operator/clusters", null)
                        .body())
                .doesNotContain("demo-zone-");

        // a second run registers again (a revoked cluster is re-admitted by a new token) and shows the same
        assertThat(play()).contains("Every step held.");
    }

    private static String section(String out, String step) {
        int from = out.indexOf("== " + step + ".");
        int to = out.indexOf("\n== ", from + 1);
        return out.substring(from, to < 0 ? out.length() : to);
    }
}
