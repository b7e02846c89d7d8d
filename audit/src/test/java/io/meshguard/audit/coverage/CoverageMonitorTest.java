package io.meshguard.audit.coverage;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The periodic join on a real PostgreSQL: each slice of time is counted once, per service and result. */
@IntegrationTest
class CoverageMonitorTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Instant T0 = Instant.parse("2027-06-01T12:00:00Z");
    private static final Duration INTERVAL = Duration.ofSeconds(15);
    private static final Duration LAG = Duration.ofSeconds(20);

    @Test
    void uncheckedRequest_isCountedOnce_perService_inTheSliceItFellIn() throws Exception {
        AtomicReference<Instant> now = new AtomicReference<>(T0);
        Clock clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        CoverageMonitor monitor =
                new CoverageMonitor(new CoverageReport(PG.dataSource()), INTERVAL, LAG, clock, meters);
        // the alert's series exists before anything was found
        assertThat(meters.get("meshguard.coverage.uncovered.requests").counter().count())
                .isZero();
        // the first slice is [T0 - 35s, T0 - 20s): one checked request, one bypass
        Instant slice = T0.minus(LAG).minusSeconds(10);
        write(List.of(
                logged("req-a", "orders.shop.svc.cluster.local", slice),
                check("req-a", slice),
                logged("req-b", "10.4.0.7:8080", slice),
                // already in the next slice: not counted yet
                logged("req-c", "10.4.0.7:8080", T0.minus(LAG).plusSeconds(5))));

        assertThat(monitor.runOnce()).isPresent();
        assertThat(count(meters, "10.4.0.7", "unchecked")).isEqualTo(1);
        assertThat(count(meters, "orders.shop.svc.cluster.local", "checked")).isEqualTo(1);
        assertThat(count(meters, "orders.shop.svc.cluster.local", "unchecked")).isZero();

        // the same instant again: nothing new to join, nothing counted twice
        assertThat(monitor.runOnce()).isEmpty();
        now.set(T0.plus(INTERVAL));
        monitor.runOnce();
        assertThat(count(meters, "10.4.0.7", "unchecked")).isEqualTo(2);
        assertThat(meters.get("meshguard.coverage.uncovered.requests").counter().count())
                .isEqualTo(2);
        assertThat(meters.get("meshguard.coverage.last_success.timestamp.seconds")
                        .gauge()
                        .value())
                .isEqualTo(T0.plus(INTERVAL).getEpochSecond());
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

    private static AuditEvent check(String requestId, Instant at) {
        return AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(at)
                .requestId(requestId)
                .decision("allow")
                .status(200)
                .build();
    }
}
