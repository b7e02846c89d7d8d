package io.meshguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.audit.query.ApiUsageReport.Caller;
import io.meshguard.audit.query.ApiUsageReport.VersionUsage;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The usage report on a real PostgreSQL: gateway rows written through the audit store, API versions as the xDS controller stores them. */
@IntegrationTest
class ApiUsageReportTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Instant T0 = Instant.parse("2027-05-10T10:00:00Z");
    private static final Instant SUNSET = Instant.parse("2027-06-01T00:00:00Z");

    @BeforeAll
    static void data() throws Exception {
        try (var c = PG.dataSource().getConnection();
                var s = c.createStatement()) {
            // the draft says payments v1 is sunset; the gateways serve it deprecated (a rollback undid the sunset)
            s.execute("insert into api (name) values ('payments'), ('orders')");
            s.execute("insert into api_version (api_id, version, status) select id, 'v1', 'sunset' from api"
                    + " where name = 'payments'");
            s.execute("insert into gateway_group (name, environment) values ('edge', 'prod'), ('back', 'prod')");
            revision(
                    s,
                    "edge",
                    "publish",
                    "{\"name\": \"payments\", \"versions\": [{\"version\": \"v1\", \"status\": \"sunset\"}]}");
            revision(
                    s,
                    "edge",
                    "rollback",
                    "{\"name\": \"payments\", \"versions\": ["
                            + "{\"version\": \"v2\", \"status\": \"active\"},"
                            + "{\"version\": \"v1\", \"status\": \"deprecated\", \"deprecated_at\": \"2027-01-01T00:00:00Z\","
                            + " \"sunset_at\": \"" + SUNSET + "\", \"successor\": \"v2\"},"
                            + "{\"version\": \"v0\", \"status\": \"retired\"}]}");
            revision(s, "back", "publish", "{\"name\": \"orders\", \"versions\": [{\"version\": \"v1\"}]}");
        }
        List<AuditEvent> rows = new ArrayList<>();
        int second = 0;
        // payments v1: acme/app-1 x3 (one 503), globex/batch-7 x1, one denied caller without identity
        for (int ms : new int[] {10, 20, 30}) {
            rows.add(gateway("payments", "v1", ++second, ms == 30 ? 503 : 200, ms, "acme", "app-1"));
        }
        rows.add(gateway("payments", "v1", ++second, 200, 40, "globex", "batch-7"));
        rows.add(gateway("payments", "v1", ++second, 403, 1, null, null));
        // payments v2: two calls, each also with the DLP server's row for the same request (not counted)
        for (int i = 0; i < 2; i++) {
            AuditEvent g = gateway("payments", "v2", ++second, 200, 5, "acme", "app-1");
            rows.add(g);
            rows.add(AuditEvent.builder(AuditKind.API_CALL)
                    .occurredAt(g.occurredAt())
                    .requestId(g.requestId().get())
                    .source("extproc-dlp")
                    .route("transfers")
                    .status(200)
                    .tenant("acme")
                    .build());
        }
        // outside the window, and a sidecar row without API tags
        rows.add(gateway("payments", "v1", -3600, 200, 5, "acme", "app-1"));
        rows.add(AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(T0.plusSeconds(50))
                .route("default")
                .status(200)
                .build());
        // a version the config no longer has
        rows.add(gateway("legacy", "v9", ++second, 200, 5, "acme", "app-1"));
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(rows);
        }
    }

    private static AuditEvent gateway(
            String api, String version, int second, int status, long latencyMs, String tenant, String client) {
        return AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(T0.plusSeconds(second))
                .requestId(api + version + second)
                .route("transfers")
                .status(status)
                .latencyUs(latencyMs * 1000)
                .tenant(tenant)
                .clientId(client)
                .detail("api", api)
                .detail("api_version", version)
                .detail("envoy_route", api + "." + version + ".transfers")
                .build();
    }

    private static List<VersionUsage> report(Optional<String> api, int top) throws Exception {
        return new ApiUsageReport(PG.dataSource()).report(T0, T0.plus(Duration.ofDays(1)), api, top);
    }

    private static VersionUsage version(List<VersionUsage> r, String api, String version) {
        return r.stream()
                .filter(u -> u.api().equals(api) && u.version().equals(version))
                .findFirst()
                .orElseThrow(() -> new AssertionError(api + " " + version + " not in " + r));
    }

    @Test
    void lifecycle_isWhatTheGatewaysServeAfterARollback_notTheDraft() throws Exception {
        VersionUsage v1 = version(report(Optional.of("payments"), 3), "payments", "v1");
        assertThat(v1.lifecycle()).hasValue("deprecated");
        assertThat(v1.sunsetAt()).hasValue(SUNSET);
    }

    @Test
    void deprecatedVersion_showsRequestsErrorsLatencySunsetAndTopCallers() throws Exception {
        VersionUsage v1 = version(report(Optional.of("payments"), 3), "payments", "v1");
        assertThat(v1.requests()).isEqualTo(5);
        assertThat(v1.errors()).isEqualTo(1);
        assertThat(v1.clientErrors()).isEqualTo(1);
        assertThat(v1.p50Millis()).hasValue(20.0);
        assertThat(v1.deprecated()).isTrue();
        assertThat(v1.sunsetAt()).hasValue(SUNSET);
        assertThat(v1.successor()).hasValue("v2");
        assertThat(v1.topCallers())
                .containsExactly(
                        new Caller(Optional.of("acme"), Optional.of("app-1"), 3),
                        new Caller(Optional.of("globex"), Optional.of("batch-7"), 1),
                        new Caller(Optional.empty(), Optional.empty(), 1)); // ties by name, unverified last
        assertThat(version(report(Optional.of("payments"), 1), "payments", "v1").topCallers())
                .containsExactly(new Caller(Optional.of("acme"), Optional.of("app-1"), 3));
    }

    @Test
    void eachRequestCountsOnce_theDlpRowOfTheSameRequestIsNotCounted() throws Exception {
        VersionUsage v2 = version(report(Optional.of("payments"), 3), "payments", "v2");
        assertThat(v2.requests()).isEqualTo(2);
        assertThat(v2.lifecycle()).hasValue("active");
    }

    @Test
    void versionsWithoutTraffic_andTrafficToVersionsNoLongerConfigured_bothShow() throws Exception {
        List<VersionUsage> all = report(Optional.empty(), 3);
        assertThat(all)
                .extracting(u -> u.api() + " " + u.version())
                .containsExactly("legacy v9", "orders v1", "payments v0", "payments v1", "payments v2");
        assertThat(version(all, "payments", "v0").requests()).isZero();
        assertThat(version(all, "payments", "v0").p50Millis()).isEmpty();
        assertThat(version(all, "legacy", "v9").lifecycle()).isEmpty();
        assertThat(version(all, "legacy", "v9").requests()).isEqualTo(1);
    }

    @Test
    void oneApi_onlyThatApi() throws Exception {
        assertThat(report(Optional.of("orders"), 3))
                .extracting(VersionUsage::api)
                .containsOnly("orders");
    }

    @Test
    void anEmptyWindow_isRefused() {
        assertThatThrownBy(() -> new ApiUsageReport(PG.dataSource()).report(T0, T0, Optional.empty(), 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be after");
    }

    /** A revision of {@code group} as the controller stores one: its APIs are parts, named through a chunk. */
    private static void revision(java.sql.Statement s, String group, String reason, String... apis)
            throws java.sql.SQLException {
        List<String> digests = new ArrayList<>();
        for (String api : apis) {
            String literal = "'" + api + "'";
            String digest = "sha256(convert_to(" + literal + ", 'UTF8'))";
            s.execute("insert into config_revision_part (digest, content) values (" + digest + ", " + literal
                    + ") on conflict do nothing");
            digests.add(digest);
        }
        String parts = "array[" + String.join(", ", digests) + "]::bytea[]";
        s.execute("insert into config_revision_chunk (digest, parts) values (config_revision_chunk_digest(" + parts
                + "), " + parts + ") on conflict do nothing");
        s.execute("insert into config_revision (group_id, created_by, reason, content, upstream_chunks, route_chunks,"
                + " api_chunks) select id, 'ops', '" + reason + "', '{\"groups\": []}', '{}', '{}',"
                + " array[config_revision_chunk_digest(" + parts + ")] from gateway_group where name = '" + group
                + "'");
    }
}
