package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.emulator.AdsSubscription;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.soak.XdsSoak;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The xDS core under {@link XdsSoak}: every discovery path (emulated Envoy gateways on ADS and VHDS, bare nodes on
 * state-of-the-world ADS with VHDS, delta ADS and subscription state over both protocols) with racing ACKs, refusing
 * nodes, reconnects, renames and rollbacks, central restarted and a zone's link cut; then no deadlock, the watchdogs
 * healthy, every accepting node on the last revision and no NACK storm. The seed is printed and in every failure;
 * {@code -Dmeshguard.soak.seed=…} replays it, {@code -Dmeshguard.soak.seconds=…} changes how long it churns (10 s),
 * {@code -Dmeshguard.soak.runs=…} runs it that many times in a row (seed, seed + 1, …).
 */
@IntegrationTest
class XdsCoreSoakTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path tmp;

    @Test
    void everyPathRacingAcksRemovalsRestartsAndALinkCut_noDeadlock_everyNodeOnTheLastRevision_noNackStorm()
            throws Exception {
        long seed = Long.getLong("meshguard.soak.seed", System.nanoTime());
        int seconds = Integer.getInteger("meshguard.soak.seconds", 10);
        int runs = Integer.getInteger("meshguard.soak.runs", 1);
        for (int run = 0; run < runs; run++) {
            long started = System.nanoTime();
            System.out.println(
                    "XdsCoreSoakTest run " + (run + 1) + "/" + runs + " seed=" + (seed + run) + " seconds=" + seconds);
            XdsSoak.Report report = new XdsSoak(
                            seed + run,
                            seconds,
                            XdsSoak.Sizes.CI,
                            1,
                            PG.dataSource(),
                            tmp.resolve("run-" + run),
                            (port, id, group) ->
                                    AdsSubscription.connect("127.0.0.1", port, new EnvoyNode(id, group, Map.of())))
                    .run();
            assertThat(List.of(report.restarts(), report.cuts()))
                    .as("seed " + (seed + run) + ": central restarted and the zone's link cut at least once")
                    .allSatisfy(n -> assertThat(n).isPositive());
            System.out.println("XdsCoreSoakTest run " + (run + 1) + "/" + runs + " passed in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms: " + report);
        }
    }
}
