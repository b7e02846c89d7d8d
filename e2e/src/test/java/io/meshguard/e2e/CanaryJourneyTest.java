package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.cli.canary.AuditApiEvidence;
import io.meshguard.cli.canary.CanaryKind;
import io.meshguard.cli.canary.CanaryProbe;
import io.meshguard.cli.canary.CanaryResult;
import io.meshguard.cli.canary.CanaryResult.Outcome;
import io.meshguard.cli.canary.CanaryRoute;
import io.meshguard.cli.canary.CanaryTransport;
import io.meshguard.cli.canary.HttpCanaryTransport;
import io.meshguard.cli.xds.AdminClient;
import io.meshguard.devstack.demo.DemoGateway;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.emulator.UpstreamServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Canaries through the real path: the emulated gateway from the controller's own config, in front of the real
 * extauthz and DLP server as {@code meshguard up} wires them, each pass confirmed by the Check's and the DLP's own
 * audit rows for the canary's trace id, read through the real admin API. On the gateway's routes the Check denies the
 * expired token and the DLP blocks the card, so the canaries pass; aimed at the accounts workload directly (the bypass
 * a route left unprotected is), the same canary gets through and is counted as such; and an application that
 * recognises canaries and answers exactly as meshguard would does not pass one: meshguard wrote no row for it.
 */
