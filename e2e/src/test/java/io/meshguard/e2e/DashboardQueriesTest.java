package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.demo.DemoGateway;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.testing.PostgresExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class DashboardQueriesTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static E2eStack stack;
    static DemoGateway.Upstreams upstreams;
    static Gateway gateway;
    static String scrape;

    @BeforeAll
    static void startStackAndSendTraffic() throws Exception {
        stack = E2eStack.start(PG, Files.createTempDirectory("meshguard-dash"));
        upstreams = DemoGateway.Upstreams.start();
        gateway = stack.publish(DemoGateway.yaml("local", upstreams), "local", DemoGateway.LISTENER_PORT);
        int status = stack.startStatusListener();
        String token = stack.token("alice", "t-dash", List.of("demo"));
        Exchange ok = gateway.send(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts/7")
                .with("authorization", "Bearer " + token).with("x-tenant-id", "t-dash"));
        assertThat(ok.status()).isEqualTo(200);
        Exchange sse = gateway.send(DownstreamRequest.withBody("POST", DemoGateway.HOST, "/demo/chat/completions",
                "{\"stream\":true}", "content-type", "application/json")
                .with("authorization", "Bearer " + token).with("x-tenant-id", "t-dash"));
        assertThat(sse.status()).isEqualTo(200);
        Exchange denied = gateway.send(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts", "x-tenant-id", "t-d"));
        assertThat(denied.status()).isEqualTo(401);
        Thread.sleep(3000);
        HttpClient http = HttpClient.newHttpClient();
        scrape = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + status + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Files.writeString(Path.of("target/dash-scrape.txt"), scrape);
    }

    @AfterAll
    static void stop() throws Exception {
        if (upstreams != null) {
            upstreams.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void dump() {
        assertThat(scrape).contains("meshguard_");
    }
}
