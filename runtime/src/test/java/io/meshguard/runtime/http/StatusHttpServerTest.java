package io.meshguard.runtime.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("integration")
class StatusHttpServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient client = HttpClient.newHttpClient();
    private ProcessMetrics metrics;
    private StatusHttpServer server;

    @BeforeEach
    void setUp() {
        metrics = ProcessMetrics.create();
        server = new StatusHttpServer("test-http", new HttpServerSettings("127.0.0.1", 0), metrics.registry());
    }

    @AfterEach
    void tearDown() {
        server.close();
        metrics.close();
        client.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return send(HttpRequest.newBuilder(uri(path)).GET().build());
    }

    private HttpResponse<String> send(HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    @Test
    void readyz_secondCheckOfTheSameName_isRefused() {
        server.addReadinessCheck(ReadinessCheck.of("policy:authz", () -> ReadinessCheck.Result.ready("v1")));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.addReadinessChecks(
                        java.util.List.of(ReadinessCheck.of("policy:authz", () -> ReadinessCheck.Result.ready("v2")))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("policy:authz");
    }

    /** Nagle against delayed ACKs cost a console page ~40 ms of client time; the JDK server sets it from this. */
    @Test
    void statusServer_turnsOnTcpNoDelay_forTheJdkServer() {
        assertThat(server).isNotNull();
        assertThat(System.getProperty(StatusHttpServer.NODELAY)).isEqualTo("true");
    }

    @Test
    void healthz_isAlive() throws Exception {
        server.start();

        HttpResponse<String> response = get("/healthz");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"status\":\"alive\"}");
        assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
    }

    @Test
    void readyz_notReadyCheck_gives503WithReasonThen200() throws Exception {
        AtomicReference<ReadinessCheck.Result> policy =
                new AtomicReference<>(ReadinessCheck.Result.notReady("authz.yaml:3: unknown key 'rulez'"));
        server.addReadinessCheck(ReadinessCheck.of("policy", policy::get));
        server.addReadinessCheck(ReadinessCheck.of("grpc", () -> ReadinessCheck.Result.ready("serving")));
        server.start();

        HttpResponse<String> notReady = get("/readyz");

        assertThat(notReady.statusCode()).isEqualTo(503);
        JsonNode body = JSON.readTree(notReady.body());
        assertThat(body.get("ready").asBoolean()).isFalse();
        assertThat(body.get("checks")).hasSize(2);
        assertThat(body.get("checks").get(0).get("name").asText()).isEqualTo("policy");
        assertThat(body.get("checks").get(0).get("ready").asBoolean()).isFalse();
        assertThat(body.get("checks").get(0).get("detail").asText()).isEqualTo("authz.yaml:3: unknown key 'rulez'");
        assertThat(body.get("checks").get(1).get("ready").asBoolean()).isTrue();

        policy.set(ReadinessCheck.Result.ready("version 3f2a"));
        HttpResponse<String> ready = get("/readyz");

        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(ready.body()).get("ready").asBoolean()).isTrue();
    }

    @Test
    void readyz_checkThatThrows_isNotReady() throws Exception {
        server.addReadinessCheck(ReadinessCheck.of("jwks", () -> {
            throw new IllegalStateException("no keys yet");
        }));
        server.start();

        HttpResponse<String> response = get("/readyz");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(JSON.readTree(response.body())
                        .get("checks")
                        .get(0)
                        .get("detail")
                        .asText())
                .contains("no keys yet");
    }

    @Test
    void readyz_noChecks_isReady() throws Exception {
        server.start();

        assertThat(get("/readyz").statusCode()).isEqualTo(200);
    }

    @Test
    void metrics_servesPrometheusTextWithJvmAndProcessMetrics() throws Exception {
        metrics.forServer("extauthz").counter("meshguard.test.calls").increment();
        server.start();

        HttpResponse<String> response = get("/metrics");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type"))
                .get()
                .asString()
                .startsWith("text/plain; version=0.0.4");
        assertThat(response.body())
                .contains("jvm_memory_used_bytes{")
                .contains("jvm_gc_")
                .contains("jvm_threads_live_threads")
                .contains("jvm_classes_loaded_classes")
                .contains("process_cpu_usage")
                .contains("process_uptime_seconds")
                .contains("meshguard_test_calls_total{server=\"extauthz\"} 1.0");
    }

    @Test
    void metrics_carriesTheBuildThisServerRuns() throws Exception {
        server.start();

        io.meshguard.runtime.BuildInfo build = io.meshguard.runtime.BuildInfo.current();
        assertThat(get("/metrics").body())
                .contains("meshguard_build_info{commit=\"" + build.commit() + "\",java=\"" + build.java()
                        + "\",version=\"" + build.version() + "\"} 1");
    }

    @Test
    void post_onBuiltInPath_isMethodNotAllowed() throws Exception {
        server.start();

        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/readyz"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build());

        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(response.headers().firstValue("Allow")).contains("GET, HEAD");
    }

    @Test
    void head_returnsHeadersOnly() throws Exception {
        server.start();

        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/healthz"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEmpty();
    }

    @Test
    void pathBelowBuiltIn_isNotFound() throws Exception {
        server.start();

        assertThat(get("/readyzzz").statusCode()).isEqualTo(404);
        assertThat(get("/").statusCode()).isEqualTo(404);
    }

    @Test
    void addHandler_servesExtraPathOnSamePort() throws Exception {
        server.addHandler("/admin", exchange -> {
            byte[] body = ("admin " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();

        HttpResponse<String> response = get("/admin/routes");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("admin /admin/routes");
    }

    @Test
    void addHandler_builtInPath_isRejected() {
        assertThatThrownBy(() -> server.addHandler("/metrics", exchange -> {}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void close_stopsListening() throws Exception {
        server.start();
        URI healthz = uri("/healthz");

        server.close();

        assertThatThrownBy(() -> send(HttpRequest.newBuilder(healthz).GET().build()))
                .isInstanceOf(java.io.IOException.class);
    }
}
