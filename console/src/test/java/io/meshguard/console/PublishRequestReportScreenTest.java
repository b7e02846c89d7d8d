package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.access.AdminGate;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.policy.PolicyFileSet;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Revisions screen, server-rendered, shows a publish request's replay report beside its diff: refunds
 * decisions recorded by a real extauthz through the served route, a draft that drops the route, the request's report
 * sentence for route refunds with its sample request ids, and the drill-down to those samples' audit rows.
 */
@IntegrationTest
class PublishRequestReportScreenTest {
    private static final String TOKEN = "console-publish-report-token-0123456789";
    private static final Pattern HIDDEN = Pattern.compile("name=\"(_signin|_csrf)\" value=\"([^\"]+)\"");
    static final int REFUNDS = 3;

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path tmp;

    String base;

    @Test
    void publishRequest_showsItsReportBesideTheDiff_andDrillsDownToTheSampleRows() throws Exception {
        Path tokens = tmp.resolve("token");
        Files.writeString(tokens, TOKEN + "\n");
        Files.writeString(tmp.resolve("authz.yaml"), """
                routes:
                  - {name: payments-write, match: {path_prefix: /payments}, auth: apikey, rate_limit: off}
                """);
        Files.writeString(
                tmp.resolve("dlp.yaml"),
                "version: 1\nprofiles:\n  - name: default\n    request:\n      detectors: {card: mask}\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (AuditWriter audit = AuditWriter.start(
                        AuditWriterSettings.defaults(SpoolSettings.defaults(tmp.resolve("spool"))),
                        ConnectionSource.of(PG.dataSource()),
                        new SimpleMeterRegistry());
                XdsController xds = XdsController.create(
                        XdsSettings.onLoopback("test", Optional.of(tokens)),
                        PG.dataSource(),
                        registry,
                        c -> {},
                        Optional.of(PolicyFileSet.in(tmp)));
                StatusHttpServer http =
                        new StatusHttpServer("console-publish-report", HttpServerSettings.onPort(0), registry);
                ExtAuthzServer extauthz = new ExtAuthzServer(
                        ExtAuthzConfig.onLoopback(tmp.resolve("authz.yaml"), Duration.ofMillis(200)),
                        new SimpleMeterRegistry(),
                        Optional.of(PG.dataSource()),
                        new AuditSinkDecisions(audit),
                        Clock.systemUTC())) {
            AdminGate gate = AdminGate.local(new BearerTokens(Optional.of(tokens)), "xds.admin.token_file");
            xds.mountAdminApi(http, gate);
            TokenSignedBrowser.serveConsole(xds, http, gate, Optional.empty());
            extauthz.start();
            base = "http://127.0.0.1:" + http.port();

            api("PUT", "/groups/prod", """
                    {"name": "prod", "environment": "prod", "region": "eu", "hostnames": ["payments.example"],
                     "listener_port": 8080}""");
            api("PUT", "/upstreams/payments", """
                    {"name": "payments", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}""");
            api("PUT", "/apis/payments", """
                    {"name": "payments", "base_path": "/payments", "default_version": "v1",
                     "versions": [{"version": "v1", "status": "active"}]}""");
            for (String route : List.of("charges", "refunds")) {
                api("PUT", "/routes/prod/" + route, """
                        {"name": "%s", "group": "prod", "api": "payments", "version": "v1",
                         "match": {"path_prefix": "/%s"}, "destinations": [{"upstream": "payments", "weight": 100}],
                         "authz_profile": "payments-write", "dlp_profile": "default"}""".formatted(route, route));
            }
            api("POST", "/publish", "{\"reason\": \"first release\"}");
            api("PUT", "/groups/prod/protection", "{\"reason\": \"production\"}");

            String key = new ApiKeyService(new JdbcApiKeyStore(PG.dataSource()), Clock.systemUTC())
                    .create("acme-checkout", "svc", "acme", List.of(), List.of(), "free", Optional.empty())
                    .text();
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", extauthz.grpcPort())
                    .usePlaintext()
                    .build();
            try {
                for (int i = 0; i < REFUNDS; i++) {
                    assertThat(AuthorizationGrpc.newBlockingStub(channel)
                                    .check(CheckRequests.of(
                                            "POST",
                                            "payments.example",
                                            "/payments/refunds/" + i,
                                            Map.of("x-api-key", List.of(key), "x-request-id", List.of("refund-" + i)),
                                            Map.of(
                                                    RouteContract.AuthzContext.AUTHZ_PROFILE, "payments-write",
                                                    RouteContract.AuthzContext.GATEWAY_ROUTE, "refunds",
                                                    RouteContract.AuthzContext.API, "payments",
                                                    RouteContract.AuthzContext.API_VERSION, "v1"),
                                            CheckRequests.Encoding.HEADERS))
                                    .hasOkResponse())
                            .isTrue();
                }
            } finally {
                channel.shutdownNow();
            }
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> PG.dsl()
                                    .fetchCount(
                                            PG.dsl().selectFrom("audit_event").where("kind = 'authz_decision'"))
                            == REFUNDS);

