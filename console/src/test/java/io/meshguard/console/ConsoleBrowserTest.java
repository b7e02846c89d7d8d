package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.AuditWriter;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.approval.FourEyesStore;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.server.NodeStatus;
import io.meshguard.xds.server.PgNodeStatusWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real headless Chromium, signed in through a real Keycloak as three personas of the shipped
 * {@code policies/access.yaml}: alice (system-admin), pete (gateway-owner of group {@code local}) and dora (auditor).
 * The tests walk one change in order: alice asks to publish to the protected group, pete approves it and the live
 * badge moves, a diff, alice rolls back, dora searches the audit; each screen passes axe-core with no serious or
 * critical violation and without a CSP report. Screenshots go to {@code target/console-screenshots}.
 */
@IntegrationTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
    private static final String GROUP = "local";
    /** A Keycloak subject: what the console shows only on hover, never after a person's name. */
    private static final String SUBJECT = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static XdsController xds;
    static KeycloakSignedConsole console;
    static AuditWriter auditWriter;
    static String base;
    static long initialRevision;

    @BeforeAll
    static void start() throws Exception {
        Chromium.requireInstalled();
        console = KeycloakSignedConsole.create("/console-realm.json", "console", "xds-console", PG.dataSource(), tmp);
        xds = console.xds();
        auditWriter = console.auditWriter();
        base = console.base();
        console.startConsole(Optional.empty());

        // group local serves the sample less one route; then it is protected and the draft gains the route back
        GatewayConfig sample = XdsController.sampleConfig();
        GatewayConfig initial = new GatewayConfig(
                sample.groups(),
                sample.upstreams(),
                sample.apis(),
                sample.routes().stream()
                        .filter(r -> !r.name().equals("status-health"))
                        .toList());
        xds.draft().replace(initial);
        initialRevision = xds.publisher()
                .publish(initial, "setup", "initial configuration")
                .revisions()
                .get(GROUP)
                .id();
        new FourEyesStore(PG.dataSource()).protect(GROUP, "setup", "change board: two people per change");
        xds.draft().replace(sample);

        try (PgNodeStatusWriter nodes = new PgNodeStatusWriter(PG.dataSource(), "zone-eu")) {
            nodes.changed(new NodeStatus(
                    "gateway-a",
                    "spiffe://cluster.local/ns/istio-system/sa/gateway",
                    GROUP,
                    true,
                    1,
                    "envoy/1.34.1",
                    Map.of(),
                    Optional.of(initialRevision),
                    Optional.empty(),
                    Instant.now()));
            nodes.changed(new NodeStatus(
                    "gateway-b",
                    "spiffe://cluster.local/ns/istio-system/sa/gateway",
                    GROUP,
                    false,
                    0,
                    "envoy/1.33.0",
                    Map.of(),
                    Optional.empty(),
                    Optional.of(new NodeStatus.Nack(
                            "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
                            "7",
                            "Proto constraint validation failed: <script>alert(1)</script>",
                            Instant.now().minusSeconds(900))),
                    Instant.now().minusSeconds(900)));
        }
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    @Order(1)
    void publishRequest_approvedByAnotherPerson_goesLive_andTheDiffShowsTheChange() throws Exception {
        try (Chromium alice = Chromium.start()) {
            alice.signIn(base, "alice");
            assertThat(alice.sameSiteOf(Console.SESSION_COOKIE))
                    .as("no other site's request carries the session")
                    .isEqualTo("Strict");
            alice.waitFor(By.id("publish-reason")).sendKeys("CHG-1042: expose the status health check");
            alice.driver.findElement(By.id("publish")).click();
            alice.waitForText(By.cssSelector(".flash"), "waits for a second person");
            assertThat(alice.driver.findElements(By.cssSelector("button[value=approve]")))
                    .as("the requester gets no approve button for her own request")
                    .isEmpty();
            assertThat(alice.seriousAccessibilityViolations()).isEmpty();
            alice.screenshot("revisions-request");
        }
        try (Chromium pete = Chromium.start()) {
            pete.signIn(base, "pete", "/console/revisions/" + GROUP);
            assertThat(pete.driver.findElements(By.id("publish")))
                    .as("publish is system scope: not pete's")
                    .isEmpty();
            assertThat(pete.driver.findElement(By.cssSelector("nav")).getText())
                    .contains("Revisions · local")
                    .doesNotContain("Fleet");
            // what an approval publishes, on the page where it is approved, rendered as the Compare screen renders it
            WebElement asked = pete.waitFor(By.cssSelector("[data-testid^=request-diff-]"));
            assertThat(asked.getText()).contains("routes[local/status-health]");
            assertThat(asked.findElement(By.cssSelector("table.diff tr.added")).getText())
                    .contains("added");
            // people by name; the verified subject only on hover
            WebElement requester = pete.driver.findElement(By.cssSelector("tr[id^=request-] [data-person]"));
            assertThat(requester.getText()).isEqualTo("alice");
            assertThat(requester.getAttribute("title")).matches(SUBJECT);
            assertThat(pete.driver
                            .findElement(By.cssSelector("tr[id^=request-]"))
                            .getText())
                    .doesNotContainPattern(SUBJECT);
            pete.waitFor(By.cssSelector("input[id^=decide-reason-]")).sendKeys("reviewed with the change board");
            pete.driver.findElement(By.cssSelector("button[value=approve]")).click();
            pete.waitForText(By.cssSelector(".flash"), "approved");
            long live = xds.servedRevision(GROUP).orElseThrow();
            assertThat(live).isGreaterThan(initialRevision);
            assertThat(pete.driver
                            .findElement(By.cssSelector("[data-testid=live-local]"))
                            .getText())
                    .isEqualTo("revision " + live);
            assertThat(pete.driver.findElement(By.id("revision-" + live)).getText())
                    .contains("live")
                    .contains("pete")
                    .contains("CHG-1042")
                    .doesNotContainPattern(SUBJECT);

            pete.driver.findElement(By.id("diff-from")).sendKeys(String.valueOf(initialRevision));
            pete.driver.findElement(By.id("diff-to")).sendKeys(String.valueOf(live));
            pete.driver.findElement(By.id("compare")).click();
            pete.waitForText(By.id("diff"), "routes[local/status-health]");
            assertThat(pete.driver.findElement(By.cssSelector("#diff tr.added")).getText())
                    .contains("added");
            assertThat(pete.seriousAccessibilityViolations()).isEmpty();
            assertThat(pete.cspViolations()).isEmpty();
            pete.screenshot("revisions-approved-diff");
        }
    }

    @Test
    @Order(2)
    void rollback_needsTheTypedGroupName_thenServesTheOldRevisionAgain() throws Exception {
        long before = xds.servedRevision(GROUP).orElseThrow();
        try (Chromium alice = Chromium.start()) {
            alice.signIn(base, "alice");
            By row = By.id("revision-" + initialRevision);
            alice.waitFor(row).findElement(By.tagName("summary")).click();
            alice.driver.findElement(By.id("rb-reason-" + initialRevision)).sendKeys("INC-77: health check flaps");
            alice.driver.findElement(By.id("rb-confirm-" + initialRevision)).sendKeys("wrong-group");
            alice.driver
                    .findElement(By.cssSelector("#revision-" + initialRevision + " button.danger"))
                    .click();
            alice.waitForText(By.cssSelector(".flash.error"), "type the group name local");
            assertThat(xds.servedRevision(GROUP)).contains(before);

            alice.waitFor(row).findElement(By.tagName("summary")).click();
            alice.driver.findElement(By.id("rb-reason-" + initialRevision)).sendKeys("INC-77: health check flaps");
            alice.driver.findElement(By.id("rb-confirm-" + initialRevision)).sendKeys(GROUP);
            alice.driver
                    .findElement(By.cssSelector("#revision-" + initialRevision + " button.danger"))
                    .click();
            alice.waitForText(By.cssSelector(".flash"), "again, as revision");
            long now = xds.servedRevision(GROUP).orElseThrow();
            assertThat(now).isGreaterThan(before);
            assertThat(xds.revisions().get(now).orElseThrow().config())
                    .isEqualTo(
                            xds.revisions().get(initialRevision).orElseThrow().config());
            assertThat(alice.seriousAccessibilityViolations()).isEmpty();
            alice.screenshot("revisions-rolled-back");
        }
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "select count(*) from admin_trail where action = 'rollback' and actor like 'alice%'");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertThat(rs.getLong(1))
                    .as("the console's rollback is a row of the admin trail")
                    .isEqualTo(1);
        }
    }

    @Test
    @Order(3)
    void auditor_seesNoActions_isRefusedByTheServerAnyway_andSearchesTheAudit() throws Exception {
        assertThat(auditWriter.awaitWritten(Duration.ofSeconds(30))).isTrue();
        try (Chromium dora = Chromium.start()) {
            dora.signIn(base, "dora");
            assertThat(dora.driver.findElements(By.id("publish"))).isEmpty();
            assertThat(dora.driver.findElements(By.cssSelector("table.timeline details summary")))
                    .as("no rollback")
                    .isEmpty();
            assertThat(dora.post("/console/publish", "reason=sneaky", true))
                    .as("no revision:publish")
                    .isEqualTo(403);
            assertThat(dora.post("/console/rollback/" + initialRevision, "reason=x&confirm=local", true))
                    .isEqualTo(403);
            assertThat(dora.post("/console/publish", "reason=forged", false))
                    .as("no CSRF token")
                    .isEqualTo(403);

            // no page asked for: the auditor starts on Audit (docs/console.md), not on revisions it only reads
            dora.driver.get(base + "/console");
            assertThat(dora.driver.getCurrentUrl()).endsWith("/console/audit");
            dora.waitFor(By.id("f-route")).sendKeys("revision/");
            dora.driver.findElement(By.id("f-kind")).sendKeys("config_change");
            dora.driver.findElement(By.id("search")).click();
            dora.waitForText(By.id("results"), "rollback");
            assertThat(dora.driver.findElement(By.id("results")).getText())
                    .contains("approve")
                    .contains("pete");
            assertThat(dora.driver
                            .findElement(By.cssSelector("[data-testid=chain]"))
                            .getText())
                    .contains("chain intact");
            assertThat(dora.seriousAccessibilityViolations()).isEmpty();
            assertThat(dora.cspViolations()).isEmpty();
            dora.screenshot("audit-search");
        }
    }

    @Test
    @Order(4)
    void fleet_showsStatusFromLastSeen_andUpdatesOverServerSentEvents() throws Exception {
        try (Chromium alice = Chromium.start()) {
            alice.signIn(base, "alice");
            alice.driver.findElement(By.linkText("Fleet")).click();
            String first = alice.waitFor(By.id("fleet-updated")).getText();
            String rows = alice.driver.findElement(By.id("fleet-rows")).getText();
            assertThat(rows)
                    .contains("gateway-a")
                    .contains("gateway-b")
                    .contains("disconnected")
                    .contains("envoy")
                    .contains("1.34.1");
            assertThat(alice.driver.findElement(By.id("fleet-rows")).getText())
                    .as("NACK text is shown as text, never as markup")
                    .contains("<script>alert(1)</script>");
            // an event re-renders the rows a few seconds later
            alice.acrossPageSwaps(Duration.ofSeconds(20))
                    .until(d -> !d.findElement(By.id("fleet-updated")).getText().equals(first));
            assertThat(alice.seriousAccessibilityViolations()).isEmpty();
            assertThat(alice.cspViolations()).isEmpty();
            alice.screenshot("fleet");
        }
    }

    @Test
    @Order(5)
    void everyAnswer_carriesTheContentSecurityPolicy_andScreensNeedASession() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<String> page = client.send(
                HttpRequest.newBuilder(URI.create(base + "/console/revisions")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(303);
        assertThat(page.headers().firstValue("Location")).contains("/console/signin?next=%2Fconsole%2Frevisions");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
                .startsWith("default-src 'self'");
        HttpResponse<String> signIn = client.send(
                HttpRequest.newBuilder(URI.create(base + "/console/signin")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(signIn.headers().allValues("Set-Cookie")).anySatisfy(c -> assertThat(c)
                .startsWith(Console.SIGN_IN_COOKIE + "=")
                .contains("HttpOnly")
                .contains("SameSite=Lax"));
        HttpResponse<String> forged = client.send(
                HttpRequest.newBuilder(URI.create(base + "/console/publish"))
                        .header("Cookie", Console.SESSION_COOKIE + "=made-up")
                        .POST(HttpRequest.BodyPublishers.ofString("reason=x"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode())
                .as("an unknown session is sent to sign in")
                .isEqualTo(303);
    }
    /**
     * An operator's two read-only screens: the draft's problems with their stable codes and docs links, and traffic
     * figures computed from seeded audit rows (the gateway's api_call rows, DLP findings, a quota alert).
     */
    @Test
    @Order(6)
    void validate_showsTheDraftsProblemsWithCodes_andTrafficShowsTheAuditRows() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode tree = io.meshguard.xds.model.ConfigJson.mapper()
                .valueToTree(xds.draft().load());
        com.fasterxml.jackson.databind.node.ArrayNode routes =
                (com.fasterxml.jackson.databind.node.ArrayNode) tree.get("routes");
        // the same match as an existing route: storable (the draft's tables hold it), and a warning with a code
        com.fasterxml.jackson.databind.node.ObjectNode shadow = routes.get(0).deepCopy();
        shadow.put("name", "shadow");
        routes.add(shadow);
        xds.draft().replace(io.meshguard.xds.model.ConfigJson.mapper().treeToValue(tree, GatewayConfig.class));
        String api = shadow.get("api").asText();
        String version = shadow.get("version").asText();
        try (Connection c = PG.dataSource().getConnection()) {
            String call = "insert into audit_event (event_id, occurred_at, kind, tenant, route, status, latency_us, "
                    + "source, details) values (gen_random_uuid(), now() - interval '5 minutes', ?, 'acme', 'r', ?, "
                    + "?, 'gateway', cast(? as jsonb))";
            int[][] calls = {{200, 8}, {200, 12}, {200, 20}, {401, 3}, {403, 4}, {429, 2}, {429, 2}, {503, 900}};
            try (PreparedStatement ps = c.prepareStatement(call)) {
                for (int[] row : calls) {
                    ps.setString(1, "api_call");
                    ps.setInt(2, row[0]);
                    ps.setLong(3, row[1] * 1000L);
                    ps.setString(4, "{\"api\": \"" + api + "\", \"api_version\": \"" + version + "\"}");
                    ps.addBatch();
                }
                for (String detector : new String[] {"credit_card", "credit_card", "iban"}) {
                    ps.setString(1, "dlp_finding");
                    ps.setNull(2, java.sql.Types.INTEGER);
                    ps.setNull(3, java.sql.Types.BIGINT);
                    ps.setString(4, "{\"detector\": \"" + detector + "\"}");
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into quota_alert (quota, caller, period_start, "
                            + "threshold, used, quota_limit) values ('orders-daily', 'tenant:acme', current_date, 90, 930, 1000)")) {
                ps.executeUpdate();
            }
        }
        try (Chromium alice = Chromium.start()) {
            alice.signIn(base, "alice");
            alice.driver.findElement(By.linkText("Validate")).click();
            org.openqa.selenium.WebElement problem = alice.waitFor(By.cssSelector("tr[data-code='MG-ROUTE-030']"));
            assertThat(problem.getText())
                    .contains("warning")
                    .contains("same match as route")
                    .contains("routes[" + shadow.get("group").asText() + "/shadow]");
            assertThat(problem.findElement(By.linkText("MG-ROUTE-030")).getAttribute("href"))
                    .as("the console's own reference: no documentation site needed")
                    .isEqualTo(base + "/console/problem-codes#mg-route-030");
            assertThat(alice.driver
                            .findElement(By.cssSelector("[data-testid=summary]"))
                            .getText())
                    .containsPattern("[1-9]\\d* warning");
            assertThat(alice.seriousAccessibilityViolations()).isEmpty();
            assertThat(alice.cspViolations()).isEmpty();
            alice.screenshot("validate");
            problem.findElement(By.linkText("MG-ROUTE-030")).click();
            assertThat(alice.waitFor(By.id("mg-route-030")).getText())
                    .contains("MG-ROUTE-030")
                    .contains(io.meshguard.xds.validate.ProblemCode.ROUTE_SHADOWED.title());
            assertThat(alice.cspViolations()).isEmpty();

            alice.driver.findElement(By.linkText("Traffic & security")).click();
            String row = alice.waitFor(By.cssSelector("tr[data-api='" + api + "'][data-version='" + version + "']"))
                    .getText();
            // requests 8; 4xx 4; 5xx 1; 401 1; 403 1; 429 2; p95 of 2,3,4,8,12,20,900 ms and 2 ms again
            assertThat(row.split("\\s+")).containsSubsequence("8", "4", "1", "1", "1", "2");
            assertThat(row).contains(" ms");
            // the same calls over time: a server-rendered SVG chart per API, one point per 5 minutes
            org.openqa.selenium.WebElement chart =
                    alice.driver.findElement(By.cssSelector("figure.chart[data-api='" + api + "']"));
            assertThat(chart.getText()).contains("8 requests").contains("5 errors");
            assertThat(chart.findElement(By.cssSelector("polyline.requests"))
                            .getAttribute("points")
                            .split(" "))
                    .hasSize(12);
            assertThat(chart.findElement(By.cssSelector("polyline.latency")).getAttribute("points"))
                    .isNotBlank();
            assertThat(alice.driver
                            .findElement(By.cssSelector("tr[data-detector='credit_card']"))
                            .getText())
                    .contains("2");
            assertThat(alice.driver
                            .findElement(By.cssSelector("tr[data-caller='tenant:acme']"))
                            .getText())
                    .contains("orders-daily")
                    .contains("930")
                    .contains("93 %");
            assertThat(alice.seriousAccessibilityViolations()).isEmpty();
            assertThat(alice.cspViolations()).isEmpty();
            alice.screenshot("traffic");
        }
    }

    /**
     * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): sign-out sends the id token as
     * {@code id_token_hint}, so the issuer ends its session without asking and sends the browser back to the console;
     * the next console page then asks for the password again instead of signing the browser in silently.
     */
    @Test
    @Order(7)
    void signOut_endsTheIdentityProvidersSession_soTheNextPageAsksForThePasswordAgain() throws Exception {
        try (Chromium alice = Chromium.start()) {
            alice.signIn(base, "alice");
            alice.driver.findElement(By.cssSelector("form.signout button")).click();
            new WebDriverWait(alice.driver, Duration.ofSeconds(30))
                    .until(ExpectedConditions.urlToBe(base + "/console"));
            assertThat(alice.driver.findElement(By.tagName("main")).getText()).contains("Sign in");
            assertThat(alice.cspViolations()).isEmpty();

            alice.driver.get(base + "/console/revisions");
            alice.waitFor(By.id("password"));
            assertThat(alice.driver.getCurrentUrl())
                    .as("the issuer's login form, not a silent sign-in")
                    .doesNotStartWith(base);
        }
    }

    /**
     * The audit screen pages 50 events at a time, newest first, with every filter in the URL; the next page starts
     * after the last row shown (keyset), so events arriving meanwhile neither repeat nor hide rows of a page.
     */
    @Test
    @Order(8)
    void audit_showsFiftyEventsAPage_withTheFiltersInTheUrl_andAPageStaysPutWhileNewEventsArrive() throws Exception {
        Instant t0 = Instant.now().minus(Duration.ofMinutes(30));
        seedPagingEvents(t0, 0, 120);
        try (Chromium dora = Chromium.start()) {
            dora.signIn(base, "dora", "/console/audit?route=paging%2F&kind=config_change&since=2h");
            assertThat(dora.waitFor(By.cssSelector("[data-testid=count]")).getText())
                    .isEqualTo("50");
            java.util.List<String> first = requestIds(dora);
            assertThat(first).hasSize(50).startsWith("paging-119").endsWith("paging-70");

            dora.driver.findElement(By.id("older")).click();
            new WebDriverWait(dora.driver, Duration.ofSeconds(30)).until(ExpectedConditions.urlContains("before="));
            assertThat(dora.driver.getCurrentUrl())
                    .contains("route=paging%2F")
                    .contains("kind=config_change")
                    .contains("since=2h");
            java.util.List<String> second = requestIds(dora);
            assertThat(second)
                    .hasSize(50)
                    .startsWith("paging-69")
                    .endsWith("paging-20")
                    .doesNotContainAnyElementsOf(first);

            // ten newer events: the second page, reloaded, shows the same rows (OFFSET would shift it by ten)
            seedPagingEvents(t0, 200, 10);
            dora.driver.navigate().refresh();
            assertThat(requestIds(dora)).isEqualTo(second);

            dora.driver.findElement(By.id("older")).click();
            dora.waitForText(By.cssSelector("[data-testid=count]"), "20");
            assertThat(requestIds(dora)).startsWith("paging-19").endsWith("paging-0");
            assertThat(dora.driver.findElements(By.id("older")))
                    .as("the last page")
                    .isEmpty();
            dora.driver.findElement(By.id("newest")).click();
            dora.waitForText(By.cssSelector("[data-testid=count]"), "50");
            assertThat(requestIds(dora).get(0)).isEqualTo("paging-209");
            assertThat(dora.seriousAccessibilityViolations()).isEmpty();
            assertThat(dora.cspViolations()).isEmpty();
        }
    }

    /** {@code n} config changes on routes {@code paging/<i>}, request ids {@code paging-<i>}, one second apart. */
    private static void seedPagingEvents(Instant t0, int from, int n) throws Exception {
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "insert into audit_event (event_id, occurred_at, kind, route, request_id, source, details)"
                                + " values (gen_random_uuid(), ?, 'config_change', ?, ?, 'test', '{}'::jsonb)")) {
            for (int i = from; i < from + n; i++) {
                ps.setTimestamp(1, java.sql.Timestamp.from(t0.plusSeconds(i)));
                ps.setString(2, "paging/" + i);
                ps.setString(3, "paging-" + i);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** The request ids of the audit rows shown, in order. */
    /**
     * Proof of coverage per namespace: the auditor opens Coverage from the menu, sees the namespace with a request that
     * reached its pod without a Check before the covered one, and drills down to that request's id; a gateway owner
     * (no coverage:read) gets neither the menu entry nor the page.
     */
    @Test
    @Order(9)
    void coverage_showsEachNamespacesCounts_andDrillsDownToTheUncoveredRequestIds() throws Exception {
        Instant now = Instant.now();
        try (io.meshguard.audit.PostgresAuditStore store = new io.meshguard.audit.PostgresAuditStore(
                io.meshguard.audit.ConnectionSource.of(PG.dataSource()),
                io.meshguard.audit.BatchWriteMethod.COPY,
                Duration.ofSeconds(10))) {
            store.write(java.util.List.of(
                    meshCall("cov-1", "api.payments.svc.cluster.local", now.minusSeconds(300)),
                    meshCheck("cov-1", "api.payments.svc.cluster.local", now.minusSeconds(300)),
                    meshCall("cov-bypass", "api.payments.svc.cluster.local", now.minusSeconds(200)),
                    meshCall("cov-2", "reviews.shop.svc.cluster.local", now.minusSeconds(100)),
                    meshCheck("cov-2", "reviews.shop.svc.cluster.local", now.minusSeconds(100))));
        }
        try (Chromium dora = Chromium.start()) {
            dora.signIn(base, "dora");
            dora.driver.findElement(By.linkText("Coverage")).click();
            WebElement payments = dora.waitFor(By.cssSelector("section[data-namespace='payments']"));
            assertThat(payments.getAttribute("data-ok")).isEqualTo("false");
            assertThat(payments.findElement(By.tagName("h2")).getText()).contains("1 uncovered");
            assertThat(payments.findElement(By.cssSelector("tr[data-service='api.payments.svc.cluster.local']"))
                            .getText()
                            .split("\\s+"))
                    .as("protected, covered, unchecked, no DLP, unverifiable")
                    .containsSubsequence("2", "1", "1", "0", "0");
            assertThat(dora.driver
                            .findElement(By.cssSelector("section[data-namespace='shop']"))
                            .getAttribute("data-ok"))
                    .isEqualTo("true");
            assertThat(dora.driver
                            .findElements(By.cssSelector("section.coverage"))
                            .getFirst()
                            .getAttribute("data-namespace"))
                    .as("uncovered namespaces first")
                    .isEqualTo("payments");
            assertThat(dora.seriousAccessibilityViolations()).isEmpty();
            assertThat(dora.cspViolations()).isEmpty();
            dora.screenshot("coverage");

            payments.findElement(By.linkText("uncovered requests")).click();
            assertThat(dora.waitFor(By.cssSelector("tr[data-request-id='cov-bypass']"))
                            .getText())
                    .contains("no Check");
            assertThat(dora.driver.findElements(By.cssSelector("tr[data-request-id='cov-1']")))
                    .as("a checked request is not listed")
                    .isEmpty();
            assertThat(dora.seriousAccessibilityViolations()).isEmpty();
            assertThat(dora.cspViolations()).isEmpty();
        }
        try (Chromium pete = Chromium.start()) {
            pete.signIn(base, "pete", "/console/revisions/" + GROUP);
            assertThat(pete.driver.findElements(By.linkText("Coverage"))).isEmpty();
            pete.driver.get(base + "/console/coverage");
            assertThat(pete.driver.findElements(By.cssSelector("section.coverage")))
                    .isEmpty();
            assertThat(pete.driver.getPageSource()).doesNotContain("cov-bypass");
        }
    }

    // a sidecar's or waypoint's access-log row as the ALS receiver writes it
    private static io.meshguard.audit.AuditEvent meshCall(String requestId, String authority, Instant at) {
        return io.meshguard.audit.AuditEvent.builder(io.meshguard.audit.AuditKind.API_CALL)
                .occurredAt(at)
                .requestId(requestId)
                .method("GET")
                .authority(authority)
                .path("/items")
                .status(200)
                .detail("upstream_cluster", "inbound|9080||")
                .build();
    }

    private static io.meshguard.audit.AuditEvent meshCheck(String requestId, String authority, Instant at) {
        return io.meshguard.audit.AuditEvent.builder(io.meshguard.audit.AuditKind.AUTHZ_DECISION)
                .occurredAt(at)
                .requestId(requestId)
                .authority(authority)
                .decision("allow")
                .status(200)
                .detail("policy", Map.of())
                .build();
    }

    private static java.util.List<String> requestIds(Chromium browser) {
        return browser.driver.findElements(By.cssSelector("#results tbody tr td:nth-child(8)")).stream()
                .map(WebElement::getText)
                .toList();
    }
}
