package io.meshguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.audit.query.TrafficReport.Traffic;
import io.meshguard.audit.query.TrafficReport.VersionTraffic;
import io.meshguard.audit.query.TrafficReport.Window;
import io.meshguard.db.TenantScope;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Traffic & security figures on a real PostgreSQL, for all tenants and confined to one by row-level security. */
@IntegrationTest
class TrafficReportTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Instant T0 = Instant.parse("2027-05-10T10:00:00Z");

    @BeforeAll
    static void data() throws Exception {
        List<AuditEvent> rows = new ArrayList<>();
        int second = 0;
        for (int status : new int[] {200, 200, 401, 403, 429, 429, 500}) {
            rows.add(call("acme", "orders", "v1", ++second, status, status == 500 ? 900 : 10));
        }
        rows.add(call("globex", "orders", "v1", ++second, 200, 10));
        rows.add(call("globex", "billing", "v2", ++second, 404, 5));
        // the DLP server's row for a request is not a second call; a call two hours back is outside the hour
        rows.add(AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(T0.plusSeconds(++second))
                .source("extproc-dlp")
                .tenant("acme")
                .status(200)
                .detail("api", "orders")
                .detail("api_version", "v1")
                .build());
        rows.add(call("acme", "orders", "v1", -7200, 200, 10));
        for (String[] f : new String[][] {{"acme", "credit_card"}, {"acme", "credit_card"}, {"globex", "iban"}}) {
            rows.add(AuditEvent.builder(AuditKind.DLP_FINDING)
                    .occurredAt(T0.plusSeconds(++second))
                    .tenant(f[0])
                    .detail("detector", f[1])
                    .build());
        }
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(rows);
        }
        try (var c = PG.dataSource().getConnection();
                var s = c.createStatement()) {
            s.execute("insert into quota_alert (quota, caller, period_start, threshold, used, quota_limit) values"
                    + " ('orders-daily', 'tenant:acme', '2027-05-10', 80, 810, 1000),"
                    + " ('orders-daily', 'tenant:acme', '2027-05-10', 90, 905, 1000),"
                    + " ('orders-daily', 'tenant:globex', '2027-05-10', 100, 1000, 1000),"
                    + " ('orders-daily', 'tenant:initech', '2027-05-10', 50, 500, 1000),"
                    + " ('orders-daily', 'tenant:acme', '2027-02-01', 100, 1000, 1000)");
        }
    }

    private static AuditEvent call(String tenant, String api, String version, int second, int status, long ms) {
        return AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(T0.plusSeconds(second))
                .requestId(api + second)
                .route("r")
                .status(status)
                .latencyUs(ms * 1000)
                .tenant(tenant)
                .source("gateway")
                .detail("api", api)
                .detail("api_version", version)
                .build();
    }

    private static Traffic report(TenantScope scope) throws Exception {
        return new TrafficReport(PG.dataSource()).report(Window.HOUR, T0.plus(Duration.ofMinutes(30)), scope);
    }

    @Test
    void perVersion_countsTheStatusSplit_andP95_ofTheWindowsGatewayRows() throws Exception {
        Traffic t = report(TenantScope.ALL);
        assertThat(t.versions())
                .extracting(VersionTraffic::api, VersionTraffic::version, VersionTraffic::requests)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("billing", "v2", 1L),
                        org.assertj.core.groups.Tuple.tuple("orders", "v1", 8L));
        VersionTraffic orders = t.versions().get(1);
        assertThat(List.of(
                        orders.clientErrors(),
                        orders.serverErrors(),
                        orders.unauthorized(),
                        orders.forbidden(),
                        orders.tooManyRequests()))
                .containsExactly(4L, 1L, 1L, 1L, 2L);
        assertThat(orders.p95Millis().getAsDouble()).isGreaterThan(10).isLessThanOrEqualTo(900);
        assertThat(t.dlp())
                .containsExactly(
                        new TrafficReport.DetectorFindings("credit_card", 2),
                        new TrafficReport.DetectorFindings("iban", 1));
        // the newest alert per caller in a running period, at 80 % or more, fullest first
        assertThat(t.nearQuota())
                .extracting(TrafficReport.NearQuota::caller, TrafficReport.NearQuota::used)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("tenant:globex", 1000L),
                        org.assertj.core.groups.Tuple.tuple("tenant:acme", 905L));
    }

    @Test
    void aTenantCaller_seesOnlyItsTenantsRows() throws Exception {
        Traffic t = report(TenantScope.of(Set.of("globex")));
        assertThat(t.versions())
                .extracting(VersionTraffic::api, VersionTraffic::requests)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("billing", 1L),
                        org.assertj.core.groups.Tuple.tuple("orders", 1L));
        assertThat(t.dlp()).extracting(TrafficReport.DetectorFindings::detector).containsExactly("iban");
        assertThat(t.nearQuota()).extracting(TrafficReport.NearQuota::caller).containsExactly("tenant:globex");
        assertThat(report(TenantScope.NONE).versions()).isEmpty();
    }
}
