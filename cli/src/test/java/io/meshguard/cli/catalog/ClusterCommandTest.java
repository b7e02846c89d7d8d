package io.meshguard.cli.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.access.AdminGate;
import io.meshguard.access.TrailAdminEvents;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.cli.Main;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.store.PgRevisionStore;
import io.meshguard.xds.zone.ZoneCentral;
import io.meshguard.xds.zone.ZoneHubSettings;
import io.meshguard.xds.zone.ZoneRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code meshguard cluster register}: the CLI verb against the real admin routes and a real PostgreSQL. */
@IntegrationTest
class ClusterCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static StatusHttpServer http;
    static ZoneCentral zones;
    static Path tokenFile;

    @BeforeAll
    static void start() throws Exception {
        tokenFile = tmp.resolve("admin.token");
        Files.writeString(tokenFile, "ops:" + "t".repeat(40) + "\n");
        var meters = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        AdminGate gate = AdminGate.local(new BearerTokens(Optional.of(tokenFile)), "xds.admin.token_file");
        TrailAdminEvents events = new TrailAdminEvents(new AdminTrail(PG.dataSource()));
        zones = new ZoneCentral(
                PG.dataSource(),
                new PgRevisionStore(PG.dataSource()),
                meters,
                new InetSocketAddress("127.0.0.1", 0),
                ZoneHubSettings.DEFAULTS,
                Duration.ofHours(1));
        http = new StatusHttpServer("cli-zones", HttpServerSettings.onPort(0), meters);
        http.addHandler(
                CatalogApi.PREFIX,
                new CatalogApi(
                        new CatalogStore(PG.dataSource()),
                        gate,
                        events,
                        Clock.systemUTC(),
                        "example.com",
                        (publish, serve, change) -> {
                            throw new UnsupportedOperationException("no gateway in this test");
                        }));
        zones.mountAdminApi(http, gate, events);
        zones.start();
        http.start();
    }

    @AfterAll
    static void stop() {
        http.close();
        zones.close();
    }

    @Test
    void register_declaresTheCluster_andPrintsATokenTheRegistryAcceptsOnce() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        int code;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            code = Main.execute(
                    "cluster",
                    "register",
                    "--name",
                    "kr-seoul-prod",
                    "--region",
                    "kr-seoul",
                    "--provider",
                    "aws",
                    "--group",
                    "seoul-gw",
                    "--ttl-hours",
                    "2",
                    "--url",
                    "http://127.0.0.1:" + http.port(),
                    "--token-file",
                    tokenFile.toString());
        } finally {
            System.setOut(stdout);
        }

        assertThat(code).as(out.toString(StandardCharsets.UTF_8)).isZero();
        String printed = out.toString(StandardCharsets.UTF_8);
        String json = printed.substring(printed.lastIndexOf("{\n"), printed.lastIndexOf('}') + 1);
        JsonNode answer = new ObjectMapper().readTree(json);
        String token = answer.path("token").asText();
        ZoneRegistry registry = new ZoneRegistry(PG.dataSource(), Clock.systemUTC(), Duration.ofHours(1));
        assertThat(registry.groups("kr-seoul-prod").serving()).containsExactly("seoul-gw");
        var exchanged = registry.exchange("kr-seoul-prod", token);
        assertThat(exchanged).isInstanceOf(ZoneRegistry.Admitted.class);
        // the token is spent when the zone presents the credential it bought
        assertThat(registry.settle(
                                "kr-seoul-prod",
                                "",
                                ((ZoneRegistry.Admitted) exchanged).credential().secret())
                        .refused())
                .isEmpty();
        assertThat(registry.exchange("kr-seoul-prod", token))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.USED));
        assertThat(new CatalogStore(PG.dataSource()).clusters(io.meshguard.db.TenantScope.ALL))
                .anySatisfy(c -> assertThat(c.provider()).contains("aws"));
    }
}
