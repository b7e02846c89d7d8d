package io.meshguard.cli.coverage;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.cli.CliRun;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code meshguard coverage} on a real PostgreSQL: the table, the JSON and the exit code a CI job gates on. */
@IntegrationTest
class CoverageCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    @BeforeAll
    static void data() throws Exception {
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(List.of(
                    logged("req-ok", "reviews.shop.svc.cluster.local:9080", 600),
                    check("REQ-OK", "reviews.shop.svc.cluster.local", 600),
                    logged("req-bypass", "10.1.2.3:9080", 300),
                    logged(null, "ledger.bank.svc.cluster.local", 200),
                    check("req-ledger", "ledger.bank.svc.cluster.local", 100),
                    logged("req-ledger", "ledger.bank.svc.cluster.local", 100),
                    // a canary's test card, Checked, and a real order beside it
                    canary("req-canary", "orders.shop.svc.cluster.local", 90),
                    check("req-canary", "orders.shop.svc.cluster.local", 90),
                    logged("req-order", "orders.shop.svc.cluster.local", 80),
                    check("req-order", "orders.shop.svc.cluster.local", 80)));
        }
    }

    // an access-log row as the ALS receiver writes it for a sidecar's inbound request
    private static AuditEvent logged(String requestId, String authority, int secondsAgo) {
        return row(requestId, authority, secondsAgo).build();
    }

    // the same for a request of `meshguard canary`, marked by its x-meshguard-canary header
    private static AuditEvent canary(String requestId, String authority, int secondsAgo) {
        return row(requestId, authority, secondsAgo)
                .detail("canary", "test_card")
                .build();
    }

    private static AuditEvent.Builder row(String requestId, String authority, int secondsAgo) {
        return AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(NOW.minusSeconds(secondsAgo))
                .requestId(requestId)
                .method("GET")
                .authority(authority)
                .path("/items")
                .status(200)
                .detail("upstream_cluster", "inbound|9080||")
                .detail("node", "sidecar~10.1.2.3~pod.shop~shop.svc.cluster.local");
    }

    // an allowing Check of the request: the proof joins on its id and authority (the host, whatever the port)
    private static AuditEvent check(String requestId, String authority, int secondsAgo) {
        return AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(NOW.minusSeconds(secondsAgo))
                .requestId(requestId)
                .authority(authority)
                .decision("allow")
                .status(200)
                .detail("policy", Map.of())
                .build();
    }

    private static String dbUrl() {
        String sep = PG.jdbcUrl().contains("?") ? "&" : "?";
        return PG.jdbcUrl() + sep + "user=" + PG.user() + "&password=" + PG.password();
    }

    @Test
    void coverage_withABypassedRequest_listsItsId_andExitsNonZero() {
        CliRun r = CliRun.of("coverage", "--db", dbUrl(), "--since", "1h");
        assertThat(r.exit()).as(r.err()).isEqualTo(CoverageCommand.UNCOVERED);
        assertThat(r.out())
                .contains("10.1.2.3")
                .contains("req-bypass (no check)")
                .contains("UNCOVERED 1 protected request(s)")
                .contains("UNVERIFIABLE 1 protected request(s)");
        String reviews = r.out()
                .lines()
                .filter(l -> l.startsWith("reviews.shop.svc.cluster.local"))
                .findFirst()
                .orElseThrow();
        assertThat(reviews.split("\\s+")).startsWith("reviews.shop.svc.cluster.local", "1", "1", "1", "-", "0", "0");
    }

    @Test
    void coverage_ofACoveredService_exitsZero() {
        CliRun r =
                CliRun.of("coverage", "--db", dbUrl(), "--since", "1h", "--service", "reviews.shop.svc.cluster.local");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("every protected request had its Check and DLP profile");
    }

    @Test
    void coverage_statesCanaryRequestsApart_withoutCountingThemOut() throws Exception {
        CliRun table =
                CliRun.of("coverage", "--db", dbUrl(), "--since", "1h", "--service", "orders.shop.svc.cluster.local");
        assertThat(table.exit()).as(table.err()).isZero();
        assertThat(table.out())
                .contains("CANARY 1 of the requests seen were `meshguard canary`'s")
                .contains("orders.shop.svc.cluster.local 1");
        CliRun json = CliRun.of(
                "coverage",
                "--db",
                dbUrl(),
                "--since",
                "1h",
                "--service",
                "orders.shop.svc.cluster.local",
                "--format",
                "json");
        JsonNode orders =
                new ObjectMapper().readTree(json.out()).get("services").get(0);
        assertThat(orders.get("seen").asLong()).isEqualTo(2);
        assertThat(orders.get("checked").asLong()).isEqualTo(2);
        assertThat(orders.get("canary").asLong()).isEqualTo(1);
    }

    @Test
    void coverage_withOnlyIdlessRequestsUncheckedAnywhere_exitsUnverifiable_asJson() throws Exception {
        CliRun r = CliRun.of(
                "coverage",
                "--db",
                dbUrl(),
                "--since",
                "1h",
                "--service",
                "ledger.bank.svc.cluster.local",
                "--format",
                "json");
        assertThat(r.exit()).as(r.err()).isEqualTo(CoverageCommand.UNVERIFIABLE);
        JsonNode json = new ObjectMapper().readTree(r.out());
        JsonNode ledger = json.get("services").get(0);
        assertThat(ledger.get("service").asText()).isEqualTo("ledger.bank.svc.cluster.local");
        assertThat(ledger.get("checked").asLong()).isEqualTo(1);
        assertThat(ledger.get("unverifiable").asLong()).isEqualTo(1);
        assertThat(json.get("uncovered").asLong()).isZero();
    }
}
