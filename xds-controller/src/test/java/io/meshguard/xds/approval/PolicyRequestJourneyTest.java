package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.LoggedAdminEvents;
import io.meshguard.access.RoleBindings;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.policy.LoadedPolicy;
import io.meshguard.runtime.policy.PolicyReload;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.LoopbackSettings;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.ConfigJson;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.jooq.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A policy change request's journey with real parts: a real PostgreSQL, extauthz deciding real gRPC Checks with
 * {@code policy.require_approval} on and its decisions written to the audit by the audit writer, the controller's
 * admin API over HTTP with OIDC tokens from a real JWKS server. The security team's sally tightens a rule in a draft;
 * the request's report shows the acme decisions on route payments-write that would now be denied by rule
 * writes-freeze; victor drills down to a sample's audit row and rejects; the second draft with the fix flips nothing
 * and is approved; extauthz enforces it. Editing the files alone changes nothing that is enforced; every step is a
 * row of the hash-chained admin trail.
 */
@IntegrationTest
class PolicyRequestJourneyTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    static final String BINDINGS = """
            claims: [groups]
            roles:
              security-officer:
                permissions: [policy:read, policy:request, policy:approve, audit:read]
            bindings:
              - {match: security, role: security-officer, scope: system}
            """;

    static final String IN_FORCE = """
            rate_limits:
              default_tier: free
              tiers: {free: {requests_per_second: 1000, burst: 1000}}
            routes:
              - {name: payments-write, match: {path_prefix: /payments, methods: [POST]}, auth: apikey}
              - {name: payments-read, match: {path_prefix: /payments}, auth: apikey}
            """;
    /** The tightened draft: a freeze on every payment write, acme's included. */
    static final String TIGHTENED = IN_FORCE + """
            deny:
              - {name: writes-freeze, match: {path_prefix: /payments, methods: [POST]}}
            """;
    /** The fix: the freeze covers the admin writes only. */
    static final String FIXED = IN_FORCE + """
            deny:
              - {name: writes-freeze, match: {path_prefix: /payments/admin, methods: [POST]}}
            """;

    @Test
    void
            tightenedDraft_showsAcmeFlipsAndIsRejected_fixedDraftFlipsNothingAndIsApproved_andOnlyApprovedFilesAreEnforced()
                    throws Exception {
        Path policy = dir.resolve("authz.yaml");
        Files.writeString(policy, IN_FORCE);
        try (TestIssuer issuer = new TestIssuer();
                AuditWriter audit = AuditWriter.start(
                        AuditWriterSettings.defaults(SpoolSettings.defaults(dir.resolve("spool"))),
                        ConnectionSource.of(PG.dataSource()),
                        new SimpleMeterRegistry());
                XdsController xds = controller();
                StatusHttpServer http =
                        new StatusHttpServer("policy-requests", HttpServerSettings.onPort(0), registry());
                ExtAuthzServer extauthz = new ExtAuthzServer(
                        ExtAuthzConfig.onLoopback(policy, Duration.ofMillis(200))
                                .withPolicyApproval(true),
                        new SimpleMeterRegistry(),
                        Optional.of(PG.dataSource()),
                        new AuditSinkDecisions(audit),
                        Clock.systemUTC())) {
            xds.mountAdminApi(
                    http,
                    AdminGate.people(
                            new AdminTokenVerifier(new AdminTokenVerifier.Settings(
                                    issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30))),
                            RoleBindings.parse("bindings", BINDINGS),
                            new LoggedAdminEvents(),
                            "xds.admin.token_file"));
            xds.start();
            http.start();
            extauthz.start();
            GoldPlanScene.Admin admin = new GoldPlanScene.Admin(
                    http.port(), who -> issuer.accessToken(who, "meshguard-admin", List.of("security")));

            // first install: nothing is approved, so extauthz enforces nothing and says why
            assertThat(extauthz.watcher().current()).isEmpty();
            assertThat(extauthz.watcher().lastProblem()).get().asString().contains("not approved");

            // bootstrap: the files in force go through four eyes like every later change
            JsonNode first = admin.ok("sally", "POST", "/policy-requests", request(IN_FORCE, "first install"));
            long firstId = first.path("id").asLong();
            assertThat(first.path("digest").asText()).isEqualTo(digest(IN_FORCE));
            assertThat(first.path("report_current").asBoolean()).isTrue();
            HttpResponse<String> own =
                    admin.call("sally", "POST", "/policy-requests/" + firstId + "/approve", reason("mine"));
            assertThat(own.statusCode()).as(own.body()).isEqualTo(403);
            assertThat(own.body()).contains("another person must approve it");
            admin.ok("victor", "POST", "/policy-requests/" + firstId + "/approve", reason("reviewed, CB-1"));
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> extauthz.watcher().current().isPresent());
            String approvedVersion =
                    extauthz.watcher().current().map(LoadedPolicy::version).orElseThrow();

            // acme's traffic, decided by extauthz over gRPC and recorded by the audit writer
            String key = new ApiKeyService(new JdbcApiKeyStore(PG.dataSource()), Clock.systemUTC())
                    .create("acme-checkout", "svc", "acme", List.of(), List.of(), "free", Optional.empty())
                    .text();
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", extauthz.grpcPort())
                    .usePlaintext()
                    .build();
            int writes = 12;
            int reads = 3;
            try {
                for (int i = 0; i < writes; i++) {
                    assertThat(check(channel, key, "POST", "/payments/charges", "pay-w-" + i)
                                    .hasOkResponse())
                            .isTrue();
                }
                for (int i = 0; i < reads; i++) {
                    assertThat(check(channel, key, "GET", "/payments/charges/1", "pay-r-" + i)
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
                            == writes + reads);

            // someone with write access to the files alone changes nothing that is enforced
            Files.writeString(policy, TIGHTENED);
            extauthz.watcher().reloadNow();
            assertThat(extauthz.watcher().current().map(LoadedPolicy::version)).contains(approvedVersion);
            assertThat(extauthz.watcher().lastProblem()).get().asString().contains("not approved");
            Record refused = PG.dsl()
                    .fetchOne(
                            "select outcome from admin_trail where action = 'policy_reload' order by seq desc limit 1");
            assertThat(refused.get(0, String.class)).contains("refused").contains("not approved");

            // the tightened draft: its report names the acme writes it would deny, and the rule
            JsonNode tightened = admin.ok("sally", "POST", "/policy-requests", request(TIGHTENED, "freeze writes"));
            long tightenedId = tightened.path("id").asLong();
            JsonNode report = tightened.path("report");
            assertThat(report.path("flipped").asLong()).isEqualTo(writes);
            assertThat(report.path("unchanged").asLong()).isEqualTo(reads);
            assertThat(report.path("not_replayable").asLong()).isZero();
            JsonNode group = report.path("groups").get(0);
            assertThat(group.path("tenant").asText()).isEqualTo("acme");
            assertThat(group.path("route").asText()).isEqualTo("payments-write");
            assertThat(group.path("rule").asText()).isEqualTo("deny:writes-freeze");
            assertThat(group.path("from").asText()).startsWith("allow");
            assertThat(group.path("to").asText()).startsWith("deny");
            assertThat(group.path("count").asLong()).isEqualTo(writes);
            assertThat(ReplayReport.fromJson(report).groups().get(0).sentence())
                    .startsWith("12 decisions of tenant acme on route payments-write");
            assertThat(tightened.path("diff").asText())
                    .contains("+++ b/authz.yaml")
                    .contains("+  - {name: writes-freeze, match: {path_prefix: /payments, methods: [POST]}}");

            // the approver drills down from a sample request id to its audit row
            String sample = group.path("samples").get(0).asText();
            assertThat(sample).startsWith("pay-w-");
            JsonNode rows = admin.ok("victor", "GET", "/audit/events?since=1h&request_id=" + sample, null);
            assertThat(rows).hasSize(1);
            assertThat(rows.get(0).path("route").asText()).isEqualTo("payments-write");
            assertThat(rows.get(0).path("tenant").asText()).isEqualTo("acme");

            JsonNode rejected = admin.ok(
                    "victor", "POST", "/policy-requests/" + tightenedId + "/reject", reason("denies acme's checkout"));
            assertThat(rejected.path("state").asText()).isEqualTo("rejected");

            // the fix flips nothing and is approved; extauthz takes it
            JsonNode fixed = admin.ok("sally", "POST", "/policy-requests", request(FIXED, "freeze admin writes only"));
            long fixedId = fixed.path("id").asLong();
            assertThat(fixed.path("report").path("flipped").asLong()).isZero();
            assertThat(fixed.path("report").path("unchanged").asLong()).isEqualTo(writes + reads);
            admin.ok("victor", "POST", "/policy-requests/" + fixedId + "/approve", reason("no flips, CB-2"));
            Files.writeString(policy, FIXED);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> extauthz.watcher()
                    .current()
                    .map(p -> PolicyReload.digestOf(p.sources()))
                    .filter(digest(FIXED)::equals)
                    .isPresent());
            assertThat(admin.ok("victor", "GET", "/policy-requests", null)).hasSize(3);
        }

        // the admin trail: each step, chained (the actor is the trail's "name (subject)")
        List<String> steps = PG.dsl()
                .fetch("select action || ' ' || actor from admin_trail where action like 'policy-%' order by seq")
                .getValues(0, String.class);
        assertThat(steps)
                .containsExactly(
                        "policy-request sally (sally)",
                        "policy-report sally (sally)",
                        "policy-approve victor (victor)",
                        "policy-request sally (sally)",
                        "policy-report sally (sally)",
                        "policy-reject victor (victor)",
                        "policy-request sally (sally)",
                        "policy-report sally (sally)",
                        "policy-approve victor (victor)");
        AdminTrailVerifier.Report chain = new AdminTrailVerifier(PG.dataSource()).verify(Optional.empty());
        assertThat(chain.intact()).as("%s", chain.firstBad()).isTrue();
    }

    private static String digest(String authzYaml) {
        return PolicyReload.digestOf(List.of(new io.meshguard.runtime.policy.PolicySource("authz.yaml", authzYaml)));
    }

    private static String request(String authzYaml, String reason) {
        ObjectNode body = ConfigJson.mapper().createObjectNode();
        body.set(
                "files",
                new PolicyBundle(List.of(new io.meshguard.runtime.policy.PolicySource("authz.yaml", authzYaml)))
                        .toJson());
        body.put("reason", reason);
        return body.toString();
    }

    private static String reason(String reason) {
        return ConfigJson.mapper().createObjectNode().put("reason", reason).toString();
    }

    private static CheckResponse check(ManagedChannel ch, String key, String method, String path, String requestId) {
        return AuthorizationGrpc.newBlockingStub(ch)
                .withDeadlineAfter(Duration.ofSeconds(30))
                .check(CheckRequests.of(
                        method,
                        "payments.example",
                        path,
                        Map.of("x-api-key", List.of(key), "x-request-id", List.of(requestId)),
                        Map.of(),
                        CheckRequests.Encoding.HEADERS));
    }

    private static PrometheusMeterRegistry registry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    private static XdsController controller() {
        return XdsController.create(LoopbackSettings.of(), PG.dataSource(), registry(), c -> {});
    }
}
