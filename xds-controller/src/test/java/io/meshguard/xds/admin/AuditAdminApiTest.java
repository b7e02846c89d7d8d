package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.model.ConfigJson;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The audit log and the admin trail through the admin plane, over real HTTP against a real PostgreSQL with
 * row-level security: the auditor reads every event, a tenant's org-admin only its tenant's, every export is a row
 * of the admin trail before its first byte, and the trail verifies through the same gate.
 */
@IntegrationTest
class AuditAdminApiTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static TenantAdminPlane plane;
    static final HttpClient client = HttpClient.newHttpClient();
    static final Map<String, List<String>> GROUPS = Map.of(
            "auditor", List.of("auditors"),
            "acme-admin", List.of("acme-admins"),
            "globex-admin", List.of("globex-admins"),
            "ops", List.of("platform-admins"));
    static final String BINDINGS = """
            claims: [groups]
            roles:
              auditor:
                permissions: [audit:read, audit:export, audit:verify, coverage:read]
              org-admin:
                permissions: [audit:read, audit:export, coverage:read]
              system-admin:
                permissions: [group:read, group:update]
            bindings:
              - {match: platform-admins, role: system-admin, scope: system}
              - {match: auditors, role: auditor, scope: system}
              - {match: acme-admins, role: org-admin, scope: "tenant:acme"}
              - {match: globex-admins, role: org-admin, scope: "tenant:globex"}
            """;
    static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    @BeforeAll
    static void start() throws Exception {
        plane = TenantAdminPlane.start(PG.dataSource(), BINDINGS, GROUPS, (http, p) -> {});
        event("acme", "/orders/1");
        event("acme", "/orders/a;=HYPERLINK(\"http://evil\")");
        event("globex", "/invoices/4532015112830366");
        event(null, "/admin-plane");
    }

    static void event(String tenant, String path) throws Exception {
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "insert into audit_event (event_id, occurred_at, kind, tenant, path, status) values (?, ?, 'api_call', ?, ?, 200)")) {
            ps.setObject(1, UUID.randomUUID());
            ps.setTimestamp(2, Timestamp.from(NOW.minusSeconds(60)));
            ps.setString(3, tenant);
            ps.setString(4, path);
            ps.executeUpdate();
        }
    }

    @AfterAll
    static void stop() {
        plane.close();
    }

    static HttpResponse<String> put(String caller, String path, String body, String requestId) throws Exception {
        return AdminHttp.send(plane.uri(path), plane.token(caller), "PUT", body, "x-request-id", requestId);
    }

    @Test
    void draftChange_andItsTrailRow_commitTogether_orNeither() throws Exception {
        String group = """
                {"name": "%s", "environment": "prod", "region": "eu", "listener_port": %d}""";
        HttpResponse<String> ok = put("ops", "/groups/edge-a", group.formatted("edge-a", 8081), "draft-ok");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps =
                        c.prepareStatement("select action, target from admin_trail where request_id = 'draft-ok'");
                ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(2)).isEqualTo("groups/edge-a");
        }
        // the trail cannot take the row (its head is gone): the change is refused and nothing of it is written
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps =
                        c.prepareStatement("alter table admin_trail_head rename to admin_trail_head_away")) {
            ps.execute();
        }
        HttpResponse<String> refused;
        try {
            refused = put("ops", "/groups/edge-b", group.formatted("edge-b", 8082), "draft-no-trail");
        } finally {
            try (Connection c = PG.dataSource().getConnection();
                    PreparedStatement ps =
                            c.prepareStatement("alter table admin_trail_head_away rename to admin_trail_head")) {
                ps.execute();
            }
        }
        assertThat(refused.statusCode()).as(refused.body()).isNotEqualTo(200);
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("select count(*) from gateway_group where name = 'edge-b'");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertThat(rs.getLong(1)).as("no change without its trail row").isZero();
        }
    }

    static HttpResponse<String> get(String caller, String path) throws Exception {
        return AdminHttp.send(plane.uri(path), plane.token(caller), "GET", null);
    }

    static List<String> tenantsIn(String body) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode e : ConfigJson.mapper().readTree(body)) {
            out.add(e.path("tenant").isNull() ? "-" : e.path("tenant").asText());
        }
        return out;
    }

    @Test
    void coverage_toTheAuditor_isTheJoinAsJson_toATenantGrant_refused403() throws Exception {
        HttpResponse<String> report = get("auditor", "/audit/coverage?since=2h&samples=3");
        assertThat(report.statusCode()).as(report.body()).isEqualTo(200);
        JsonNode json = ConfigJson.mapper().readTree(report.body());
        assertThat(Instant.parse(json.path("until").asText()))
                .isAfter(Instant.parse(json.path("since").asText()));
        assertThat(json.path("services").isArray()).isTrue();
        assertThat(json.has("uncovered")).isTrue();

        // the join reads every tenant's rows: a tenant's grant of coverage:read admits nothing
        HttpResponse<String> tenant = get("acme-admin", "/audit/coverage");
        assertThat(tenant.statusCode()).as(tenant.body()).isEqualTo(403);
        // readable, but refused values: 422 on every admin API (an unreadable time would be 400)
        assertThat(get("auditor", "/audit/coverage?since=1h&until=2h").statusCode())
                .isEqualTo(422);
        assertThat(get("auditor", "/audit/coverage?samples=101").statusCode()).isEqualTo(422);
        assertThat(get("auditor", "/audit/coverage?since=yesterday-ish").statusCode())
                .isEqualTo(400);
    }

    @Test
    void auditor_readsEveryEvent_tenantAdmin_onlyItsTenants() throws Exception {
        HttpResponse<String> all = get("auditor", "/audit/events?since=1h");
        assertThat(all.statusCode()).as(all.body()).isEqualTo(200);
        assertThat(tenantsIn(all.body())).containsExactlyInAnyOrder("acme", "acme", "globex", "-");

        assertThat(tenantsIn(get("acme-admin", "/audit/events?since=1h").body()))
                .containsExactly("acme", "acme");
        assertThat(tenantsIn(get("globex-admin", "/audit/events?since=1h").body()))
                .containsExactly("globex");
        // asking for another tenant's rows finds none, as if there were none
        HttpResponse<String> other = get("acme-admin", "/audit/events?since=1h&tenant=globex");
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(tenantsIn(other.body())).isEmpty();
    }

    @Test
    void tenantScopedRead_isConfinedByPostgres_evenWithoutTheQueryFilter() throws Exception {
        // the row-level security of V39 alone: the scoped role with acme's setting sees acme's rows only
        List<String> seen = new io.meshguard.db.TenantScopedTransactions(PG.dataSource())
                .inScope(io.meshguard.db.TenantScope.of(java.util.Set.of("acme")), c -> {
                    List<String> out = new ArrayList<>();
                    try (PreparedStatement ps = c.prepareStatement("select coalesce(tenant, '-') from audit_event");
                            ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.add(rs.getString(1));
                        }
                    }
                    return out;
                });
        assertThat(seen).containsOnly("acme").isNotEmpty();
    }

    @Test
    void export_isTrailedBeforeItsFirstByte_andCsvIsMaskedAndNeutralised() throws Exception {
        String month =
                YearMonth.from(NOW.minusSeconds(60).atZone(ZoneOffset.UTC)).toString();
        long before = trailRows("audit-export");
        HttpResponse<String> csv = get("acme-admin", "/audit/export?month=" + month + "&format=csv");
        assertThat(csv.statusCode()).as(csv.body()).isEqualTo(200);
        assertThat(csv.body())
                .contains("\"/orders/a;'=HYPERLINK(\"\"http://evil\"\")\"")
                .doesNotContain("globex");
        HttpResponse<String> jsonl = get("auditor", "/audit/export?month=" + month);
        assertThat(jsonl.body().lines()).hasSize(4);
        assertThat(jsonl.body()).contains("/invoices/************0366").doesNotContain("4532015112830366");

        assertThat(trailRows("audit-export")).isEqualTo(before + 2);
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "select actor, tenant, target, details->>'format' from admin_trail where action = 'audit-export' "
                                + "order by seq desc limit 2");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertThat(rs.getString(1)).contains("auditor");
            assertThat(rs.getString(2)).isNull();
            assertThat(rs.getString(4)).isEqualTo("jsonl");
            rs.next();
            assertThat(rs.getString(1)).contains("acme-admin");
            assertThat(rs.getString(2)).isEqualTo("acme");
            assertThat(rs.getString(3)).isEqualTo("audit_event " + month);
            assertThat(rs.getString(4)).isEqualTo("csv");
        }
        HttpResponse<String> verify = get("auditor", "/audit/trail/verify");
        assertThat(verify.statusCode()).as(verify.body()).isEqualTo(200);
        assertThat(ConfigJson.mapper().readTree(verify.body()).path("intact").asBoolean())
                .isTrue();
    }

    @Test
    void trailVerify_isSystemScope_andNamesAnAlteredRow() throws Exception {
        assertThat(get("acme-admin", "/audit/trail/verify").statusCode()).isEqualTo(403);
        get("auditor", "/audit/export?month=2020-01");
        JsonNode ok = ConfigJson.mapper()
                .readTree(get("auditor", "/audit/trail/verify").body());
        assertThat(ok.path("intact").asBoolean()).isTrue();
        long seq = ok.path("head_seq").asLong();
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps =
                        c.prepareStatement("update admin_trail set actor = 'someone else' where seq = ?")) {
            ps.setLong(1, seq);
            ps.executeUpdate();
        }
        try {
            JsonNode bad = ConfigJson.mapper()
                    .readTree(get("auditor", "/audit/trail/verify").body());
            assertThat(bad.path("intact").asBoolean()).isFalse();
            assertThat(bad.path("first_bad").path("seq").asLong()).isEqualTo(seq);
            assertThat(bad.path("first_bad").path("problem").asText()).isEqualTo("altered");
        } finally {
            try (Connection c = PG.dataSource().getConnection();
                    PreparedStatement ps = c.prepareStatement(
                            "delete from admin_trail where seq >= 1; update admin_trail_head set seq = 0, row_hash = repeat('0', 64)")) {
                ps.execute();
            }
        }
    }

    @Test
    void anonymousOrUnknownCallers_areRefused() throws Exception {
        HttpResponse<String> anonymous = client.send(
                HttpRequest.newBuilder(plane.uri("/audit/events?since=1h"))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(get("acme-admin", "/audit/nothing").statusCode()).isEqualTo(404);
        assertThat(get("acme-admin", "/audit/events").statusCode())
                .as("since is required")
                .isEqualTo(422);
    }

    static long trailRows(String action) throws Exception {
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("select count(*) from admin_trail where action = ?")) {
            ps.setString(1, action);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
