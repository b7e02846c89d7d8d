package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.access.AuthMethod;
import io.meshguard.access.Person;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.runtime.policy.PolicySource;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.approval.PolicyBundle;
import io.meshguard.xds.approval.PolicyChanges;
import io.meshguard.xds.approval.PolicyRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The journey in a real headless Chromium, signed in through a real Keycloak: acme's payment traffic is decided
 * by a real extauthz over gRPC and recorded by the audit writer in a real PostgreSQL; the security team's sally
 * requests a tightened policy; alice (system-admin of the shipped access.yaml) reads on Policy changes that 12
 * decisions of tenant acme on route payments-write would now be denied by rule writes-freeze, drills down to the
 * sample rows, and rejects; sally's fix flips nothing and alice approves it. Both decisions are admin-trail rows.
 */
@IntegrationTest
class PolicyRequestBrowserTest {
    static final String IN_FORCE = """
            rate_limits:
              default_tier: free
              tiers: {free: {requests_per_second: 1000, burst: 1000}}
            routes:
              - {name: payments-write, match: {path_prefix: /payments, methods: [POST]}, auth: apikey}
              - {name: payments-read, match: {path_prefix: /payments}, auth: apikey}
            """;
    static final String TIGHTENED = IN_FORCE + """
            deny:
              - {name: writes-freeze, match: {path_prefix: /payments, methods: [POST]}}
            """;
    static final String FIXED = IN_FORCE + """
            deny:
              - {name: writes-freeze, match: {path_prefix: /payments/admin, methods: [POST]}}
            """;
    static final int WRITES = 12;
    static final int READS = 3;
    /** The security team's requester: not a console user here, she asks through the admin API's service. */
    static final Person SALLY = new Person("oidc test sally", "sally", AuthMethod.OIDC);

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static KeycloakSignedConsole console;
    static ExtAuthzServer extauthz;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        Chromium.requireInstalled();
        console = KeycloakSignedConsole.create("/console-realm.json", "console", "xds-console", PG.dataSource(), tmp);
        base = console.base();
        console.startConsole(Optional.empty());
        Path policy = tmp.resolve("authz.yaml");
        Files.writeString(policy, IN_FORCE);
        extauthz = new ExtAuthzServer(
                ExtAuthzConfig.onLoopback(policy, Duration.ofSeconds(1)),
                new SimpleMeterRegistry(),
                Optional.of(PG.dataSource()),
                new AuditSinkDecisions(console.auditWriter()),
                Clock.systemUTC());
        extauthz.start();
        String key = new ApiKeyService(new JdbcApiKeyStore(PG.dataSource()), Clock.systemUTC())
                .create("acme-checkout", "svc", "acme", List.of(), List.of(), "free", Optional.empty())
                .text();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", extauthz.grpcPort())
                .usePlaintext()
                .build();
        try {
            for (int i = 0; i < WRITES + READS; i++) {
                boolean write = i < WRITES;
                assertThat(AuthorizationGrpc.newBlockingStub(channel)
                                .withDeadlineAfter(Duration.ofSeconds(30))
                                .check(CheckRequests.of(
                                        write ? "POST" : "GET",
                                        "payments.example",
                                        write ? "/payments/charges" : "/payments/charges/1",
                                        Map.of("x-api-key", List.of(key), "x-request-id", List.of("pay-" + i)),
                                        Map.of(),
                                        CheckRequests.Encoding.HEADERS))
                                .hasOkResponse())
                        .isTrue();
            }
        } finally {
            channel.shutdownNow();
        }
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() ->
                        PG.dsl().fetchCount(PG.dsl().selectFrom("audit_event").where("kind = 'authz_decision'"))
                                == WRITES + READS);
    }

    @AfterAll
    static void stop() {
        if (extauthz != null) {
            extauthz.close();
        }
        if (console != null) {
            console.close();
        }
    }

    @Test
    void tightenedDraft_showsAcmeFlipsBesideTheDiff_approverDrillsDownAndRejects_thenApprovesTheFixWithNoFlips()
            throws Exception {
        PolicyChanges changes = console.xds().adminServices().policyChanges();
        PolicyRequest tightened = changes.request(SALLY, "req-1", files(TIGHTENED), "freeze payment writes");
        assertThat(tightened.report()).isPresent();

        try (Chromium alice = Chromium.start()) {
            alice.signIn(base, "alice", "/console/policy-requests");
            assertThat(alice.waitFor(By.cssSelector("nav")).getText()).contains("Policy changes");
            assertThat(alice.waitFor(By.id("policy-request-" + tightened.id())).getText())
                    .contains("sally")
                    .contains(WRITES + " of " + (WRITES + READS));
            alice.driver.findElement(By.linkText("#" + tightened.id())).click();

            assertThat(alice.waitFor(By.cssSelector("[data-counts]")).getText())
                    .contains((WRITES + READS) + " decisions")
                    .contains(WRITES + " flipped");
            WebElement group = alice.waitFor(By.cssSelector("#flip-groups li[data-group='0']"));
            assertThat(group.getText())
                    .contains(WRITES + " decisions of tenant acme on route payments-write")
                    .contains("allow 200 -> deny")
                    .contains("deny:writes-freeze");
            // the report stands beside the diff that causes it
            assertThat(alice.driver.findElement(By.id("policy-diff")).getText())
                    .contains("+  - {name: writes-freeze, match: {path_prefix: /payments, methods: [POST]}}");
            assertThat(alice.seriousAccessibilityViolations()).isEmpty();
            alice.screenshot("policy-request-flips");

            group.findElement(By.tagName("a")).click();
            WebElement rows = alice.waitFor(By.id("sample-rows"));
            assertThat(rows.findElements(By.cssSelector("tbody tr"))).hasSize(5);
            assertThat(rows.getText())
                    .contains("acme")
                    .contains("payments-write")
                    .containsPattern("pay-([0-9]|1[01])\\b");
            alice.screenshot("policy-request-samples");

            alice.waitFor(By.id("decide-reason")).sendKeys("denies acme's checkout");
            alice.driver.findElement(By.cssSelector("#decide button.secondary")).click();
            alice.waitForText(By.cssSelector(".flash"), "rejected");
            assertThat(alice.driver.findElement(By.cssSelector("[data-state]")).getText())
                    .isEqualTo("rejected");
            assertThat(alice.driver.findElements(By.id("decide"))).isEmpty();
        }

        PolicyRequest fixed = changes.request(SALLY, "req-2", files(FIXED), "freeze admin writes only");
        try (Chromium alice = Chromium.start()) {
            alice.signIn(base, "alice", "/console/policy-requests/" + fixed.id());
            assertThat(alice.waitFor(By.cssSelector("[data-counts]")).getText()).contains("0 flipped");
            assertThat(alice.driver
                            .findElement(By.cssSelector("[data-no-flips]"))
                            .getText())
                    .contains("No recorded decision would go otherwise");
            alice.waitFor(By.id("decide-reason")).sendKeys("no flips, CB-2");
            alice.driver
                    .findElement(By.cssSelector("#decide button[type=submit]:not(.secondary)"))
                    .click();
            alice.waitForText(By.cssSelector(".flash"), "approved");
            assertThat(alice.cspViolations()).isEmpty();
            alice.screenshot("policy-request-approved");
        }
        assertThat(PG.dsl()
                        .fetchOne("select digest from approved_policy order by approved_at desc limit 1")
                        .get(0, String.class))
                .isEqualTo(files(FIXED).digest());
        List<String> decisions = PG.dsl()
                .fetch("select action || ' ' || actor from admin_trail"
                        + " where action in ('policy-reject', 'policy-approve') order by seq")
                .getValues(0, String.class);
        assertThat(decisions).hasSize(2);
        assertThat(decisions.get(0)).startsWith("policy-reject alice");
        assertThat(decisions.get(1)).startsWith("policy-approve alice");
    }

    private static PolicyBundle files(String authzYaml) {
        return new PolicyBundle(List.of(new PolicySource("authz.yaml", authzYaml)));
    }
}
