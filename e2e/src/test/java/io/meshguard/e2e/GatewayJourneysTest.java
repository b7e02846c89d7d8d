package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.access.AdminAccessSettings;
import io.meshguard.cli.idp.LocalRealm;
import io.meshguard.cli.idp.ProductIdp;
import io.meshguard.devstack.demo.AuditTrail;
import io.meshguard.devstack.demo.DemoGateway;
import io.meshguard.devstack.demo.Sse;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.emulator.UpstreamServer;
import io.meshguard.testing.DedicatedPostgres;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.KeycloakServer;
import io.meshguard.testing.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Requests through the gateway config the xDS controller emits, played by the Envoy emulator against the stack as
 * {@code meshguard up} runs it (extauthz, DLP, audit, dev issuer, xDS controller, on PostgreSQL). One stack for the
 * class; every scenario uses its own tenant so that rate limits and audit rows do not mix.
 */
@IntegrationTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayJourneysTest {
    /** A server of the class's own: the last scenario stops and restarts it. */
    @RegisterExtension
    static final DedicatedPostgres PG = PostgresExtension.dedicated();

    static E2eStack stack;
    static Gateway gateway;
    static final String GROUP = "local";
    static final String CARD = DemoGateway.CARD;
    static final String EMAIL = DemoGateway.EMAIL;
    static final String PRIVATE_KEY = DemoGateway.PRIVATE_KEY;

    static DemoGateway.Upstreams upstreams;
    static UpstreamServer accounts;
    static UpstreamServer stable;
    static UpstreamServer canary;
    static UpstreamServer ledger;
    /** Answers after 10 s, four times the route {@code slow-report}'s timeout as the emulator runs it (×25). */
    static UpstreamServer slowReports;

    @BeforeAll
    static void startStack() throws Exception {
        Path dataDir = Files.createTempDirectory("meshguard-e2e");
        // as up --idp keycloak: the demo's OAuth2 step (12) creates a client in this realm (the run's one Keycloak,
        // which ProductJourneyTest shares; each class imports the realm afresh)
        KeycloakServer keycloak = KeycloakServer.shared();
        LocalRealm realm = LocalRealm.generate(AdminAccessSettings.AUDIENCE.defaultValue());
        keycloak.importRealm(realm.toJson());
        stack = E2eStack.start(PG, dataDir, ProductIdp.of(keycloak.baseUrl(), realm));
        upstreams = DemoGateway.Upstreams.start();
        accounts = upstreams.accounts();
        stable = upstreams.stable();
        canary = upstreams.canary();
        ledger = upstreams.ledger();
        slowReports =
                UpstreamServer.slowJson("slow-reports", 0, Duration.ofSeconds(10), "{\"upstream\":\"{upstream}\"}");
        // the group deploy/local's Envoy bootstrap names (node.cluster), where up publishes its sample
        gateway = stack.publish(
                withSlowRoute(DemoGateway.yaml(GROUP, upstreams), slowReports.port()),
                GROUP,
                DemoGateway.LISTENER_PORT);
    }

    @AfterAll
    static void stopStack() {
        for (AutoCloseable c : new AutoCloseable[] {upstreams, slowReports, stack}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    /**
     * The demo config plus one route with a 100 ms timeout (2.5 s at the stack's timeout scale; its 5 s idle timeout
     * stays longer, so the route's deadline is what fires) to an upstream that answers after 10 s.
     */
    static String withSlowRoute(String demoYaml, int port) {
        String upstream = """
                  - {name: slow-reports, protocol: http1, endpoints: [{address: 127.0.0.1, port: %1$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %1$d, reason: "e2e backend on this machine"}]}
                """.formatted(port);
        String route = """
                  - {name: slow-report, group: %s, api: demo, version: v2, match: {path_prefix: /reports},
                     destinations: [{upstream: slow-reports, weight: 100}], timeout_ms: 100, idle_timeout_ms: 5000,
                     authz_profile: dev-demo, dlp_profile: default}
                """.formatted(GROUP);
        int apis = demoYaml.indexOf("apis:\n");
        assertThat(apis).isPositive();
        return demoYaml.substring(0, apis) + upstream + demoYaml.substring(apis) + route;
    }

    private static DownstreamRequest authorized(DownstreamRequest request, String tenant) throws Exception {
        return request.with("authorization", "Bearer " + stack.token("alice", tenant, List.of("demo")))
                .with("x-tenant-id", tenant);
    }

    @Test
    void emittedConfig_isAcceptedByTheEmulatedEnvoy_withEveryFieldModelled() {
        assertThat(stack.ads().problems()).isEmpty();
        assertThat(stack.ads().nacks()).isEmpty();
    }

    @Test
    void allowedJsonCall_upstreamSeesIdentityHeaders_andNoCredential() throws Exception {
        accounts.clear();
        Exchange exchange =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts/7"), "t-allow"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        assertThat(exchange.route()).isEqualTo("demo.v2.accounts");
        assertThat(exchange.body()).contains("\"upstream\":\"accounts\"");
        UpstreamServer.Received seen = accounts.received().getLast();
        assertThat(seen.path()).isEqualTo("/demo/v2/accounts/7");
        assertThat(seen.headers().first("x-user-id")).contains("alice");
        assertThat(seen.headers().first("x-tenant-id")).contains("t-allow");
        assertThat(seen.headers().all("x-tenant-id"))
                .as("one tenant value, set by extauthz")
                .hasSize(1);
        assertThat(seen.headers().has("authorization"))
                .as("credential stripped: " + seen.headers())
                .isFalse();
        assertThat(seen.headers().first("x-request-id")).contains(exchange.requestId());
    }

    @Test
    void requestWithoutToken_isDenied401_beforeTheUpstream() throws Exception {
        accounts.clear();
        Exchange exchange =
                gateway.send(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts", "x-tenant-id", "t-401"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(401);
        assertThat(exchange.body()).contains("missing_credential");
        assertThat(exchange.header("www-authenticate")).isPresent();
        assertThat(exchange.upstreamReached()).isFalse();
        assertThat(accounts.received()).isEmpty();
    }

    @Test
    void tokenWithoutTheRouteRole_isDenied403() throws Exception {
        String token = stack.token("bob", "t-403", List.of("viewer"));
        Exchange exchange = gateway.send(DownstreamRequest.get(
                DemoGateway.HOST, "/demo/v2/accounts", "authorization", "Bearer " + token, "x-tenant-id", "t-403"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(403);
        assertThat(exchange.body()).contains("insufficient_role");
        assertThat(exchange.upstreamReached()).isFalse();
    }

    @Test
    void tokenWithoutTheTenantHeader_isServedAsTheTokensTenant_andAnotherTenantInTheHeaderIs403() throws Exception {
        accounts.clear();
        String token = stack.token("carol", "t-own", List.of("demo"));
        Exchange own = gateway.send(
                DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts", "authorization", "Bearer " + token));
        Exchange other = gateway.send(DownstreamRequest.get(
                DemoGateway.HOST, "/demo/v2/accounts", "authorization", "Bearer " + token, "X-Tenant-Id", "t-other"));

        assertThat(own.status()).as(own.describe()).isEqualTo(200);
        assertThat(accounts.received().getLast().headers().all("x-tenant-id")).containsExactly("t-own");
        assertThat(other.status()).as(other.describe()).isEqualTo(403);
        assertThat(other.body()).contains("tenant_mismatch");
        assertThat(accounts.received()).hasSize(1);
    }

    @Test
    void tenantOverItsRateLimit_isDenied429() throws Exception {
        // policies/authz.yaml: tier free, burst 10 at 5 requests a second, by tenant
        DownstreamRequest request = authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts"), "t-429");
        // Sent at once, not one after another: 30 calls against a burst of 10 refilled at 5/s can all pass only if
        // they take 4 s, which sequential calls on a loaded CI machine did. A round without a 429 is sent again.
        Exchange last = null;
        List<Integer> seen = new ArrayList<>();
        for (int round = 0; round < 3 && last == null; round++) {
            for (Exchange e : sendAtOnce(request, 30)) {
                seen.add(e.status());
                if (e.status() == 429 && last == null) {
                    last = e;
                }
            }
        }
        assertThat(last).as("a 429 among %s", seen).isNotNull();
        assertThat(last.status()).as(last.describe()).isEqualTo(429);
        assertThat(last.body()).contains("rate_limited");
        assertThat(last.upstreamReached()).isFalse();
        // the local reply carries Retry-After and the rate-limit headers (denied_response.headers)
        assertThat(last.header("retry-after")).as(last.describe()).isPresent();
        assertThat(last.header("ratelimit")).as(last.describe()).hasValueSatisfying(v -> assertThat(v)
                .startsWith("\"free-1s\";r=0;"));
        assertThat(last.header("x-ratelimit-remaining")).contains("0");
    }

    /** Sends {@code n} copies of {@code request} concurrently, released together, and returns every answer. */
    private static List<Exchange> sendAtOnce(DownstreamRequest request, int n) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Exchange>> calls = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                calls.add(pool.submit(() -> {
                    go.await();
                    return gateway.send(request);
                }));
            }
            go.countDown();
            List<Exchange> out = new ArrayList<>();
            for (var call : calls) {
                out.add(call.get(2, TimeUnit.MINUTES));
            }
            return out;
        }
    }

    @Test
    void allowedCall_clientSeesItsRateLimitHeaders_onTheUpstreamsResponse() throws Exception {
        // ext_authz's ok_response.response_headers_to_add: Envoy saves them on OK and sets them on the upstream's
        // response in encodeHeaders (source/extensions/filters/http/ext_authz/ext_authz.cc); append=false means set,
        // so an upstream's own RateLimit header cannot contradict the gateway's
        accounts.clear();
        Exchange exchange =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts/9"), "t-headers"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        assertThat(exchange.upstreamReached()).isTrue();
        assertThat(exchange.header("ratelimit-policy")).as(exchange.describe()).contains("\"free-1s\";q=5;w=1");
        assertThat(exchange.header("ratelimit"))
                .hasValueSatisfying(v -> assertThat(v).matches("\"free-1s\";r=5;t=\\d+"));
        assertThat(exchange.header("x-ratelimit-limit")).contains("5");
        // 9 of the burst of 10 left, stated as no more than the limit
        assertThat(exchange.header("x-ratelimit-remaining")).contains("5");
        // response headers are for the client only: the upstream never saw them on its request
        assertThat(accounts.received().getLast().headers().has("ratelimit")).isFalse();
    }

    @Test
    void deprecatedVersion_answersWithDeprecationSunsetAndSuccessorLink() throws Exception {
        Exchange exchange =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v1/accounts"), "t-dep"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        assertThat(exchange.route()).isEqualTo("demo.v1.accounts-v1");
        assertThat(exchange.header("deprecation")).contains("@1767225600");
        assertThat(exchange.header("sunset")).contains("Tue, 01 Jun 2027 00:00:00 GMT");
        assertThat(exchange.header("link")).contains("</demo/v2>; rel=\"successor-version\"");
    }

    @Test
    void sunsetVersion_answers410_withoutAuthzOrUpstream() throws Exception {
        accounts.clear();
        Exchange exchange = gateway.send(DownstreamRequest.get(DemoGateway.HOST, "/demo/v0/accounts"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(410);
        assertThat(exchange.body()).contains("\"error\":\"api_version_sunset\"", "\"successor\":\"/demo/v2\"");
        assertThat(exchange.header("content-type")).contains("application/json");
        assertThat(exchange.steps()).anyMatch(s -> s.contains("ext_authz: disabled on this route"));
        assertThat(accounts.received()).isEmpty();
    }

    @Test
    void apiUsage_perVersion_fromTheGatewaysAccessLog_metricsAndReport_nameTheDeprecatedVersionsCallers()
            throws Exception {
        String before = stack.scrapeMetrics();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Exchange deprecated =
                    gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v1/accounts"), "t-usage"));
            assertThat(deprecated.status()).as(deprecated.describe()).isEqualTo(200);
            ids.add(deprecated.requestId());
        }
        Exchange active =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts"), "t-usage"));
        assertThat(active.status()).as(active.describe()).isEqualTo(200);
        // a sunset version's canned 410 runs no ext_authz: the tenant this client claims must not count
        Exchange sunset =
                gateway.send(DownstreamRequest.get(DemoGateway.HOST, "/demo/v0/accounts", "x-tenant-id", "t-forged"));
        assertThat(sunset.status()).as(sunset.describe()).isEqualTo(410);
        ids.add(active.requestId());
        ids.add(sunset.requestId());

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            String now = stack.scrapeMetrics();
            assertThat(ApiUsageJourney.value(
                                    now,
                                    "meshguard_api_requests_total",
                                    "api=\"demo\"",
                                    "api_version=\"v1\"",
                                    "route=\"accounts-v1\"",
                                    "code=\"200\"")
                            - ApiUsageJourney.value(
                                    before,
                                    "meshguard_api_requests_total",
                                    "api=\"demo\"",
                                    "api_version=\"v1\"",
                                    "route=\"accounts-v1\"",
                                    "code=\"200\""))
                    .isEqualTo(3);
            assertThat(ApiUsageJourney.value(
                                    now,
                                    "meshguard_api_requests_total",
                                    "api_version=\"v0\"",
                                    "route=\"_closed\"",
                                    "code=\"410\"")
                            - ApiUsageJourney.value(
                                    before,
                                    "meshguard_api_requests_total",
                                    "api_version=\"v0\"",
                                    "route=\"_closed\"",
                                    "code=\"410\""))
                    .isEqualTo(1);
        });
        String metrics = stack.scrapeMetrics();
        assertThat(ApiUsageJourney.value(
                        metrics,
                        "meshguard_api_request_duration_seconds_count",
                        "api=\"demo\"",
                        "api_version=\"v2\"",
                        "route=\"accounts\""))
                .isPositive();
        assertThat(ApiUsageJourney.value(
                        metrics, "meshguard_api_deprecated_requests_total", "api_version=\"v1\"", "tenant=\"t-usage\""))
                .isEqualTo(3);
        assertThat(metrics).doesNotContain("t-forged");
        // the countdown to v1's sunset (2027-06-01 in the demo config), whatever day the test runs
        double sunsetSeconds = ApiUsageJourney.value(
                metrics, "meshguard_api_version_sunset_seconds", "api=\"demo\"", "api_version=\"v1\"");
        long expected = Duration.between(java.time.Instant.now(), java.time.Instant.parse("2027-06-01T00:00:00Z"))
                .toSeconds();
        assertThat(sunsetSeconds).isBetween(expected - 300.0, expected + 300.0);
        assertThat(metrics).doesNotContainPattern("meshguard_api_version_sunset_seconds\\{[^}]*api_version=\"v2\"");

        // every audit row reached the database: the report reads them (the access-log writer batches; on a loaded
        // 2-core CI machine 30 s was once not enough)
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            for (String id : ids) {
                assertThat(AuditTrail.of(stack.database()::getConnection, id).kinds())
                        .as(id)
                        .contains("api_call");
            }
        });
        String report = ApiUsageJourney.run(
                "api",
                "usage",
                "--db",
                stack.jdbcUrlWithCredentials(),
                "--api",
                "demo",
                "--since",
                "1h",
                "--warn-days",
                "100000");
        List<String> lines = report.lines().toList();
        // one count per request: the DLP server's api_call row of each request is not counted again
        assertThat(lines).as(report).anySatisfy(l -> assertThat(l)
                .startsWith("demo")
                .contains(" v1 ", "deprecated", "2027-06-01", "t-usage/-: 3"));
        assertThat(lines)
                .as(report)
                .anySatisfy(l -> assertThat(l).startsWith("demo").contains(" v0 ", "sunset", "(unverified)"));
        assertThat(lines).as(report).anySatisfy(l -> assertThat(l)
                .startsWith("WARNING demo v1 is deprecated")
                .contains("successor v2", "t-usage/-: 3"));
        assertThat(report).doesNotContain("t-forged");
        System.out.println(report); // what the operator sees, in the test log
    }

    @Test
    void canary_90_10_splitsThousandRequestsWithin3Percent() throws Exception {
        stable.clear();
        canary.clear();
        DownstreamRequest request = authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/quotes"), "acme-corp");
        int toCanary = 0;
        for (int i = 0; i < 1000; i++) {
            Exchange exchange = gateway.send(request);
            assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
            toCanary += exchange.cluster().equals(GROUP + "-quotes-canary") ? 1 : 0;
        }
        assertThat(toCanary).isBetween(70, 130);
        assertThat(canary.received()).hasSize(toCanary);
        assertThat(stable.received()).hasSize(1000 - toCanary);
    }

    @Test
    void sseAnswer_withACardSplitAcrossDeltas_arrivesMaskedAndStillValidSse() throws Exception {
        Exchange exchange = gateway.send(authorized(
                DemoChat.completion("{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"my card?\"}]}"),
                "t-sse"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        assertThat(exchange.header("content-type")).contains("text/event-stream");
        List<String> events = Sse.events(exchange.body());
        assertThat(events.getLast()).isEqualTo("[DONE]");
        String text = Sse.content(events);
        assertThat(text.replaceAll("[^0-9]", "")).as(text).doesNotContain(CARD);
        assertThat(text).startsWith("Your card is ").endsWith(", thanks.");
        // masked in place across the events: the client still reads a card in its four groups, last four shown
        assertThat(text).isEqualTo("Your card is **** **** **** " + CARD.substring(12) + ", thanks.");
        assertThat(exchange.bodyChunks())
                .as("streamed, not buffered into one piece")
                .hasSizeGreaterThan(1);
    }

    @Test
    void requestCarryingAPrivateKey_isBlocked_beforeTheUpstreamSeesAByteOfIt() throws Exception {
        accounts.clear();
        Exchange exchange = gateway.send(authorized(
                DownstreamRequest.withBody(
                        "POST",
                        DemoGateway.HOST,
                        "/demo/v2/accounts/import",
                        "{\"key\":\"" + PRIVATE_KEY.replace("\n", "\\n") + "\"}",
                        "content-type",
                        "application/json"),
                "t-key"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(403);
        assertThat(exchange.body()).doesNotContain("PRIVATE KEY");
        // the upstream may have seen the request headers (Envoy connects once the header phase is done) but no body
        await().during(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(accounts.received()).allSatisfy(r -> {
                    assertThat(r.body()).isEmpty();
                    assertThat(r.complete()).isFalse();
                }));
    }

    @Test
    void oneRequestId_joinsTheAuthzDecision_dlpFinding_andApiCallRows() throws Exception {
        Exchange exchange =
                gateway.send(authorized(DemoChat.completion("{\"stream\":true,\"messages\":[]}"), "t-audit"));
        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);

        // 90 s, as the usage journey: a clean-clone CI run on a loaded machine once found no rows at 30 s. (That
        // run's "PostgreSQL unavailable … spooling" line came from the outage scenario, which runs after this one.)
        try {
            await().atMost(Duration.ofSeconds(90))
                    .untilAsserted(() -> assertThat(AuditTrail.of(stack.database()::getConnection, exchange.requestId())
                                    .kinds())
                            .contains("authz_decision", "dlp_finding", "api_call"));
        } catch (ConditionTimeoutException missing) {
            throw new AssertionError(AuditRowsReport.of(stack, "t-audit", List.of(exchange)), missing);
        }
        AuditTrail rows = AuditTrail.of(stack.database()::getConnection, exchange.requestId());
        assertThat(rows.ofKind("authz_decision").getFirst().decision()).isEqualTo("allow");
        AuditTrail.Row finding = rows.ofKind("dlp_finding").getFirst();
        assertThat(finding.details())
                .contains("\"detector\": \"card\"", "\"profile\": \"llm\"")
                .doesNotContain(CARD);
        // the gateway's access log reaches the audit receiver under the same id, with the gateway route's name (the
        // one the DLP server's row carries too) and Envoy's own route name in the details; the logged response
        // content-type makes it an SSE summary (no sizes, no cluster)
        assertThat(rows.ofKind("api_call")).anySatisfy(r -> {
            assertThat(r.route()).isEqualTo("chat");
            assertThat(r.details())
                    .contains(
                            "\"envoy_route\": \"" + exchange.route() + "\"",
                            "\"api_version\": \"v2\"",
                            "\"node\": \"e2e-envoy-1\"")
                    .doesNotContain("upstream_cluster");
        });
        assertThat(rows.ofKind("api_call")).extracting(AuditTrail.Row::route).containsOnly("chat");
    }

    @Test
    void gatewayRouteProfile_choosesTheAuthzRule_andTheDlpProfile() throws Exception {
        // the bank policy's rule accounts-read wants role customer and scope accounts:read on api.bank.example
        String token = stack.token("dave", "t-profile", List.of("customer"), List.of("accounts:read"));
        Exchange bank = gateway.send(DownstreamRequest.get(
                DemoGateway.BANK_HOST,
                "/v1/accounts/9",
                "authorization",
                "Bearer " + token,
                "x-tenant-id",
                "t-profile"));
        assertThat(bank.status()).as(bank.describe()).isEqualTo(200);
        assertThat(bank.steps()).anyMatch(s -> s.contains("meshguard.authz_profile=accounts-read"));
        assertThat(bank.body())
                .as("profile llm masks e-mail addresses in answers")
                .doesNotContain(EMAIL);

        Exchange demo = gateway.send(DownstreamRequest.get(
                DemoGateway.HOST, "/demo/v2/ledger", "authorization", "Bearer " + token, "x-tenant-id", "t-profile"));
        assertThat(demo.status())
                .as("rule dev-demo wants role demo: " + demo.describe())
                .isEqualTo(403);

        Exchange demoAllowed =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/ledger"), "t-profile2"));
        assertThat(demoAllowed.status()).as(demoAllowed.describe()).isEqualTo(200);
        assertThat(demoAllowed.body())
                .as("profile default only counts e-mail addresses")
                .contains(EMAIL);

        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(AuditTrail.of(stack.database()::getConnection, bank.requestId())
                                .ofKind("authz_decision"))
                        .anySatisfy(r -> assertThat(r.route()).isEqualTo("accounts-read")));
    }

    @Test
    void clientFromASanctionedNetwork_isDeniedByThePolicy_whateverItsToken() throws Exception {
        // policies/authz.yaml denies 203.0.113.0/24; the gateway hands ext_authz the socket's address, which an
        // edge client cannot forge with x-forwarded-for
        try (Gateway sanctioned = new Gateway(
                stack.ads(),
                io.meshguard.emulator.EnvoyNode.localGateway(),
                DemoGateway.LISTENER_PORT,
                1,
                E2eStack.TIMEOUT_SCALE,
                "203.0.113.77")) {
            Exchange exchange = sanctioned.send(authorized(
                    DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts", "x-forwarded-for", "198.51.100.5"),
                    "t-sanctioned"));
            assertThat(exchange.status()).as(exchange.describe()).isEqualTo(403);
            assertThat(exchange.body()).contains("sanctioned-networks");
        }
        Exchange elsewhere = gateway.send(authorized(
                DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts", "x-forwarded-for", "203.0.113.77"),
                "t-sanctioned"));
        assertThat(elsewhere.status())
                .as("a forged x-forwarded-for changes nothing: " + elsewhere.describe())
                .isEqualTo(200);
    }

    @Test
    void hostnameUpstream_isReachedThroughADnsCluster() throws Exception {
        ledger.clear();
        Exchange exchange =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/ledger"), "t-dns"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        assertThat(stack.ads()
                        .resources()
                        .clusters()
                        .get(GROUP + "-ledger")
                        .getType()
                        .name())
                .endsWith("_DNS");
        assertThat(ledger.received()).hasSize(1);
    }

    @Test
    void envoyNode_getsNoProxylessApiListeners_whichEnvoyWouldSkipWithAWarningOnEveryPush() {
        // listener_manager_impl.cc: an api_listener "can only be added via bootstrap configuration" (R3-20)
        assertThat(stack.ads().resources().listeners()).isNotEmpty();
        assertThat(stack.ads().ignoredListeners()).isEmpty();
    }

    @Test
    void hostnameUpstream_getsItsOwnNameAsHost_andTheClientsInXForwardedHost() throws Exception {
        // In a mesh the gateway's sidecar routes by Host: the client's names no Service (review 3, R3-02)
        ledger.clear();
        Exchange exchange = gateway.send(authorized(
                DownstreamRequest.get(
                        DemoGateway.HOST, "/demo/v2/ledger", "x-forwarded-host", "admin.internal.bank.example"),
                "t-host"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        var received = ledger.received().getFirst().headers();
        assertThat(received.first("host"))
                .as("the upstream's DNS name, no port")
                .contains("localhost");
        assertThat(received.all("x-forwarded-host"))
                .as("the client's own value never reaches the upstream")
                .containsExactly(DemoGateway.HOST);
    }

    @Test
    void corsPreflight_isAnsweredByTheCorsFilter_withoutACheckOrTheUpstream() throws Exception {
        accounts.clear();
        Exchange exchange = gateway.send(DownstreamRequest.get(
                        DemoGateway.HOST,
                        "/demo/v2/accounts",
                        "origin",
                        DemoGateway.ALLOWED_ORIGIN,
                        "access-control-request-method",
                        "GET",
                        "access-control-request-headers",
                        "authorization")
                .withMethod("OPTIONS"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        assertThat(exchange.header("access-control-allow-origin")).contains(DemoGateway.ALLOWED_ORIGIN);
        assertThat(exchange.header("access-control-allow-methods").orElseThrow())
                .contains("GET");
        assertThat(exchange.header("access-control-allow-headers").orElseThrow())
                .contains("authorization");
        assertThat(exchange.steps()).noneMatch(s -> s.contains("ext_authz: Check"));
        assertThat(accounts.received()).isEmpty();
    }

    @Test
    void sunsetVersion_readByAnAllowedOrigin_carriesItsCorsHeaders() throws Exception {
        // Envoy's CORS filter skips direct responses (review 3, R3-01): the 410 must carry the headers itself
        Exchange exchange = gateway.send(
                DownstreamRequest.get(DemoGateway.HOST, "/demo/v0/accounts", "origin", DemoGateway.ALLOWED_ORIGIN));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(410);
        assertThat(exchange.header("access-control-allow-origin")).contains(DemoGateway.ALLOWED_ORIGIN);
        assertThat(exchange.header("access-control-expose-headers").orElseThrow())
                .contains("sunset");

        // a suffix-pattern origin: the 410 writes back the origin that matched (%REQ(origin)%)
        Exchange preview = gateway.send(DownstreamRequest.get(
                DemoGateway.HOST, "/demo/v0/accounts", "origin", "https://pr-7.preview.demo.test"));
        assertThat(preview.status()).as(preview.describe()).isEqualTo(410);
        assertThat(preview.header("access-control-allow-origin")).contains("https://pr-7.preview.demo.test");

        Exchange other = gateway.send(
                DownstreamRequest.get(DemoGateway.HOST, "/demo/v0/accounts", "origin", "https://evil.example"));
        assertThat(other.status()).as(other.describe()).isEqualTo(410);
        assertThat(other.header("access-control-allow-origin")).isEmpty();
    }

    @Test
    void gatewayPrefix_endsAtASegment_soANeighbouringPathIsNotThatRoute() throws Exception {
        // /demo/v2/ledger must not authorise and route /demo/v2/ledgerAdmin (review 3, R3-08)
        ledger.clear();
        Exchange neighbour =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/ledgerAdmin"), "t-prefix"));
        assertThat(neighbour.status()).as(neighbour.describe()).isEqualTo(404);
        // only the virtual host's catch-all 404 (review 3, R3-09) takes it, never the ledger route
        assertThat(neighbour.route()).endsWith(".not-found");

        Exchange below = gateway.send(
                authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/ledger/entries?x=1"), "t-prefix"));
        assertThat(below.status()).as(below.describe()).isEqualTo(200);
        assertThat(ledger.received()).hasSize(1);
    }

    @Test
    void corsPreflightFromAnotherOrigin_getsNoAllowOrigin_andIsNotForwarded() throws Exception {
        Exchange exchange = gateway.send(DownstreamRequest.get(
                        DemoGateway.HOST,
                        "/demo/v2/accounts",
                        "origin",
                        "https://evil.example",
                        "access-control-request-method",
                        "DELETE")
                .withMethod("OPTIONS"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        assertThat(exchange.header("access-control-allow-origin")).isEmpty();
        assertThat(exchange.upstreamReached()).isFalse();
    }

    @Test
    void corsRequestFromTheAllowedOrigin_canReadEvenItsDenial() throws Exception {
        Exchange exchange = gateway.send(DownstreamRequest.get(
                DemoGateway.HOST, "/demo/v2/accounts", "origin", DemoGateway.ALLOWED_ORIGIN, "x-tenant-id", "t-cors"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(401);
        assertThat(exchange.header("access-control-allow-origin")).contains(DemoGateway.ALLOWED_ORIGIN);
    }

    @Test
    void headerNamesWithUnderscores_areRejected400_beforeAuthz() throws Exception {
        // x_tenant_id must never reach an upstream that reads it as x-tenant-id
        Exchange exchange =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts"), "t-underscore")
                        .with("x_tenant_id", "other-tenant"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(400);
        assertThat(exchange.upstreamReached()).isFalse();
        assertThat(exchange.steps()).noneMatch(s -> s.contains("ext_authz: Check"));
    }

    @Test
    void escapedSlashesInThePath_areRejected400() throws Exception {
        for (String path : List.of("/demo/v2/accounts%2F..%2Fadmin", "/demo/v2/accounts%5c7", "/demo%2fv2/accounts")) {
            Exchange exchange = gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, path), "t-slash"));
            assertThat(exchange.status()).as(path + ": " + exchange.describe()).isEqualTo(400);
            assertThat(exchange.upstreamReached()).isFalse();
        }
    }

    @Test
    void clientSentRequestIdAndEnvoyHeaders_areReplacedAtTheEdge() throws Exception {
        accounts.clear();
        Exchange exchange = gateway.send(authorized(
                DownstreamRequest.get(
                        DemoGateway.HOST,
                        "/demo/v2/accounts",
                        "x-request-id",
                        "forged-id",
                        "x-envoy-retry-on",
                        "5xx",
                        "x-envoy-upstream-rq-timeout-ms",
                        "1"),
                "t-edge"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        assertThat(exchange.requestId()).isNotEqualTo("forged-id");
        UpstreamServer.Received seen = accounts.received().getLast();
        assertThat(seen.headers().first("x-request-id")).contains(exchange.requestId());
        assertThat(seen.headers().names())
                .noneMatch(n -> n.startsWith("x-envoy-retry") || n.equals("x-envoy-upstream-rq-timeout-ms"));
        assertThat(AuditTrail.of(stack.database()::getConnection, "forged-id").rows())
                .isEmpty();
    }

    @Test
    void deniedRequest_isEncodedThroughExtProc_andStillReachesTheClientAs401() throws Exception {
        // a local reply runs the whole encoder chain (filter_manager.cc): ext_proc opens a stream for the 401 alone
        Exchange exchange =
                gateway.send(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts", "x-tenant-id", "t-401-dlp"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(401);
        assertThat(exchange.steps())
                .anyMatch(s -> s.contains("ext_proc: stream opened in encodeHeaders for the local reply 401"));
        assertThat(exchange.body()).contains("missing_credential");
    }

    @Test
    void unroutedPath_getsTheCatchAll404_withoutACheckOrADlpStream() throws Exception {
        Exchange exchange = gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/no/such/api"), "t-nr"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(404);
        assertThat(exchange.upstreamReached()).isFalse();
        assertThat(exchange.steps()).noneMatch(s -> s.contains("ext_authz: Check"));
        assertThat(exchange.steps()).as(exchange.describe()).noneMatch(s -> s.contains("ext_proc: stream"));
    }

    @Test
    void dlpBlockedRequest_stillCarriesTheRateLimitHeaders() throws Exception {
        // ext_authz's encodeHeaders sets the OK Check's response headers on every response, local replies included
        Exchange exchange = gateway.send(authorized(
                DownstreamRequest.withBody(
                        "POST",
                        DemoGateway.HOST,
                        "/demo/v2/accounts/import",
                        "{\"key\":\"" + PRIVATE_KEY.replace("\n", "\\n") + "\"}",
                        "content-type",
                        "application/json"),
                "t-key-headers"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(403);
        assertThat(exchange.header("ratelimit-policy")).as(exchange.describe()).isPresent();
        assertThat(exchange.header("x-ratelimit-limit")).contains("5");
    }

    @Test
    void edgeHeaderCleanUp_overwritesForwardedProto_keepsEnvoyHeadersOffTheList_dropsHopByHop() throws Exception {
        accounts.clear();
        Exchange exchange = gateway.send(authorized(
                DownstreamRequest.get(
                        DemoGateway.HOST,
                        "/demo/v2/accounts",
                        "x-forwarded-proto",
                        "https",
                        "x-envoy-original-path",
                        "/kept",
                        "keep-alive",
                        "timeout=5",
                        "proxy-connection",
                        "keep-alive"),
                "t-hop"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        UpstreamServer.Received seen = accounts.received().getLast();
        assertThat(seen.headers().all("x-forwarded-proto")).containsExactly("http");
        assertThat(seen.headers().first("x-envoy-original-path")).contains("/kept");
        assertThat(seen.headers().names()).doesNotContain("keep-alive", "proxy-connection");
    }

    /**
     * The route's timeout is a deadline for the whole upstream response: Envoy's router answers 504 "upstream request
     * timeout" and logs response flag UT (envoyproxy/envoy source/common/router/router.cc {@code onResponseTimeout},
     * {@code StreamInfo::CoreResponseFlag::UpstreamRequestTimeout}), and never retries it. The gRPC access log carries
     * the flag as {@code upstream_request_timeout}, which the api_call row names.
     */
    @Test
    void upstreamSlowerThanTheRouteTimeout_gets504_andTheApiCallRowCarriesFlagUT() throws Exception {
        slowReports.clear();
        Exchange exchange = gateway.send(
                authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/reports/daily"), "t-timeout"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(504);
        assertThat(exchange.body()).isEqualTo("upstream request timeout");
        assertThat(exchange.route()).isEqualTo("demo.v2.slow-report");
        assertThat(slowReports.received())
                .as("one attempt, no retry of the global timeout")
                .hasSizeLessThanOrEqualTo(1);
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(AuditTrail.of(stack.database()::getConnection, exchange.requestId())
                                .ofKind("api_call"))
                        .anySatisfy(r -> {
                            assertThat(r.status()).isEqualTo(504);
                            assertThat(r.route()).isEqualTo("slow-report");
                            assertThat(r.details()).contains("response_flags", "upstream_request_timeout");
                        }));
    }

    /** {@code text} cut into {@code size}-byte chunks, the way a client writes it piece by piece. */
    private static List<byte[]> chunked(String text, int size) {
        byte[] all = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < all.length; i += size) {
            out.add(java.util.Arrays.copyOfRange(all, i, Math.min(all.length, i + size)));
        }
        return out;
    }

    private static DownstreamRequest chunkedPost(String path, String text, int chunkSize) {
        List<byte[]> chunks = chunked(text, chunkSize);
        return new DownstreamRequest(
                "POST",
                DemoGateway.HOST,
                path,
                io.meshguard.emulator.Headers.of(
                        "content-type",
                        "application/json",
                        "content-length",
                        Integer.toString(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length)),
                chunks);
    }

    /** About {@code bytes} of harmless JSON text. */
    private static String padding(int bytes) {
        return "lorem ipsum dolor sit amet consectetur ".repeat(bytes / 39 + 1);
    }

    /**
     * A client that writes an 80 KiB body in 1 KiB chunks right behind its headers: the chunks arrive while the Check
     * is pending and are held there (the connection manager stops reading above the listener's 32 KiB buffer limit and
     * reads again as ext_proc drains it: DownstreamBody), then stream to the DLP server while its headers answer may
     * still be pending (ext_proc.cc onData, FULL_DUPLEX_STREAMED). The upstream gets every byte exactly once, in the
     * client's order, and only what the DLP server returned.
     */
    @Test
    void bodySentWhileTheChecksArePending_reachesTheUpstreamWhole_inOrder_throughDlp() throws Exception {
        accounts.clear();
        String text = "{\"note\":\"" + padding(80 * 1024) + "\"}";
        Exchange exchange = gateway.send(authorized(chunkedPost("/demo/v2/accounts/import", text, 1024), "t-chunks"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        assertThat(exchange.steps())
                .as(exchange.describe())
                .anyMatch(s -> s.contains("arrived while the Check was pending") && s.contains("watermark"));
        assertThat(exchange.steps())
                .anyMatch(s -> s.contains("body pieces streamed while the headers answer is pending"));
        UpstreamServer.Received seen = accounts.received().getLast();
        assertThat(seen.complete()).isTrue();
        assertThat(seen.bodyText()).isEqualTo(text);
    }

    /**
     * The same client with a private key 40 KiB into its body, cut across chunk boundaries: the DLP server still finds
     * it and blocks, and whatever reached the upstream before the block is a prefix of the client's body without any
     * piece of the key.
     */
    @Test
    void privateKeyCutAcrossChunksSentWhileTheChecksArePending_isBlocked_noPieceOfItUpstream() throws Exception {
        accounts.clear();
        String key = PRIVATE_KEY.replace("\n", "\\n");
        String text = "{\"note\":\"" + padding(40 * 1024) + "\",\"key\":\"" + key + "\"}";
        Exchange exchange =
                gateway.send(authorized(chunkedPost("/demo/v2/accounts/import", text, 1000), "t-chunks-key"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(403);
        assertThat(exchange.body()).doesNotContain("PRIVATE KEY");
        await().during(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(accounts.received()).allSatisfy(r -> {
                    assertThat(text)
                            .as("in order, nothing the client did not send there")
                            .startsWith(r.bodyText());
                    assertThat(r.bodyText())
                            .doesNotContain("BEGIN")
                            .doesNotContain("MIIEpAIBAAKCAQEA")
                            .doesNotContain("PRIVATE");
                    assertThat(r.complete()).isFalse();
                }));
    }

    @Test
    void fragmentInThePath_isRejected400_atTheGateway() throws Exception {
        Exchange exchange =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts#x"), "t-frag"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(400);
        assertThat(exchange.upstreamReached()).isFalse();
        // Envoy's own 400, before any filter (extauthz's canonical path would refuse it too, but never sees it)
        assertThat(exchange.steps()).noneMatch(s -> s.contains("ext_authz: Check"));
    }

    @Test
    void websocketUpgrade_isRefused403_theGatewayHasNoUpgradeConfigs() throws Exception {
        Exchange exchange = gateway.send(authorized(
                DownstreamRequest.get(
                        DemoGateway.HOST,
                        "/demo/v2/accounts",
                        "connection",
                        "Upgrade",
                        "upgrade",
                        "websocket",
                        "sec-websocket-version",
                        "13",
                        "sec-websocket-key",
                        "dGhlIHNhbXBsZSBub25jZQ=="),
                "t-ws"));

        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(403);
        assertThat(exchange.upstreamReached()).isFalse();
        assertThat(exchange.steps()).noneMatch(s -> s.contains("ext_authz: Check"));
    }

    @Test
    @Order(Integer.MAX_VALUE - 1)
    void demo_playsEveryJourneyAgainstTheStack_andShowsWhatEachPartDid() throws Exception {
        // last; the demo adds its group beside this class's (same APIs, its own upstreams): this group keeps serving
        java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
        int exit = io.meshguard.devstack.demo.DemoCommand.play(
                stack.demoTarget(), new java.io.PrintStream(text, true, java.nio.charset.StandardCharsets.UTF_8));
        String out = text.toString(java.nio.charset.StandardCharsets.UTF_8);

        assertThat(exit).as(out).isZero();
        assertThat(out)
                .contains(
                        "an EMULATION of an Envoy gateway",
                        "authorization=(stripped)",
                        "missing_credential",
                        "insufficient_role",
                        "deprecation: @",
                        "client received  410",
                        "the upstream received 0 body bytes",
                        "dlp_finding mask",
                        "route accounts-read",
                        "access-control-allow-origin: " + DemoGateway.ALLOWED_ORIGIN,
                        "demo-quotes-canary=",
                        "authz_decision allow");
        // step 11, API products: pending until approved, the plan's quota, a plan change, a suspension
        assertThat(out.substring(out.indexOf("== 11."), out.indexOf("== 12.")))
                .contains("no_subscription", "subscription_pending", "client received  429", "subscription_suspended")
                .containsPattern("plan change[^\n]*\n  client received  200");
        // step 12, an OAuth2 client created in Keycloak through the catalogue: 200 with its token, 401 once revoked
        assertThat(out.substring(out.indexOf("== 12."), out.indexOf("== 13.")))
                .doesNotContain("skipped")
                .containsPattern("oauth2 [^\n]*\n  client received  200")
                .containsPattern("revoked [^\n]*\n  client received  401 [^\n]*credential_revoked")
                // meshguard's own answer passes the mesh's DLP unchanged: it names no credential id to redact
                .doesNotContain("REDACTED");
        // steps 13-15, an agent's MCP tool calls: allowed on the headers with the result's card masked, a tool the
        // agent's role may not call, a body naming another tool than its headers
        assertThat(out.substring(out.indexOf("== 13."), out.indexOf("== 14.")))
                .contains("client received  200", "authorization=(stripped)")
                .doesNotContain(DemoGateway.grouped(CARD));
        assertThat(out.substring(out.indexOf("== 14."), out.indexOf("== 15.")))
                .contains("upstream saw     nothing", "client received  403", "mcp_tool_not_allowed");
        assertThat(out.substring(out.indexOf("== 15.")))
                .contains("the upstream received 0 body bytes", "client received  400", "-32020");
        assertThat(out).doesNotContain(CARD).doesNotContain(EMAIL).doesNotContain("PRIVATE KEY");
        // this class's group still routes to its own backend, not to one of the demo's (closed once it ended)
        accounts.clear();
        Exchange after =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts/5"), "t-after"));
        assertThat(after.status()).as(after.describe()).isEqualTo(200);
        assertThat(accounts.received()).hasSize(1);
    }

    /**
     * The products walk-through's block (docs/products.md, linked from the README's tour), as a newcomer pastes it
     * after the demo: bash runs it verbatim in an empty directory,
     * where {@code ./meshguard} is this build's CLI pointed at the stack (what {@code up.json} tells a real up's CLI).
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void productsDocsBlock_runsVerbatimAgainstTheStack() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "products.md"));
        int heading = doc.indexOf("## Try it: API products, from a product file");
        assertThat(heading).as("docs/products.md's walk-through section").isPositive();
        int open = doc.indexOf("```sh\n", heading) + "```sh\n".length();
        String block = doc.substring(open, doc.indexOf("\n```", open) + 1);
        Path dir = Files.createTempDirectory("readme-products");
        Path cli = dir.resolve("meshguard");
        Files.writeString(
                cli,
                "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java")
                        + "' -cp '" + System.getProperty("java.class.path") + "' io.meshguard.cli.Main \"$@\" --url '"
                        + stack.xdsAdminUrl() + "' --token-file '" + stack.adminTokenFile() + "'\n");
        cli.toFile().setExecutable(true);
        Process bash = new ProcessBuilder("bash", "-euo", "pipefail", "-c", block)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(bash.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(bash.waitFor(120, TimeUnit.SECONDS)).isTrue();

        assertThat(bash.exitValue())
                .as("docs/products.md's products block:\n%s\n---\n%s", block, out)
                .isZero();
        assertThat(out)
                .contains("\"state\" : \"published\"")
                .contains("charges.dev.local.api.")
                .contains("\"quotas\"")
                .contains("\"refused_by_reason\"");
    }

    @Test
    @Order(Integer.MAX_VALUE - 2)
    void postgresStoppedMidScenario_losesNoAuditRow_theSpoolReplaysWhenItReturns() throws Exception {
        List<Exchange> exchanges = new ArrayList<>();
        Exchange before =
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts/1"), "t-outage"));
        assertThat(before.status())
                .as("the request before the outage: " + before.describe())
                .isEqualTo(200);
        exchanges.add(before);
        PG.stopServer();
        try {
            for (int i = 0; i < 5; i++) {
                Exchange during = gateway.send(authorized(DemoChat.completion("{\"stream\":true}"), "t-outage"));
                assertThat(during.status())
                        .as("requests are served while the database is away: " + during.describe())
                        .isEqualTo(200);
                exchanges.add(during);
            }
        } finally {
            PG.startServer();
        }
        try {
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        for (Exchange e : exchanges) {
                            assertThat(AuditTrail.of(stack.database()::getConnection, e.requestId())
                                            .kinds())
                                    .as("rows of " + e.requestId())
                                    .contains("authz_decision", "api_call");
                        }
                    });
        } catch (ConditionTimeoutException missing) {
            throw new AssertionError(AuditRowsReport.of(stack, "t-outage", exchanges), missing);
        }
        for (Exchange e : exchanges.subList(1, exchanges.size())) {
            assertThat(AuditTrail.of(stack.database()::getConnection, e.requestId())
                            .kinds())
                    .as("the stream's DLP finding")
                    .contains("dlp_finding");
        }
    }
}
