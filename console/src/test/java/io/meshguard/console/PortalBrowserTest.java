package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.access.AdminGate;
import io.meshguard.access.TrailAdminEvents;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.api.CatalogSettings;
import io.meshguard.catalog.apikey.ApiKeyAdminApi;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.contract.RouteContract;
import io.meshguard.db.TenantScope;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.subscription.SubscriptionStateSettings;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.KeycloakServer;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.model.Route;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
import org.openqa.selenium.support.ui.Select;

/**
 * Approvals and the developer portal in a real headless Chromium, signed in through a real Keycloak (realm
 * {@code portal} of the shared server) as personas of the shipped {@code policies/access.yaml}: cora
 * (customer-admin of globex), bea (business-manager of acme, the provider), carl (api-consumer of globex) and gabe
 * (business-manager of globex, a provider of nothing here). In order: cora subscribes to a plan that needs approval,
 * bea approves it in Approvals, cora creates an API key that the page shows once, the key is used — a Check through
 * a real extauthz server following the controller's subscription state over ADS is allowed — and a reload does not
 * show it again; a rotation keeps the predecessor working for its overlap, a revocation stops it. Forged POSTs
 * without the permission are 403, another tenant's subscription is 404. Screenshots go to
 * {@code target/console-screenshots}. Set-up (cluster, product, plan, publish) goes through the catalogue's API as
 * sam (system-admin) and olga (org-admin of acme).
 */
@IntegrationTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PortalBrowserTest {
    private static final String GROUP = "local";
    /** The customer's application: a name a person would read, with markup that must stay text. */
    private static final String APP = "Globex web <i>beta</i>";

    private static final String SUBJECT = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    private static final Pattern KEY = Pattern.compile("mgk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}");

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static XdsController xds;
    static KeycloakSignedConsole console;
    static AuditWriter auditWriter;
    static ExtAuthzServer extauthz;
    static ManagedChannel channel;
    static CatalogStore store;
    static String base;
    static String subscription;
    static String key;
    static final Map<String, String> SETUP_TOKENS = new java.util.HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        Chromium.requireInstalled();
        console = KeycloakSignedConsole.create("/portal-realm.json", "portal", "xds-portal", PG.dataSource(), tmp);
        xds = console.xds();
        auditWriter = console.auditWriter();
        base = console.base();
        AdminGate gate = console.gate();
        // the catalogue and the API keys as up mounts them, every change a row of the hash-chained admin trail
        store = new CatalogStore(PG.dataSource());
        CatalogApi catalog = new CatalogApi(
                store,
                gate,
                new TrailAdminEvents(new AdminTrail(PG.dataSource())),
                Clock.systemUTC(),
                CatalogSettings.DOMAIN.defaultValue(),
                xds.productServing());
        ApiKeyAdminApi keys = new ApiKeyAdminApi(
                Optional.of(new JdbcApiKeyStore(PG.dataSource())), Clock.systemUTC(), gate, Optional.of(auditWriter));
        console.http().addHandler(CatalogApi.PREFIX, catalog);
        console.http().addHandler(ApiKeyAdminApi.PREFIX, keys);
        console.startConsole(Optional.of(new CatalogConsole(
                store,
                catalog.service(),
                new io.meshguard.catalog.api.ApplicationKeys(catalog.service(), keys.admin()),
                catalog.planChanges(),
                catalog.productApis())));

        // extauthz as a cluster runs it: API keys from PostgreSQL, product routes decided from the subscription state
        // the controller pushes over ADS, decisions into the audit log (the portal's usage reads them)
        Path policy = tmp.resolve("authz.yaml");
        Files.writeString(policy, """
                rate_limits:
                  default_tier: free
                  tiers:
                    free: {requests_per_second: 1000}
                routes:
                  - name: payments
                    match: {hosts: ['*.api.%s'], path_prefix: /}
                    auth: apikey
                    products_only: true
                """.formatted(CatalogSettings.DOMAIN.defaultValue()));
        extauthz = new ExtAuthzServer(
                ExtAuthzConfig.onLoopback(policy, Duration.ofSeconds(1))
                        .withSubscriptions(new SubscriptionStateSettings(
                                Optional.of("127.0.0.1:" + xds.adsPort()),
                                SubscriptionStateSettings.NONE.maxStaleness())),
                new SimpleMeterRegistry(),
                Optional.of(PG.dataSource()),
                new AuditSinkDecisions(auditWriter),
                Clock.systemUTC());
        extauthz.start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", extauthz.grpcPort())
                .usePlaintext()
                .build();

        try (Connection c = PG.dataSource().getConnection();
                var s = c.createStatement()) {
            s.execute("insert into tenant (id) values ('acme'), ('globex') on conflict do nothing");
            // a customer's name is text wherever it is shown, never markup
            s.execute("update tenant set display_name = 'Globex <b>Corp</b>' where id = 'globex'");
        }
        // acme's payments API on group local, and acme's product over it with a manual plan, published on local
        xds.draft().edit(x -> GatewayYaml.read("portal.yaml", """
                groups:
                  - {name: local, environment: dev, region: local, hostnames: [payments.local], listener_port: 8080,
                     proxyless_authz: off}
                upstreams:
                  - {name: payments-backend, protocol: http1, endpoints: [{address: payments.internal, port: 8443}]}
                apis:
                  - {name: payments, base_path: /payments, default_version: v1, versions: [{version: v1, status: active}]}
                routes:
                  - {name: charges, group: local, api: payments, version: v1, match: {path_prefix: /charges},
                     destinations: [{upstream: payments-backend, weight: 100}], authz_profile: payments}
                """), "acme");
        xds.publisher().publish(xds.draft().load(), "setup", "payments API, change board CB-4711");
        asUser(
                "sam",
                "PUT",
                "/v1/operator/clusters/local",
                "{\"region\": \"local\", \"gateway_groups\": {\"local\": [\"acme\"]}}");
        asUser("olga", "POST", "/v1/provider/products", """
                {"id": "payments", "tenant": "acme", "name": "Payments", "visibility": "public",
                 "description": "Card charges <b>in EUR</b>",
                 "operations": [{"id": "create-charge", "api": "payments", "method": "post", "path": "/charges"}]}""");
        asUser("olga", "POST", "/v1/provider/products/payments/state", "{\"state\": \"published\"}");
        asUser("olga", "POST", "/v1/provider/products/payments/plans", """
                {"name": "gold", "approval": "manual", "auth_modes": ["apikey"],
                 "limits": {"rates": [{"requests": 100, "per": "1m"}], "quota": {"period": "day", "limit": 1000}}}""");
        asUser("olga", "POST", "/v1/provider/plans/payments-gold/state", "{\"state\": \"published\"}");
        asUser("olga", "POST", "/v1/provider/products/payments/product-publishes", """
                {"cluster": "local", "environment": "dev", "auth_mode": "apikey", "gateway_group": "local"}""");
        asUser(
                "olga",
                "POST",
                "/v1/provider/product-publishes/payments-dev-local/state",
                "{\"state\": \"published\", \"reason\": \"pilot\"}");
    }

    /**
     * Set-up through the catalogue's own API over HTTP as {@code user} — sam (system-admin: clusters are system scope)
     * or olga (org-admin of acme: products, plans, publishes) — with a token of the realm's password-grant client
     * {@code portal-setup} (the console's client has no such grant).
     */
    private static String asUser(String user, String method, String path, String body) throws Exception {
        if (!SETUP_TOKENS.containsKey(user)) {
            HttpResponse<String> t = KeycloakServer.shared()
                    .token(
                            "portal",
                            Map.of(
                                    "grant_type",
                                    "password",
                                    "client_id",
                                    "portal-setup",
                                    "username",
                                    user,
                                    "password",
                                    user + "-pw"));
            assertThat(t.statusCode()).as(t.body()).isEqualTo(200);
            SETUP_TOKENS.put(user, KeycloakServer.jsonField(t.body(), "access_token"));
        }
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(base + path))
                                .header("Authorization", "Bearer " + SETUP_TOKENS.get(user))
                                .method(method, HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 201);
        return r.body();
    }

    @AfterAll
    static void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (extauthz != null) {
            extauthz.close();
        }
        if (console != null) {
            console.close();
        }
    }

    /** A charge on the product's host as Envoy asks extauthz: the context extensions the served route carries. */
    static CheckResponse charge(String apiKey) {
        long live = xds.servedRevision(GROUP).orElseThrow();
        Route route = xds.revisions().get(live).orElseThrow().config().routes().stream()
                .filter(r -> r.product().isPresent())
                .findFirst()
                .orElseThrow();
        Route.ProductBinding product = route.product().orElseThrow();
        return AuthorizationGrpc.newBlockingStub(channel)
                .withDeadlineAfter(Duration.ofSeconds(10))
                .check(CheckRequests.of(
                        "POST",
                        product.host(),
                        "/payments/v1/charges",
                        Map.of("x-api-key", List.of(apiKey)),
                        Map.of(
                                RouteContract.AuthzContext.AUTHZ_PROFILE,
                                route.authzProfile(),
                                RouteContract.AuthzContext.PRODUCT_PUBLISH,
                                product.publish(),
                                RouteContract.AuthzContext.PRODUCT_OPERATION,
                                product.operation()),
                        CheckRequests.Encoding.HEADERS));
    }

    static boolean allowed(CheckResponse r) {
        return r.getStatus().getCode() == 0;
    }

    @Test
    @Order(1)
    void customerSubscribesToAManualPlan_andTheProviderApprovesItInApprovals() throws Exception {
        try (Chromium cora = Chromium.start()) {
            // no next page asked for: signing in lands on the first screen her roles open, not on a 403
            cora.signIn(base, "cora", "/console");
            assertThat(cora.driver.getCurrentUrl()).endsWith("/console/portal");
            assertThat(cora.driver.findElement(By.cssSelector("nav")).getText())
                    .contains("Developer portal")
                    .doesNotContain("Approvals")
                    .doesNotContain("Revisions");
            assertThat(cora.driver.findElement(By.id("product-payments")).getText())
                    .as("the description is text, never markup")
                    .contains("Card charges <b>in EUR</b>")
                    .contains("needs the provider's approval")
                    .contains("1000 per day");
            cora.driver.findElement(By.id("app-name")).sendKeys(APP);
            cora.driver.findElement(By.id("create-app")).click();
            cora.waitForText(By.cssSelector(".flash"), "Application " + APP + " created");
            new Select(cora.driver.findElement(By.id("sub-plan-payments"))).selectByVisibleText("gold");
            cora.driver.findElement(By.id("subscribe-payments")).click();
            cora.waitForText(By.cssSelector(".flash"), "pending");
            subscription = store.subscriptions(TenantScope.ALL).stream()
                    .map(Subscription::id)
                    .findFirst()
                    .orElseThrow();
            assertThat(cora.driver.findElement(By.id("mysub-" + subscription)).getText())
                    .contains("pending");
            assertThat(cora.post("/console/provider/subscriptions/" + subscription + "/approve", "reason=self", true))
                    .as("a customer holds no subscription:approve")
                    .isEqualTo(403);
        }
        try (Chromium gabe = Chromium.start()) {
            gabe.signIn(base, "gabe", "/console/approvals");
            assertThat(gabe.driver.findElements(By.id("sub-" + subscription)))
                    .as("acme's row, never shown")
                    .isEmpty();
            assertThat(gabe.post("/console/provider/subscriptions/" + subscription + "/approve", "reason=x", true))
                    .as("another tenant's subscription")
                    .isEqualTo(404);
            assertThat(gabe.post("/console/provider/subscriptions/" + subscription + "/suspend", "reason=x", true))
                    .isEqualTo(404);
        }
        try (Chromium bea = Chromium.start()) {
            bea.signIn(base, "bea", "/console/approvals");
            assertThat(bea.driver.findElement(By.cssSelector("nav")).getText()).contains("Approvals");
            // the application and the customer by name, the ids on hover; who asked by name, not by subject
            WebElement row = bea.waitFor(By.id("sub-" + subscription));
            assertThat(row.getText())
                    .contains(APP)
                    .contains("Globex <b>Corp</b>")
                    .contains("cora")
                    .doesNotContain("app-")
                    .doesNotContain(subscription)
                    .doesNotContainPattern(SUBJECT);
            assertThat(row.findElement(By.cssSelector("[data-application]")).getAttribute("title"))
                    .startsWith("app-");
            assertThat(row.findElement(By.cssSelector("[data-customer]")).getAttribute("title"))
                    .isEqualTo("globex");
            assertThat(row.getAttribute("title")).isEqualTo("subscription " + subscription);
            assertThat(row.findElements(By.tagName("b")))
                    .as("names are text, never markup")
                    .isEmpty();
            bea.waitFor(By.id("decide-" + subscription)).sendKeys("KYC done, contract 2026-114");
            assertThat(bea.seriousAccessibilityViolations()).isEmpty();
            bea.screenshot("approvals");
            bea.driver
                    .findElement(By.cssSelector("#sub-" + subscription + " button[value=approve]"))
                    .click();
            bea.waitForText(By.cssSelector(".flash"), "approved");
            assertThat(bea.driver.findElement(By.id("sub-" + subscription)).getText())
                    .contains(APP)
                    .contains("active")
                    .doesNotContain("app-");
            assertThat(bea.cspViolations()).isEmpty();
        }
        assertThat(store.subscriptions(TenantScope.ALL).get(0).state()).isEqualTo(SubscriptionState.ACTIVE);
        assertThat(trailRows("subscription:approve", "bea"))
                .as("the API's trail row, by the console's caller")
                .isEqualTo(1);
    }

    @Test
    @Order(2)
    void customerCreatesAKey_seesItOnce_andTheKeyIsAdmittedByExtauthz() throws Exception {
        try (Chromium cora = Chromium.start()) {
            cora.signIn(base, "cora", "/console/portal");
            cora.driver.findElement(By.id("create-key")).click();
            cora.waitForText(By.cssSelector(".flash"), "shown this once");
            Matcher m = KEY.matcher(
                    cora.driver.findElement(By.cssSelector(".flash")).getText());
            assertThat(m.find())
                    .as("the key's text on the page after its creation")
                    .isTrue();
            key = m.group();
            String keyId = key.substring(4, 20);
            // the copy button: our static script (the CSP allows no inline one) puts the key on the clipboard
            assertThat(cora.driver.findElement(By.id("one-time-secret")).getText())
                    .isEqualTo(key);
            cora.driver.executeCdpCommand(
                    "Browser.grantPermissions",
                    Map.of("origin", base, "permissions", List.of("clipboardReadWrite", "clipboardSanitizedWrite")));
            cora.driver.findElement(By.id("copy-secret")).click();
            cora.waitForText(By.id("copy-status"), "Copied");
            Object copied = cora.driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
                    + " navigator.clipboard.readText().then(done, e => done('unreadable: ' + e));");
            assertThat(copied).isEqualTo(key);
            assertThat(cora.driver.findElements(By.cssSelector("script:not([src])")))
                    .as("no inline script")
                    .isEmpty();
            assertThat(cora.cspViolations()).isEmpty();
            assertThat(cora.driver.findElement(By.id("credentials")).getText())
                    .contains(keyId)
                    .contains("active");

            CheckResponse ok = await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200))
                    .ignoreExceptions()
                    .until(() -> charge(key), PortalBrowserTest::allowed);
            assertThat(allowed(ok)).isTrue();
            assertThat(allowed(charge("mgk_0123456789abcdef_" + "A".repeat(43))))
                    .as("a made-up key")
                    .isFalse();

            cora.driver.navigate().refresh();
            cora.waitFor(By.id("credentials"));
            assertThat(cora.driver.getPageSource()).as("never shown again").doesNotContain(key);
            // the call shows in the subscription's usage once the audit writer has stored its decision
            assertThat(auditWriter.awaitWritten(Duration.ofSeconds(30))).isTrue();
            cora.driver.navigate().refresh();
            assertThat(cora.waitFor(By.id("mysub-" + subscription)).getText())
                    .contains("active")
                    .contains("of 1000 per day");
            assertThat(cora.seriousAccessibilityViolations()).isEmpty();
            assertThat(cora.cspViolations()).isEmpty();
            cora.screenshot("portal");
        }
        try (Chromium carl = Chromium.start()) {
            carl.signIn(base, "carl", "/console/portal");
            assertThat(carl.driver.findElements(By.id("create-key")))
                    .as("an api-consumer reads only")
                    .isEmpty();
            assertThat(carl.driver.getPageSource()).doesNotContain(key);
            assertThat(carl.post("/console/customer/credentials", "application=x", true))
                    .isEqualTo(403);
            assertThat(carl.post("/console/customer/credentials", "application=x", false))
                    .as("no CSRF token")
                    .isEqualTo(403);
        }
    }

    @Test
    @Order(3)
    void rotation_keepsThePredecessorWorkingForItsOverlap_andRevocationStopsItAtOnce() throws Exception {
        String keyId = key.substring(4, 20);
        try (Chromium cora = Chromium.start()) {
            cora.signIn(base, "cora", "/console/portal");
            new Select(cora.driver.findElement(By.id("overlap-" + keyId))).selectByValue("1h");
            cora.driver
                    .findElement(By.cssSelector("#cred-" + keyId + " button.secondary"))
                    .click();
            cora.waitForText(By.cssSelector(".flash"), "rotated");
            Matcher m = KEY.matcher(
                    cora.driver.findElement(By.cssSelector(".flash")).getText());
            assertThat(m.find()).isTrue();
            String successor = m.group();
            assertThat(cora.driver.findElement(By.id("cred-" + keyId)).getText())
                    .contains("rotating");
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200))
                    .ignoreExceptions()
                    .until(() -> allowed(charge(successor)));
            assertThat(allowed(charge(key)))
                    .as("the predecessor, within its overlap")
                    .isTrue();

            cora.driver
                    .findElement(By.cssSelector("#cred-" + keyId + " summary"))
                    .click();
            cora.driver.findElement(By.id("revoke-reason-" + keyId)).sendKeys("laptop lost");
            cora.driver
                    .findElement(By.cssSelector("#cred-" + keyId + " button.danger"))
                    .click();
            cora.waitForText(By.cssSelector(".flash"), "revoked");
            assertThat(cora.driver.findElement(By.id("cred-" + keyId)).getText())
                    .contains("revoked");
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200))
                    .ignoreExceptions()
                    .until(() -> !allowed(charge(key)));
            assertThat(allowed(charge(successor)))
                    .as("the successor is untouched")
                    .isTrue();
        }
        assertThat(trailRows("credential:rotate", "cora")).isEqualTo(1);
        assertThat(trailRows("credential:revoke", "cora")).isEqualTo(1);
    }

    private static long trailRows(String action, String actor) throws Exception {
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps =
                        c.prepareStatement("select count(*) from admin_trail where action = ? and actor like ?")) {
            ps.setString(1, action);
            ps.setString(2, actor + "%");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * The timeline as a tenant's admin sees it: the revisions and the groups they serve, but not who published or
     * approved them and why, nor the publish requests (every tenant's changes and people).
     */
    @Test
    @Order(20)
    void revisionsScreen_toATenantsAdmin_namesNoPublisherReasonOrRequest() throws Exception {
        try (Chromium olga = Chromium.start()) {
            olga.signIn(base, "olga", "/console/revisions");
            String page = olga.driver.findElement(By.tagName("main")).getText();
            assertThat(page).contains("local").doesNotContain("CB-4711").doesNotContain("setup");
        }
    }

    /**
     * Two subscriptions at 100 % of their plan's day quota (extauthz's counters, as it stores them) are the callers
     * near a quota on Traffic & security, by application and customer name, not "no caller past 80 %" because only
     * policy quotas raise alerts.
     */
    @Test
    @Order(10)
    void trafficAndSecurity_listsSubscriptionsAtTheirPlansQuota_byName() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        String app = json.readTree(asUser(
                        "cora",
                        "POST",
                        "/v1/customer/applications",
                        "{\"name\": \"Globex batch <script>alert(1)</script>\"}"))
                .path("id")
                .asText();
        String second = json.readTree(asUser(
                        "cora",
                        "POST",
                        "/v1/customer/subscriptions",
                        "{\"application\": \"" + app
                                + "\", \"product_publish\": \"payments-dev-local\", \"plan\": \"payments-gold\"}"))
                .path("id")
                .asText();
        asUser("bea", "POST", "/v1/provider/subscriptions/" + second + "/approve", "{\"reason\": \"KYC done\"}");
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "insert into quota_usage (quota, caller, period_start, period, period_end, used)"
                                + " values ('subscription', ?, current_date, 'day', current_date + 1, 1000)"
                                + " on conflict (quota, caller, period_start) do update set used = 1000")) {
            for (Subscription s : store.subscriptions(TenantScope.ALL)) {
                ps.setString(1, s.quotaCaller());
                ps.executeUpdate();
            }
        }
        try (Chromium olga = Chromium.start()) {
            olga.signIn(base, "olga", "/console/traffic");
            String first = olga.waitFor(By.cssSelector("tr[data-caller='" + subscription + "']"))
                    .getText();
            assertThat(first)
                    .contains("plan gold")
                    .contains(APP)
                    .contains("Globex <b>Corp</b>")
                    .contains("1000")
                    .contains("100 %");
            assertThat(olga.driver
                            .findElement(By.cssSelector("tr[data-caller='" + second + "']"))
                            .getText())
                    .as("a name is text, never markup")
                    .contains("Globex batch <script>alert(1)</script>")
                    .contains("100 %");
            assertThat(olga.driver.findElements(By.cssSelector("[data-testid=quota-none]")))
                    .isEmpty();
            assertThat(olga.seriousAccessibilityViolations()).isEmpty();
            assertThat(olga.cspViolations()).isEmpty();
            olga.screenshot("traffic-plan-quotas");
        }
    }
}
