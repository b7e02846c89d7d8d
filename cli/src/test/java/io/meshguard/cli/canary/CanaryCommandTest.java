package io.meshguard.cli.canary;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.meshguard.cli.CliRun;
import io.meshguard.testing.IntegrationTest;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard canary --once} over real HTTP on loopback: the exit code a CronJob or CI gates on, the table, and
 * what reaches the route (the marker header). A route that refuses as the Check does passes; one that answers is a
 * canary that got through; a closed port is unreachable.
 */
@IntegrationTest
class CanaryCommandTest {
    @TempDir
    Path dir;

    private HttpServer server;
    private final List<String> markers = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        // as the Check answers a token it cannot verify
        server.createContext("/protected", exchange -> {
            markers.add(String.valueOf(exchange.getRequestHeaders().getFirst(CanaryProbe.HEADER)));
            reply(exchange, 401, "{\"status\":401,\"reason\":\"unknown_key\"}");
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
    }

    @Test
    void once_protectedRoute_exits0_andTheRouteSawTheCanaryMarker() throws Exception {
        CliRun run = CliRun.of(
                "canary",
                "--once",
                "--config",
                config(route("accounts", "/protected")).toString());

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("passed", "expired_token", "accounts");
        assertThat(markers).containsExactly("expired_token");
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

    private String route(String name, String path) {
        return "  - {name: " + name + ", url: 'http://127.0.0.1:"
                + server.getAddress().getPort() + path + "', kinds: [expired_token], headers: {x-tenant-id: canary}}\n";
    }

    private Path config(String routes) throws Exception {
        Path routesFile = Files.writeString(dir.resolve("routes.yaml"), "routes:\n" + routes);
        return Files.writeString(
                dir.resolve("canary.yaml"), "canary:\n  routes_file: " + routesFile + "\n  timeout: 5s\n");
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
