package io.meshguard.cli.canary;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.meshguard.cli.CliRun;
import io.meshguard.cli.xds.LocalAdminApi;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.OpensslCa;
import io.meshguard.testing.PostgresExtension;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard canary --once} over real HTTP on loopback, confirming through a real admin API over a real
 * PostgreSQL: the exit code a CronJob or CI gates on, the table, and what reaches the route. An application that
 * answers exactly as the Check does, or with its own RFC 6750 {@code invalid_token}, wrote no Check row: its canary
 * got through. One that answers is a canary that got through; a closed port is unreachable. (The pass over the real
 * path, with the Check's and the DLP's own rows, is the e2e CanaryJourneyTest.)
 */
@IntegrationTest
class CanaryCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final String AUDITOR_TOKEN = "c".repeat(32);

    @TempDir
    Path dir;

    private HttpServer server;
    private LocalAdminApi admin;
    private final List<String> markers = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        Path tokens = Files.writeString(dir.resolve("tokens"), "auditor:" + AUDITOR_TOKEN + "\n");
        admin = LocalAdminApi.start("canary-audit", PG.dataSource(), tokens);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        // an application imitating the Check's answer to a token it cannot verify, also to a canary it recognises
        server.createContext("/protected", exchange -> {
            markers.add(String.valueOf(exchange.getRequestHeaders().getFirst(CanaryProbe.HEADER)));
            reply(exchange, 401, "{\"status\":401,\"reason\":\"unknown_key\"}");
        });
        // an application answering RFC 6750's error by itself
        server.createContext("/rfc6750", exchange -> {
            exchange.getResponseHeaders().add("www-authenticate", "Bearer error=\"invalid_token\"");
            reply(exchange, 401, "{\"error\":\"invalid_token\"}");
        });
        // a route left unprotected: the upstream answers whatever it is sent
        server.createContext("/open", exchange -> {
            markers.add(String.valueOf(exchange.getRequestHeaders().getFirst(CanaryProbe.HEADER)));
            reply(exchange, 200, "{\"accounts\":[]}");
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        admin.close();
    }

    @Test
    void once_appImitatingTheChecksRefusal_withoutItsCheckRow_exits3() throws Exception {
        CliRun run = CliRun.of(
                "canary",
                "--once",
                "--config",
                config(route("accounts", "/protected")).toString());

        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(CanaryCommand.EXIT_GOT_THROUGH);
        assertThat(run.out())
                .containsPattern("got_through +expired_token +accounts +HTTP 401")
                .contains("meshguard did not decide it", "no Check denying its token for 127.0.0.1");
        assertThat(markers).containsExactly("expired_token");
    }

    @Test
    void once_appsOwnRfc6750InvalidToken_exits3() throws Exception {
        CliRun run = CliRun.of(
                "canary",
                "--once",
                "--config",
                config(route("ledger", "/rfc6750")).toString());

        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(CanaryCommand.EXIT_GOT_THROUGH);
        assertThat(run.out()).containsPattern("got_through +expired_token +ledger +HTTP 401");
    }

    @Test
    void withoutAnAuditLogToConfirmIn_isRefusedAtStart() throws Exception {
        Path routesFile = Files.writeString(dir.resolve("routes.yaml"), "routes:\n" + route("a", "/protected"));
        Path cfg = Files.writeString(dir.resolve("bare.yaml"), "canary:\n  routes_file: " + routesFile + "\n");
        CliRun run = CliRun.of("canary", "--once", "--config", cfg.toString());

        assertThat(run.exit()).isNotZero();
        assertThat(run.err()).contains("canary.audit_url: required");
    }

    @Test
    void withoutAnAuditReader_isRefusedAtStart_sayingWhatToSet() throws Exception {
        Path routesFile = Files.writeString(dir.resolve("routes.yaml"), "routes:\n" + route("a", "/protected"));
        Path cfg = Files.writeString(
                dir.resolve("no-reader.yaml"),
                "canary:\n  routes_file: " + routesFile + "\n  audit_url: http://127.0.0.1:" + admin.port() + "\n");
        CliRun run = CliRun.of("canary", "--once", "--config", cfg.toString());

        assertThat(run.exit()).isNotZero();
        assertThat(run.err())
                .contains("canary.audit_client_id and canary.audit_client_secret_file (with canary.token_endpoint)")
                .contains("canary.audit_token_file");
    }

    @Test
    void once_unprotectedRoute_exits3_namingTheRoute() throws Exception {
        CliRun run = CliRun.of(
                "canary",
                "--once",
                "--config",
                config(route("accounts", "/protected") + route("ledger", "/open"))
                        .toString());

        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(CanaryCommand.EXIT_GOT_THROUGH);
        assertThat(run.out()).containsPattern("got_through +expired_token +ledger +HTTP 200");
    }

    @Test
    void once_closedPort_exits4() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        String routes = "  - {name: gone, url: 'http://127.0.0.1:" + closed + "/x', kinds: [expired_token]}\n";
        CliRun run = CliRun.of("canary", "--once", "--config", config(routes).toString());

        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(CanaryCommand.EXIT_UNREACHABLE);
        assertThat(run.out()).contains("unreachable", "gone");
    }

    @Test
    void once_httpsRouteOfTheBanksOwnCa_reachedWithTlsCaFile_unreachableWithout() throws Exception {
        OpensslCa ca = OpensslCa.in(dir.resolve("ca"), "/CN=Bank CA");
        HttpsServer gateway = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        gateway.setHttpsConfigurator(new HttpsConfigurator(ca.serverContext("localhost", "gateway")));
        gateway.createContext("/protected", exchange -> reply(exchange, 401, "{\"status\":401}"));
        gateway.start();
        try {
            String routes = "  - {name: edge, url: 'https://localhost:"
                    + gateway.getAddress().getPort() + "/protected', kinds: [expired_token]}\n";
            CliRun without =
                    CliRun.of("canary", "--once", "--config", config(routes).toString());
            CliRun with = CliRun.of(
                    "canary",
                    "--once",
                    "--config",
                    config(routes, "  tls_ca_file: " + ca.certificate() + "\n").toString());

            // the JDK does not know the bank's CA: no answer at all, so nothing is proven either way
            assertThat(without.exit()).as(without.out() + without.err()).isEqualTo(CanaryCommand.EXIT_UNREACHABLE);
            assertThat(without.out()).containsPattern("unreachable +expired_token +edge");
            // with it the route answers; the app's own 401 wrote no Check row, so the canary got through
            assertThat(with.exit()).as(with.out() + with.err()).isEqualTo(CanaryCommand.EXIT_GOT_THROUGH);
            assertThat(with.out()).containsPattern("got_through +expired_token +edge +HTTP 401");
        } finally {
            gateway.stop(0);
        }
    }

    private String route(String name, String path) {
        return "  - {name: " + name + ", url: 'http://127.0.0.1:"
                + server.getAddress().getPort() + path + "', kinds: [expired_token], headers: {x-tenant-id: canary}}\n";
    }

    private Path config(String routes) throws Exception {
        return config(routes, "");
    }

    private Path config(String routes, String more) throws Exception {
        Path routesFile = Files.writeString(dir.resolve("routes.yaml"), "routes:\n" + routes);
        Path token = Files.writeString(dir.resolve("audit-token"), AUDITOR_TOKEN + "\n");
        return Files.writeString(
                dir.resolve("canary.yaml"),
                "canary:\n  routes_file: " + routesFile + "\n  timeout: 5s\n  audit_url: http://127.0.0.1:"
                        + admin.port() + "\n  audit_token_file: " + token + "\n  evidence_wait: 2s\n" + more);
    }

    private static void reply(com.sun.net.httpserver.HttpExchange exchange, int status, String body)
            throws java.io.IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("content-type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }
}
