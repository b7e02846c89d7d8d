package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.access.http.RequestLoop;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.DedicatedPostgres;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.model.ConfigJson;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The admin plane while its PostgreSQL is away: a client (and an operator's retrying script) must be able to tell "the
 * database is unavailable, retry" (503, {@code Retry-After}, MG-STORE-001) from "your change conflicts" (409), which
 * stays what it was.
 */
@IntegrationTest
class AdminApiDatabaseOutageTest {
    static final String TOKEN = "s3cret-token-for-outage-tests";

    @RegisterExtension
    static final DedicatedPostgres PG = PostgresExtension.dedicated();

    @TempDir
    static Path tmp;

    static HikariDataSource ds;
    static XdsController xds;
    static StatusHttpServer http;

    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger loopLog = (Logger) LoggerFactory.getLogger(RequestLoop.class);

    @BeforeAll
    static void start() throws Exception {
        // the controller's own pool, as production builds it: a short connection timeout so a request while the
        // database is away is answered in seconds
        ds = DataSourceFactory.create(DbSettings.of(PG.jdbcUrl(), PG.user(), PG.password())
                .withValidationTimeout(Duration.ofSeconds(1))
                .withConnectionTimeout(Duration.ofSeconds(2)));
        Path tokenFile = tmp.resolve("token");
        Files.writeString(tokenFile, "alice:" + TOKEN + "\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        xds = XdsController.create(XdsSettings.onLoopback("test", Optional.of(tokenFile)), ds, registry, c -> {});
        http = new StatusHttpServer("xds-outage", HttpServerSettings.onPort(0), registry);
        xds.mountAdminApi(http);
        xds.start();
        http.start();
        assertThat(call("PUT", "/config", ConfigJson.write(XdsController.sampleConfig()))
                        .statusCode())
                .isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        http.close();
        xds.close();
        ds.close();
    }

    @BeforeEach
    void captureLogs() {
        logs.start();
        loopLog.addAppender(logs);
    }

    @AfterEach
    void databaseBack() {
        loopLog.detachAppender(logs);
        if (!PG.isServerRunning()) {
            PG.startServer();
        }
        ds.getHikariPoolMXBean().softEvictConnections();
    }

    static HttpResponse<String> call(String method, String path, String body) throws Exception {
        return AdminHttp.send(http.port(), TOKEN, method, path, body);
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return ConfigJson.mapper().readTree(r.body());
    }

    static final String ROUTE = """
            {"name": "payments-v2-transfers", "group": "local", "api": "payments", "version": "v2",
             "match": {"path_prefix": "/transfers"},
             "destinations": [{"upstream": "payments-v2", "weight": 70}, {"upstream": "payments-v1", "weight": 30}]}""";

    @Test
    void putRoute_databaseGone_answers503WithRetryAfter_notConflict() throws Exception {
        PG.stopServer();

        HttpResponse<String> refused = call("PUT", "/routes/local/payments-v2-transfers", ROUTE);

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).contains("5");
        JsonNode body = json(refused);
        assertThat(body.path("code").asText()).isEqualTo("MG-STORE-001");
        assertThat(body.path("error").asText())
                .contains("database is unavailable")
                .doesNotContain("select");
        assertThat(logs.list)
                .filteredOn(e -> e.getLevel() == Level.WARN)
                .extracting(ILoggingEvent::getFormattedMessage)
                .anySatisfy(m -> assertThat(m)
                        .contains("refused 503", "SQLSTATE 08")
                        .doesNotContainIgnoringCase("select")
                        .doesNotContainIgnoringCase("insert"));

        PG.startServer();
        // a client that retries on 503 gets through once the pool has connected again, and is never told 409
        HttpResponse<String> retried = refused;
        for (int attempt = 0; attempt < 30 && retried.statusCode() == 503; attempt++) {
            Thread.sleep(500);
            retried = call("PUT", "/routes/local/payments-v2-transfers", ROUTE);
        }
        assertThat(retried.statusCode())
                .as("the same request, retried: " + retried.body())
                .isEqualTo(200);
        assertThat(json(call("GET", "/routes/local/payments-v2-transfers", null))
                        .toString())
                .contains("\"weight\":70");
    }

    @Test
    void everyAdminApi_databaseGone_answers503WithTheSameCode() throws Exception {
        PG.stopServer();

        for (String path :
                new String[] {"/config", "/revisions?group=local", "/audit/events?since=1h", "/policy-requests"}) {
            HttpResponse<String> r = call("GET", path, null);
            assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(503);
            assertThat(r.headers().firstValue("Retry-After")).as(path).isPresent();
            assertThat(json(r).path("code").asText()).as(path).isEqualTo("MG-STORE-001");
        }
    }

    @Test
    void putUpstream_uniqueViolation_stillAnswers409() throws Exception {
        String twice = """
                {"name": "payments-v1", "endpoints": [{"address": "pay.internal", "port": 8443},
                                                      {"address": "pay.internal", "port": 8443}]}""";

        HttpResponse<String> refused = call("PUT", "/upstreams/payments-v1", twice);

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
        assertThat(json(refused).has("code"))
                .as("not the database's outage code")
                .isFalse();
        assertThat(refused.headers().firstValue("Retry-After")).isEmpty();
    }

    @Test
    void deleteGroup_withPublishedRevisions_stillAnswers409() throws Exception {
        assertThat(call("PUT", "/groups/spare", "{\"name\": \"spare\"}").statusCode())
                .isEqualTo(200);
        HttpResponse<String> published = call("POST", "/publish", "{\"reason\":\"serve it\"}");
        assertThat(published.statusCode()).as(published.body()).isEqualTo(200);

        HttpResponse<String> refused = call("DELETE", "/groups/spare", null);

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
        assertThat(refused.body()).contains("has published revisions");
    }
}
