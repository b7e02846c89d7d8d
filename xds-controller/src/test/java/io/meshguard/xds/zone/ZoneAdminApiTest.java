package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.RoleBindings;
import io.meshguard.access.TrailAdminEvents;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.server.LoopbackCores;
import io.meshguard.xds.store.PgGatewayStore;
import io.meshguard.xds.store.PgRevisionStore;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's zone routes over real HTTP through the admin gate (OIDC tokens, role bindings), with the admin trail
 * in a real PostgreSQL, and a real zone registered through them.
 */
@IntegrationTest
class ZoneAdminApiTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String BINDINGS = """
            claims: [groups]
            roles:
              operator:
                permissions: [cluster:register, cluster:revoke, cluster:update, fleet:read]
              gateway-owner:
                permissions: [fleet:read]
            bindings:
              - {match: platform-admins, role: operator, scope: system}
              - {match: edge-owners, role: gateway-owner, scope: system}
            """;
    static final Map<String, List<String>> GROUPS =
            Map.of("ops", List.of("platform-admins"), "owner", List.of("edge-owners"));
    static TestIssuer issuer;
    static XdsCore central;
    static ZoneCentral zones;
    static StatusHttpServer http;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer();
        var meters = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        PgRevisionStore revisions = new PgRevisionStore(PG.dataSource());
        central = LoopbackCores.over(revisions, meters);
        zones = new ZoneCentral(
                PG.dataSource(),
                revisions,
                meters,
                new InetSocketAddress("127.0.0.1", 0),
                new ZoneHubSettings(Duration.ofMillis(300), Duration.ofMillis(100)),
                Duration.ofHours(1));
        http = new StatusHttpServer("zones", HttpServerSettings.onPort(0), meters);
        zones.mountAdminApi(
                http,
                AdminGate.people(
                        new AdminTokenVerifier(new AdminTokenVerifier.Settings(
                                issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30))),
                        RoleBindings.parse("bindings", BINDINGS),
                        new TrailAdminEvents(new AdminTrail(PG.dataSource())),
                        "xds.admin.token_file"),
                new TrailAdminEvents(new AdminTrail(PG.dataSource())));
        zones.start();
        http.start();
        new CatalogStore(PG.dataSource())
                .putCluster(new Cluster("kr-seoul-prod", "kr-seoul", Optional.of("aws"), Set.of("gateway-api")));
        var config = ZoneLoopbackTest.config("seoul-gw", "tokyo-gw", false);
        new PgGatewayStore(PG.dataSource()).replace(config);
        central.publisher().publish(config, "test", "first");
    }

    @AfterAll
    static void stop() throws Exception {
        http.close();
        zones.close();
        central.close();
        issuer.close();
    }

    static HttpResponse<String> call(String caller, String method, String path, String body) throws Exception {
        return AdminHttp.send(
                http.port(), issuer.accessToken(caller, "meshguard-admin", GROUPS.get(caller)), method, path, body);
    }

    @Test
    void register_withoutThePermission_isForbidden() throws Exception {
        HttpResponse<String> r = call("owner", "POST", "/v1/operator/zones/kr-seoul-prod/registrations", "{}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    }

    @Test
    void register_tooLongATtl_isRefused_andAnUnknownCluster_isNotFound() throws Exception {
        assertThat(call("ops", "POST", "/v1/operator/zones/kr-seoul-prod/registrations", "{\"ttl_hours\": 25}")
                        .statusCode())
                .isEqualTo(422);
        assertThat(call("ops", "POST", "/v1/operator/zones/nowhere/registrations", "{}")
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    void registeredZone_showsInTheFleet_asClusterGroupNode_thenRevocationCutsItOff() throws Exception {
        assertThat(call("ops", "PUT", "/v1/operator/zones/kr-seoul-prod/groups/seoul-gw", "")
                        .statusCode())
                .isEqualTo(200);
        HttpResponse<String> registered =
                call("ops", "POST", "/v1/operator/zones/kr-seoul-prod/registrations", "{\"ttl_hours\": 1}");
        assertThat(registered.statusCode()).as(registered.body()).isEqualTo(201);
        String token =
                ConfigJson.mapper().readTree(registered.body()).path("token").asText();
        assertThat(token).startsWith(ZoneRegistry.TOKEN_PREFIX);
        // the trail keeps the token's digest, never the token
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "select after_digest, outcome from admin_trail where target = 'cluster/kr-seoul-prod'"
                                + " and action like 'POST %registrations'");
                ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(ZoneSecrets.sha256(token));
            assertThat(rs.getString(2)).doesNotContain(token);
        }

        try (ZoneController zone = ZoneTestbed.started(ZoneSettings.loopback(
                        "kr-seoul-prod",
                        "127.0.0.1:" + zones.port(),
                        Optional.of(token),
                        tmp.resolve("zone"),
                        Duration.ofMillis(300)));
                AdsNode node = new AdsNode(zone.adsPort(), "envoy-1", "seoul-gw")) {
            await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                JsonNode fleet = ConfigJson.mapper()
                        .readTree(call("owner", "GET", "/v1/operator/fleet", "").body());
                JsonNode cluster = fleet.path("clusters").get(0);
                assertThat(cluster.path("id").asText()).isEqualTo("kr-seoul-prod");
                assertThat(cluster.path("provider").asText()).isEqualTo("aws");
                assertThat(cluster.path("zone").path("connected").asBoolean()).isTrue();
                JsonNode group = cluster.path("groups").get(0);
                assertThat(group.path("name").asText()).isEqualTo("seoul-gw");
                assertThat(group.path("applied_revision").asLong())
                        .isEqualTo(group.path("published_revision").asLong())
                        .isPositive();
                JsonNode n = group.path("nodes").get(0);
                assertThat(n.path("id").asText()).isEqualTo("envoy-1");
                assertThat(n.path("drift").asBoolean()).isFalse();
                assertThat(n.path("staleness").asText()).isEqualTo("live");
                assertThat(n.path("revision").asLong())
                        .isEqualTo(group.path("published_revision").asLong());
                assertThat(fleet.path("summary").path("zones_connected").asInt())
                        .isEqualTo(1);
            });

            assertThat(call("ops", "POST", "/v1/operator/zones/kr-seoul-prod/revoke", "")
                            .statusCode())
                    .isEqualTo(200);

            await().ignoreExceptions()
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> zone.link().refused().isPresent());
            JsonNode after = ConfigJson.mapper()
                    .readTree(call("owner", "GET", "/v1/operator/fleet", "").body());
            assertThat(after.path("clusters")
                            .get(0)
                            .path("zone")
                            .path("revoked")
                            .asBoolean())
                    .isTrue();
            assertThat(after.path("clusters")
                            .get(0)
                            .path("zone")
                            .path("connected")
                            .asBoolean())
                    .isFalse();
        }
    }
}
