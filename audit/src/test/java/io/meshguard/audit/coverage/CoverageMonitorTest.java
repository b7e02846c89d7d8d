package io.meshguard.audit.coverage;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The periodic join on a real PostgreSQL: each request is counted once, per service and result; late rows of either
 * side (a Check still in its writer, an access-log row logged at a stream's end) neither raise a false alarm nor escape
 * the count.
 */
@IntegrationTest
class CoverageMonitorTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Instant T0 = Instant.parse("2027-06-01T12:00:00Z");
    private static final Duration INTERVAL = Duration.ofSeconds(15);
    private static final Duration LAG = Duration.ofSeconds(20);

    @Test
    void uncheckedRequest_isCountedOnce_perService_inTheSliceItFellIn() throws Exception {
        MovableClock clock = new MovableClock(T0);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        // counted at first sight (settle 0): the slices alone
        CoverageMonitor monitor =
                new CoverageMonitor(new CoverageReport(PG.dataSource()), INTERVAL, LAG, Duration.ZERO, clock, meters);
        // the alert's series exists before anything was found
        assertThat(meters.get("meshguard.coverage.uncovered.requests").counter().count())
                .isZero();
        // the first slice is [T0 - 35s, T0 - 20s): one checked request, one bypass
        Instant slice = T0.minus(LAG).minusSeconds(10);
        write(List.of(
                logged("req-a", "orders.shop.svc.cluster.local", slice),
                check("req-a", "orders.shop.svc.cluster.local", slice),
                logged("req-b", "10.4.0.7:8080", slice),
                // already in the next slice: not counted yet
                logged("req-c", "10.4.0.7:8080", T0.minus(LAG).plusSeconds(5))));

        assertThat(monitor.runOnce()).isPresent();
        assertThat(count(meters, "10.4.0.7", "unchecked")).isEqualTo(1);
        assertThat(count(meters, "orders.shop.svc.cluster.local", "checked")).isEqualTo(1);
        assertThat(count(meters, "orders.shop.svc.cluster.local", "unchecked")).isZero();

        // the same instant again: nothing new to join, nothing counted twice
        assertThat(monitor.runOnce()).isEmpty();
        clock.set(T0.plus(INTERVAL));
        monitor.runOnce();
        assertThat(count(meters, "10.4.0.7", "unchecked")).isEqualTo(2);
        assertThat(meters.get("meshguard.coverage.uncovered.requests").counter().count())
                .isEqualTo(2);
        assertThat(meters.get("meshguard.coverage.last_success.timestamp.seconds")
                        .gauge()
                        .value())
                .isEqualTo(T0.plus(INTERVAL).getEpochSecond());
    }

    @Test
    void checkThatReachesPostgresAfterTheAccessLogRow_withinTheSettleTime_isNoAlarm() throws Exception {
        Instant t1 = T0.plus(Duration.ofHours(1));
        MovableClock clock = new MovableClock(t1);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        CoverageMonitor monitor =
                new CoverageMonitor(new CoverageReport(PG.dataSource()), INTERVAL, LAG, INTERVAL, clock, meters);
        Instant at = t1.minus(LAG).minusSeconds(10);
        // extauthz's writer is still retrying its batch when the join first sees the request
        write(List.of(logged("req-late-check", "payments.bank.svc.cluster.local", at)));
        monitor.runOnce();
        assertThat(count(meters, "payments.bank.svc.cluster.local", "unchecked"))
                .isZero();

        write(List.of(check("req-late-check", "payments.bank.svc.cluster.local", at.plusMillis(3))));
        clock.set(t1.plus(INTERVAL));
        monitor.runOnce();

        assertThat(count(meters, "payments.bank.svc.cluster.local", "unchecked"))
                .isZero();
        assertThat(count(meters, "payments.bank.svc.cluster.local", "checked")).isEqualTo(1);
        assertThat(meters.get("meshguard.coverage.uncovered.requests").counter().count())
                .isZero();
    }

    @Test
    void requestStillWithoutCheck_afterTheSettleTime_isCountedOnce() throws Exception {
        Instant t2 = T0.plus(Duration.ofHours(2));
        MovableClock clock = new MovableClock(t2);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        CoverageMonitor monitor =
                new CoverageMonitor(new CoverageReport(PG.dataSource()), INTERVAL, LAG, INTERVAL, clock, meters);
        write(List.of(
                logged("req-settled-bypass", "10.4.0.21:8080", t2.minus(LAG).minusSeconds(10))));

        monitor.runOnce();
        assertThat(count(meters, "10.4.0.21", "unchecked")).isZero();
        for (int run = 1; run <= 3; run++) {
            clock.set(t2.plus(INTERVAL.multipliedBy(run)));
            monitor.runOnce();
        }

        assertThat(count(meters, "10.4.0.21", "unchecked")).isEqualTo(1);
        assertThat(meters.get("meshguard.coverage.uncovered.requests").counter().count())
                .isEqualTo(1);
    }

    @Test
    void accessLogRowThatArrivesAfterItsSliceWasJoined_isStillCounted() throws Exception {
        Instant t3 = T0.plus(Duration.ofHours(3));
        MovableClock clock = new MovableClock(t3);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        CoverageMonitor monitor =
                new CoverageMonitor(new CoverageReport(PG.dataSource()), INTERVAL, LAG, Duration.ZERO, clock, meters);
        monitor.runOnce();
        clock.set(t3.plus(Duration.ofMinutes(2)));
        monitor.runOnce();
        // a stream that began right after the first run logs its one row when it ends, two minutes later
        write(List.of(logged("req-long-stream", "10.4.0.22:8080", t3.minusSeconds(5))));

        clock.set(t3.plus(Duration.ofMinutes(2)).plus(INTERVAL));
        monitor.runOnce();
        clock.set(t3.plus(Duration.ofMinutes(2)).plus(INTERVAL.multipliedBy(2)));
        monitor.runOnce();

        assertThat(count(meters, "10.4.0.22", "unchecked")).isEqualTo(1);
    }

    private static double count(SimpleMeterRegistry meters, String service, String result) {
        Counter c = meters.find("meshguard.coverage.requests")
                .tag("service", service)
                .tag("result", result)
                .counter();
        return c == null ? 0 : c.count();
    }

    private static void write(List<AuditEvent> rows) throws Exception {
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(rows);
        }
    }

    private static AuditEvent logged(String requestId, String authority, Instant at) {
        return AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(at)
                .requestId(requestId)
                .authority(authority)
                .status(200)
                .detail("upstream_cluster", "inbound|8080||")
                .build();
    }

    private static AuditEvent check(String requestId, String authority, Instant at) {
        return AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(at)
                .requestId(requestId)
                .authority(authority)
                .decision("allow")
                .status(200)
                .build();
    }
}
