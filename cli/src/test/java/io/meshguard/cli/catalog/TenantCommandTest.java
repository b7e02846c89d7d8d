package io.meshguard.cli.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.AdminGate;
import io.meshguard.access.TrailAdminEvents;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.Tenant;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.cli.Main;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard tenant create|list}: the CLI verbs against the real catalogue routes, a real PostgreSQL and the
 * real admin trail; creating twice succeeds and leaves one tenant.
 */
@IntegrationTest
class TenantCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static StatusHttpServer http;
    static Path tokenFile;

    @BeforeAll
    static void start() throws Exception {
        tokenFile = tmp.resolve("admin.token");
        Files.writeString(tokenFile, "ops:" + "t".repeat(40) + "\n");
        var meters = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        AdminGate gate = AdminGate.local(new BearerTokens(Optional.of(tokenFile)), "xds.admin.token_file");
        http = new StatusHttpServer("cli-tenants", HttpServerSettings.onPort(0), meters);
        http.addHandler(
                CatalogApi.PREFIX,
                new CatalogApi(
                        new CatalogStore(PG.dataSource()),
                        gate,
                        new TrailAdminEvents(new AdminTrail(PG.dataSource())),
                        Clock.systemUTC(),
                        "example.com",
                        (publish, serve, change) -> {
                            throw new UnsupportedOperationException("no gateway in this test");
                        }));
        http.start();
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    private static String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            String[] all = java.util.stream.Stream.concat(
                            java.util.Arrays.stream(args),
                            java.util.stream.Stream.of(
                                    "--url", "http://127.0.0.1:" + http.port(), "--token-file", tokenFile.toString()))
                    .toArray(String[]::new);
            assertThat(Main.execute(all))
                    .as(out.toString(StandardCharsets.UTF_8))
                    .isZero();
        } finally {
            System.setOut(stdout);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void create_twice_leavesOneTenant_listsIt_andBothCallsAreInTheAdminTrail() throws Exception {
        assertThat(run("tenant", "create", "globex", "--display-name", "Globex"))
                .contains("\"created\" : true");
        assertThat(run("tenant", "create", "globex")).contains("\"created\" : false");
        assertThat(run("tenant", "list")).contains("\"id\" : \"globex\"").contains("\"display_name\" : \"Globex\"");
        assertThat(new CatalogStore(PG.dataSource()).tenants())
                .filteredOn(t -> t.id().equals("globex"))
                .containsExactly(new Tenant("globex", Optional.of("Globex")));
        try (var c = PG.dataSource().getConnection();
                var ps = c.prepareStatement(
                        "select count(*) from admin_trail where action = 'tenant:create' and target = 'tenant/globex'");
                var rs = ps.executeQuery()) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(2);
        }
    }
}
