package io.meshguard.bench.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The coverage soak at CI size: 40 emulated minutes with a writer's hiccup every 10 minutes and a PostgreSQL outage
 * at minute 30, through the real monitor and report on a real PostgreSQL. The long run is {@link CoverageSoak}'s
 * {@code main} (docs/benchmarks.md).
 */
@IntegrationTest
class CoverageSoakTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void emulatedTraffic_withLateRowsSkewAndAnOutage_everyBypassCounted_noCheckedRequestReportedUnchecked()
            throws Exception {
        CoverageSoak.Settings settings =
                new CoverageSoak.Settings(Duration.ofMinutes(40), 1, 3, 46, Duration.ofMinutes(10));

        CoverageSoak.Result r = new CoverageSoak(settings, PG.dataSource()).run();

        assertThat(r.requests()).isGreaterThan(2400);
        assertThat(r.monitorFailures()).as("the outage made joins fail").isPositive();
        assertThat(r.expectedUnchecked()).isEqualTo(15);
        assertThat(r.expectedWithoutDlp()).isEqualTo(6);
        assertThat(r.misses().values().stream().mapToLong(Long::longValue).sum())
                .as("bypasses the monitor missed: %s", r.misses())
                .isZero();
        assertThat(r.reportMisses()).as("bypasses the report missed").isEmpty();
        assertThat(r.falseAlarms()).as("monitor false alarms").isEmpty();
        assertThat(r.reportFalseAlarms()).as("report false alarms").isEmpty();
        assertThat(r.reportSampleMismatches()).isEmpty();
    }
}
