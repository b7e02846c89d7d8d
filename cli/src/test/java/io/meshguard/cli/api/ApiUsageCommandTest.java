package io.meshguard.cli.api;

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
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@IntegrationTest
class ApiUsageCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    /** 10 days and 12 hours away: 10 whole days left, whenever the test runs. */
    private static final Instant SUNSET = NOW.plus(Duration.ofDays(10)).plus(Duration.ofHours(12));

    @BeforeAll
    static void data() throws Exception {
        try (var c = PG.dataSource().getConnection();
                var s = c.createStatement()) {
            // what the gateways serve: the group's published revision (api usage does not read the draft)
            s.execute("insert into gateway_group (name, environment) values ('edge', 'prod')");
            // as the controller stores it: the API a part, named through a chunk
            String api = "'{\"name\": \"payments\", \"versions\": ["
                    + "{\"version\": \"v2\", \"status\": \"active\"},"
                    + "{\"version\": \"v1\", \"status\": \"deprecated\", \"deprecated_at\": \"2026-01-01T00:00:00Z\","
                    + " \"sunset_at\": \"" + SUNSET + "\", \"successor\": \"v2\"}]}'";
            String parts = "array[sha256(convert_to(" + api + ", 'UTF8'))]::bytea[]";
            s.execute("insert into config_revision_part (digest, content) values (sha256(convert_to(" + api
                    + ", 'UTF8')), " + api + ")");
            s.execute("insert into config_revision_chunk (digest, parts) values (config_revision_chunk_digest(" + parts
                    + "), " + parts + ")");
            s.execute("insert into config_revision (group_id, created_by, content, upstream_chunks, route_chunks,"
                    + " api_chunks) select id, 'ops', '{\"groups\": []}', '{}', '{}', array[config_revision_chunk_digest("
                    + parts + ")] from gateway_group");
        }
        List<AuditEvent> rows = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            rows.add(row("v1", i, i == 3 ? 500 : 200, "acme", "app-1"));
        }
        rows.add(row("v1", 10, 200, "globex", "batch-7"));
        rows.add(row("v2", 11, 200, "acme", "app-2"));
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(rows);
        }
    }

    private static AuditEvent row(String version, int i, int status, String tenant, String client) {
        return AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(NOW.minusSeconds(600 - i))
                .requestId("r" + version + i)
                .route("transfers")
                .status(status)
                .latencyUs(10_000 + i * 1000L)
                .tenant(tenant)
                .clientId(client)
                .detail("api", "payments")
                .detail("api_version", version)
                .build();
    }

    private static String dbUrl() {
        String sep = PG.jdbcUrl().contains("?") ? "&" : "?";
        return PG.jdbcUrl() + sep + "user=" + PG.user() + "&password=" + PG.password();
    }

    @Test
    void usage_table_showsEachVersion_andNamesTheDeprecatedOneNearItsSunsetWithItsCallers() {
        CliRun r = CliRun.of("api", "usage", "--db", dbUrl(), "--api", "payments", "--since", "1d");
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("API ").contains("LIFECYCLE", "DAYS_LEFT"));
        assertThat(lines).anySatisfy(l -> assertThat(l)
                .startsWith("payments")
                .contains(
                        " v1 ",
                        "deprecated",
                        " 5 ",
                        "20.0%",
                        SUNSET.toString().substring(0, 10),
                        " 10 ",
                        "acme/app-1: 4, globex/batch-7: 1"));
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("payments").contains(" v2 ", "active", " 1 "));
        assertThat(lines).anySatisfy(l -> assertThat(l)
                .startsWith("WARNING payments v1 is deprecated")
                .contains("10 days", "successor v2", "acme/app-1: 4"));
        assertThat(r.out()).doesNotContain("WARNING payments v2");
    }

    @Test
    void usage_json_forTools() throws Exception {
        CliRun r = CliRun.of("api", "usage", "--db", dbUrl(), "--since", "1d", "--format", "json", "--top", "1");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode rows = new ObjectMapper().readTree(r.out());
        JsonNode v1 = null;
        for (JsonNode row : rows) {
            if (row.get("api_version").asText().equals("v1")) {
                v1 = row;
            }
        }
        assertThat(v1).isNotNull();
        assertThat(v1.get("requests").asLong()).isEqualTo(5);
        assertThat(v1.get("errors_5xx").asLong()).isEqualTo(1);
        assertThat(v1.get("days_left").asLong()).isEqualTo(10);
        assertThat(v1.get("near_sunset").asBoolean()).isTrue();
        assertThat(v1.get("top_callers")).hasSize(1);
        assertThat(v1.get("top_callers").get(0).get("tenant").asText()).isEqualTo("acme");
    }

    @Test
    void aWarningThresholdBelowTheDaysLeft_namesNothing() {
        CliRun r = CliRun.of("api", "usage", "--db", dbUrl(), "--since", "1d", "--warn-days", "5");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).doesNotContain("WARNING");
    }

    @Test
    void unreachableDatabase_failsWithOneClearLine() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        CliRun r = CliRun.of(
                "api", "usage", "--db", "jdbc:postgresql://127.0.0.1:" + port + "/meshguard?user=x&password=secret");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err())
                .contains("cannot connect to the database at")
                .contains("127.0.0.1:" + port)
                .doesNotContain("secret")
                .doesNotContain("\tat ");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void badArguments_areRefusedClearly() {
        CliRun r = CliRun.of("api", "usage", "--db", dbUrl(), "--top", "-1");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("--top must be between 0 and 100");
    }
}