            api("DELETE", "/routes/prod/refunds", "{\"reason\": \"refunds move\"}");
            String published = api("POST", "/publish", "{\"reason\": \"drop refunds\"}");
            String request = io.meshguard.xds.model.ConfigJson.mapper()
                    .readTree(published)
                    .path("requests")
                    .get(0)
                    .path("id")
                    .asText();
            assertThat(request).as(published).isNotEmpty();

            String session = signIn();
            String page = get("/console/revisions", session).body();
            int report = page.indexOf("data-testid=\"request-report-" + request + "\"");
            int diff = page.indexOf("data-testid=\"request-diff-" + request + "\"");
            assertThat(report).as(page).isPositive();
            assertThat(diff).as("the diff beside the report").isGreaterThan(report);
            String section = page.substring(report, diff);
            assertThat(section)
                    .contains(REFUNDS + " decisions: 0 unchanged, <strong>" + REFUNDS
                            + " flipped</strong>, 0 not replayable")
                    .contains(REFUNDS + " decisions of tenant acme on route refunds by ")
                    .contains("would go allow 200 -&gt; 404 no route")
                    .contains("refund-0");

            HttpResponse<String> drilled = get("/console/revisions?request=" + request + "&flips=0", session);
            assertThat(drilled.statusCode()).isEqualTo(200);
            String samples = drilled.body().substring(drilled.body().indexOf("id=\"samples\""));
            for (int i = 0; i < REFUNDS; i++) {
                assertThat(samples).contains("<code>refund-" + i + "</code>");
            }
            assertThat(samples).contains("acme").contains("payments-write");
        }
    }

    private String api(String method, String path, String body) throws Exception {
        HttpResponse<String> r = AdminHttp.send(URI.create(base + path), TOKEN, method, body);
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isBetween(200, 202);
        return r.body();
    }

    private String signIn() throws Exception {
        HttpResponse<String> form = get("/console/signin", "");
        String binding = cookie(form, Console.SIGN_IN_COOKIE);
        HttpResponse<String> r = AdminHttp.form(
                URI.create(base + "/console/signin"),
                Console.SIGN_IN_COOKIE + "=" + binding,
                "_signin=" + hidden(form.body()) + "&next=%2Fconsole%2Frevisions&token="
                        + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(303);
        return Console.SESSION_COOKIE + "=" + cookie(r, Console.SESSION_COOKIE);
    }

    private HttpResponse<String> get(String path, String cookie) throws Exception {
        return AdminHttp.page(URI.create(base + path), cookie);
    }

    private static String cookie(HttpResponse<String> r, String name) {
        return AdminHttp.cookie(r, name);
    }

    private static String hidden(String body) {
        Matcher m = HIDDEN.matcher(body);
        while (m.find()) {
            if (m.group(1).equals("_signin")) {
                return m.group(2);
            }
        }
        throw new AssertionError("no hidden _signin in:\n" + body);
    }
}