@IntegrationTest
class CanaryJourneyTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static E2eStack stack;
    static Gateway gateway;
    static DemoGateway.Upstreams upstreams;

    @BeforeAll
    static void startStack() throws Exception {
        stack = E2eStack.start(PG, Files.createTempDirectory("meshguard-canary"));
        upstreams = DemoGateway.Upstreams.start();
        gateway = stack.publish(DemoGateway.yaml("local", upstreams), "local", DemoGateway.LISTENER_PORT);
    }

    @AfterAll
    static void stopStack() throws Exception {
        if (upstreams != null) {
            upstreams.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    /** The gateway's host goes to the emulated gateway; any other address over real HTTP. */
    private static CanaryTransport throughTheGateway() {
        HttpCanaryTransport http = new HttpCanaryTransport(Duration.ofSeconds(10), Optional.empty());
        return request -> {
            if (!DemoGateway.HOST.equals(request.url().getHost())) {
                return http.send(request);
            }
            List<String> headers = new ArrayList<>();
            request.headers().forEach((name, value) -> {
                headers.add(name);
                headers.add(value);
            });
            String path = request.url().getRawPath();
            DownstreamRequest downstream = request.body().isEmpty()
                    ? DownstreamRequest.get(DemoGateway.HOST, path, headers.toArray(String[]::new))
                    : DownstreamRequest.withBody(
                            request.method(), DemoGateway.HOST, path, request.body(), headers.toArray(String[]::new));
            Exchange exchange = gateway.send(downstream.withMethod(request.method()));
            return new CanaryTransport.Answer(exchange.status(), exchange.body());
        };
    }

    private static CanaryProbe probe(List<CanaryRoute> routes, SimpleMeterRegistry meters) throws Exception {
        return probe(routes, Duration.ofSeconds(30), meters);
    }

    /** A probe through the gateway as the canary tenant, waiting up to {@code evidenceWait} for the audit rows. */
    private static CanaryProbe probe(List<CanaryRoute> routes, Duration evidenceWait, SimpleMeterRegistry meters)
            throws Exception {
        String cardToken = stack.token("canary", "t-canary", List.of("demo"));
        return new CanaryProbe(
                routes,
                throughTheGateway(),
                Optional.empty(),
                Optional.of(() -> cardToken),
                403,
                Duration.ofMinutes(1),
                new AuditApiEvidence(new AdminClient(stack.xdsAdminUrl(), stack.adminToken())),
                evidenceWait,
                Clock.systemUTC(),
                meters);
    }

    @Test
    void protectedRoutes_checkDeniesTheExpiredToken_andDlpBlocksTheCard_soEveryCanaryPasses() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        UpstreamServer accounts = upstreams.accounts();
        UpstreamServer llm = upstreams.llm();
        accounts.clear();
        llm.clear();
        CanaryProbe probe = probe(
                List.of(
                        new CanaryRoute(
                                "demo.v2.accounts",
                                URI.create("http://" + DemoGateway.HOST + "/demo/v2/accounts/canary"),
                                "GET",
                                List.of(CanaryKind.EXPIRED_TOKEN),
                                Map.of("x-tenant-id", "t-canary")),
                        new CanaryRoute(
                                "demo.v2.chat",
                                URI.create("http://" + DemoGateway.HOST + "/demo/v2/chat/completions"),
                                // the route takes POST only: a GET would meet the catch-all 404 (unreachable)
                                "POST",
                                List.of(CanaryKind.EXPIRED_TOKEN, CanaryKind.TEST_CARD),
                                Map.of("x-tenant-id", "t-canary"))),
                meters);

        List<CanaryResult> results = probe.runOnce();

        assertThat(results)
                .hasSize(3)
                .allSatisfy(r -> assertThat(r.outcome()).as(r.toString()).isEqualTo(Outcome.PASSED));
        assertThat(meters.get("meshguard.canary.checks")
                        .tags("route", "demo.v2.chat", "kind", "test_card", "result", "passed")
                        .counter()
                        .count())
                .isEqualTo(1.0);
        // the Check stopped the tokens before any upstream; the DLP let no byte of the card through
        assertThat(accounts.received()).isEmpty();
        // and the gateway's access-log rows say they were canaries, of which kind
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(canaryRows())
                .containsEntry("expired_token", 2L)
                .containsEntry("test_card", 1L));
        assertThat(llm.received()).allSatisfy(r -> assertThat(new String(r.body(), StandardCharsets.UTF_8))
                .doesNotContain(CanaryProbe.CARD));
    }

    /** The gateway's api_call rows marked as canaries, counted per kind. */
    private static Map<String, Long> canaryRows() throws Exception {
        Map<String, Long> rows = new java.util.TreeMap<>();
        try (java.sql.Connection c = PG.dataSource().getConnection();
                java.sql.PreparedStatement ps =
                        c.prepareStatement("select details->>'canary', count(*) from audit_event"
                                + " where kind = 'api_call' and details->>'canary' is not null group by 1");
                java.sql.ResultSet r = ps.executeQuery()) {
            while (r.next()) {
                rows.put(r.getString(1), r.getLong(2));
            }
        }
        return rows;
    }

    @Test
    void appImitatingMeshguardsAnswers_withoutMeshguard_canariesGetThrough() throws Exception {
        com.sun.net.httpserver.HttpServer imitator =
                com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        List<String> cardsSeen = new java.util.concurrent.CopyOnWriteArrayList<>();
        imitator.createContext("/", exchange -> {
            String kind = String.valueOf(exchange.getRequestHeaders().getFirst(CanaryProbe.HEADER));
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            if (body.contains(CanaryProbe.CARD)) {
                cardsSeen.add(kind);
            }
            // what the Check answers an unverifiable token, and what the DLP answers a card
            byte[] answer = (kind.equals("test_card")
                            ? "{\"error\":\"dlp_blocked\",\"message\":\"blocked\",\"detector\":\"card\"}"
                            : "{\"status\":401,\"reason\":\"unknown_key\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("content-type", "application/json");
            exchange.sendResponseHeaders(kind.equals("test_card") ? 403 : 401, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        imitator.start();
        try {
            CanaryRoute route = new CanaryRoute(
                    "imitated",
                    URI.create("http://127.0.0.1:" + imitator.getAddress().getPort() + "/demo/v2/chat/completions"),
                    "POST",
                    List.of(CanaryKind.EXPIRED_TOKEN, CanaryKind.TEST_CARD),
                    Map.of("x-tenant-id", "t-canary"));
            CanaryProbe probe = probe(List.of(route), Duration.ofSeconds(3), new SimpleMeterRegistry());

            List<CanaryResult> results = probe.runOnce();

            assertThat(results).hasSize(2).allSatisfy(r -> {
                assertThat(r.outcome()).as(r.toString()).isEqualTo(Outcome.GOT_THROUGH);
                assertThat(r.detail()).contains("meshguard did not decide it");
            });
            assertThat(cardsSeen).as("the application received the card").containsExactly("test_card");
        } finally {
            imitator.stop(0);
        }
    }

    @Test
    void routeLeftUnprotected_canaryGetsThrough_andIsCountedAsFailed() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        // the accounts workload reached without the gateway: a bypass path with no Check on it
        CanaryRoute bypass = new CanaryRoute(
                "accounts-pod-ip",
                URI.create("http://127.0.0.1:" + upstreams.accounts().port() + "/demo/v2/accounts/canary"),
                "GET",
                List.of(CanaryKind.EXPIRED_TOKEN, CanaryKind.TEST_CARD),
                Map.of("x-tenant-id", "t-canary"));
        CanaryProbe probe = probe(List.of(bypass), meters);

        List<CanaryResult> results = probe.runOnce();

        assertThat(results).extracting(CanaryResult::outcome).containsOnly(Outcome.GOT_THROUGH);
        assertThat(meters.get("meshguard.canary.checks")
                        .tags("route", "accounts-pod-ip", "kind", "expired_token", "result", "got_through")
                        .counter()
                        .count())
                .isEqualTo(1.0);
        assertThat(meters.get("meshguard.canary.checks")
                        .tags("route", "accounts-pod-ip", "kind", "expired_token", "result", "passed")
                        .counter()
                        .count())
                .isZero();
        // the workload saw the canary, marked as one
        assertThat(upstreams.accounts().received())
                .anySatisfy(
                        r -> assertThat(r.headers().first(CanaryProbe.HEADER)).contains("test_card"));
    }
}
