package io.meshguard.extauthz.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.replay.DecisionReplay;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Decisions recorded by the server's own pipeline and audit mapping, then replayed: the policy in force flips none of
 * them, across every rule kind (deny rules by match, source and condition; routes by auth mode, roles, scopes, issuers,
 * gateway, source workloads and addresses, conditions; header contract, path refusals, profiles, rate limits) and every
 * kind of fact a condition reads (headers, query, claims, credential, roles, scopes, time, source, address, method).
 */
class DecisionReplayTest {
    private static final String GATEWAY = "spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway";
    private static final String PAYMENTS = "spiffe://cluster.local/ns/payments/sa/api";
    private static final String WAYPOINT = "spiffe://cluster.local/ns/payments/sa/meshguard-waypoint";
    private static final String POLICY = """
            issuers:
              - name: idp
                issuer: %s
                jwks_uri: http://127.0.0.1:1/jwks.json
                audiences: [meshguard]
                claims: {subject: sub, tenant: tenant, roles: realm_access.roles, scopes: scope}
            header_contract:
              tenant_header: x-tenant-id
              required: [x-tenant-id]
            rate_limits:
              by: tenant
              default_tier: small
              tiers:
                small: {requests_per_second: 0.0000116, burst: 2}
            mesh:
              trusted_gateways: [cluster.local/ns/meshguard/sa/meshguard-gateway]
              trusted_waypoints: [cluster.local/ns/payments/sa/meshguard-waypoint]
            deny:
              - name: no-debug
                when: '"x-debug" in request.headers && request.headers["x-debug"] == "1"'
              - name: no-query-debug
                when: '"debug" in request.query && request.query["debug"] == "1"'
              - name: only-cluster-local
                from: {not_trust_domains: [cluster.local]}
                match: {path_prefix: /internal}
            routes:
              - name: public
                match: {path_prefix: /public}
                auth: none
                header_contract: exempt
                rate_limit: off
                when: request.headers["x-channel"] == "web" && request.method == "GET"
              - name: open
                match: {path_prefix: /open}
                auth: none
                rate_limit: off
              - name: orders
                match: {path_prefix: /orders}
                auth: jwt
                roles: [user]
                rate_limit: off
              - name: admin
                match: {path_prefix: /admin}
                auth: jwt
                roles: {all_of: [admin]}
                scopes: [admin:write]
                rate_limit: off
              - name: stepup
                match: {path_prefix: /stepup}
                auth: jwt
                rate_limit: off
                when: '"amr" in claims && "mfa" in claims.amr && tenant == "acme" && "user" in auth.roles'
              - name: office-hours
                match: {path_prefix: /reports}
                auth: jwt
                rate_limit: off
                when: now.getHours("UTC") >= 0 && "read" in auth.scopes && auth.issuer == "idp"
              - name: metered
                match: {path_prefix: /metered}
                auth: jwt
              - name: workload
                match: {path_prefix: /internal}
                auth: mtls
                header_contract: exempt
                rate_limit: off
                from: {namespaces: [payments]}
                when: source.namespace == "payments"
              - name: by-address
                match: {path_prefix: /probe}
                auth: mtls
                header_contract: exempt
                rate_limit: off
                from: {ip_blocks: [10.0.0.0/8]}
              - name: gateway-only
                match: {path_prefix: /postings}
                auth: jwt
                rate_limit: off
                via_gateway: true
            """.formatted(Fixtures.ISSUER);

    private static AuthzPolicy inForce;

    @BeforeAll
    static void parse() {
        inForce = Fixtures.parse(POLICY);
    }

    private static AuthzPipeline pipeline(AuthzPolicy policy) {
        return TestPipeline.running(
                policy,
                new SimpleMeterRegistry(),
                p -> p.keys = Map.of("idp", TestKeys.publicSet(List.of(Fixtures.RS1))));
    }

    private static String token(String sub, String tenant, List<String> roles, Map<String, Object> extra) {
        var b = Fixtures.claims(sub, tenant, roles);
        extra.forEach(b::claim);
        return "Bearer " + Fixtures.RS1.sign(b.build());
    }

    /** One request as Envoy would send it. */
    private record Req(String path, String principal, String address, Map<String, String> context, String... headers) {
        Req(String path, String... headers) {
            this(path, "", "", Map.of(), headers);
        }

        HttpRequestView view() {
            return HttpRequestView.of(CheckRequests.of(
                    "GET",
                    "svc.example",
                    path,
                    Fixtures.headers(headers),
                    context,
                    CheckRequests.Encoding.HEADER_MAP,
                    principal,
                    address));
        }
    }

    /** Every rule kind and condition kind, allowed and denied. */
    private static List<Req> traffic() {
        String alice = token("alice", "acme", List.of("user"), Map.of("amr", List.of("pwd", "mfa")));
        String bob = token("bob", "acme", List.of("guest"), Map.of());
        String admin = token("root", "acme", List.of("admin", "user"), Map.of());
        String globex = token("carol", "globex", List.of("user"), Map.of("amr", List.of("pwd")));
        List<Req> out = new ArrayList<>();
        out.add(new Req("/public/a", "x-channel", "web"));
        out.add(new Req("/public/a", "x-channel", "app"));
        out.add(new Req("/public/a?debug=1", "x-channel", "web"));
        out.add(new Req("/public/a?debug=0", "x-channel", "web"));
        out.add(new Req("/orders/1", "authorization", alice, "x-tenant-id", "acme"));
        out.add(new Req("/orders/1", "authorization", alice, "x-tenant-id", "acme", "x-debug", "1"));
        out.add(new Req("/orders/1", "authorization", bob, "x-tenant-id", "acme"));
        out.add(new Req("/orders/1", "authorization", alice, "x-tenant-id", "globex"));
        out.add(new Req("/orders/1", "authorization", alice));
        // an open route names no tenant but the header the contract requires
        out.add(new Req("/open/a"));
        out.add(new Req("/orders/1", "x-tenant-id", "acme"));
        out.add(new Req("/orders/1", "authorization", "Bearer not.a.token", "x-tenant-id", "acme"));
        out.add(new Req("/orders/1", "authorization", alice, "authorization", alice, "x-tenant-id", "acme"));
        out.add(new Req("/orders/%2e%2e/admin", "authorization", alice, "x-tenant-id", "acme"));
        out.add(new Req("/orders;x=1", "authorization", alice, "x-tenant-id", "acme"));
        out.add(new Req("/admin/x", "authorization", admin, "x-tenant-id", "acme"));
        out.add(new Req("/admin/x", "authorization", alice, "x-tenant-id", "acme"));
        String narrowAdmin = token("root", "acme", List.of("admin"), Map.of("scope", "read"));
        out.add(new Req("/admin/x", "authorization", narrowAdmin, "x-tenant-id", "acme"));
        out.add(new Req("/stepup/x", "authorization", alice, "x-tenant-id", "acme"));
        out.add(new Req("/stepup/x", "authorization", globex, "x-tenant-id", "globex"));
        out.add(new Req("/reports/x", "authorization", alice, "x-tenant-id", "acme"));
        out.add(new Req("/nowhere", "authorization", alice, "x-tenant-id", "acme"));
        for (int i = 0; i < 4; i++) { // burst 2: the third and fourth are rate-limited
            out.add(new Req("/metered/x", "authorization", bob, "x-tenant-id", "acme"));
        }
        out.add(new Req("/internal/x", PAYMENTS, "10.1.2.3", Map.of()));
        out.add(new Req("/internal/x", "spiffe://cluster.local/ns/shop/sa/web", "10.1.2.3", Map.of()));
        out.add(new Req("/internal/x", "spiffe://evil.example/ns/payments/sa/api", "10.1.2.3", Map.of()));
        out.add(new Req("/internal/x", "", "10.1.2.3", Map.of()));
        // ambient: a waypoint's Check has no peer; the caller is the client the trusted waypoint's XFCC names
        out.add(new Req("/internal/x", "", "10.1.2.4", Map.of(), "x-forwarded-client-cert", waypointSaw(PAYMENTS)));
        out.add(new Req(
                "/internal/x",
                "",
                "10.1.2.4",
                Map.of(),
                "x-forwarded-client-cert",
                waypointSaw("spiffe://cluster.local/ns/shop/sa/web")));
        out.add(new Req(
                "/internal/x",
                "",
                "10.1.2.4",
                Map.of(),
                "x-forwarded-client-cert",
                "By=spiffe://cluster.local/ns/shop/sa/meshguard-waypoint;URI=" + PAYMENTS));
        out.add(new Req("/probe/x", PAYMENTS, "10.9.9.9", Map.of()));
        out.add(new Req("/probe/x", PAYMENTS, "192.168.1.1", Map.of()));
        out.add(new Req("/probe/x", "", "10.9.9.9", Map.of()));
        out.add(new Req("/postings/1", "authorization", alice, "x-tenant-id", "acme"));
        out.add(new Req(
                "/postings/1",
                GATEWAY,
                "10.0.0.2",
                Map.of(),
                "x-user-id",
                "alice",
                "x-tenant-id",
                "acme",
                "x-auth-method",
                "jwt"));
        out.add(new Req("/postings/1", PAYMENTS, "10.0.0.3", Map.of(), "x-user-id", "mallory", "x-tenant-id", "acme"));
        out.add(new Req(
                "/orders/1",
                "",
                "",
                Map.of(RouteContract.AuthzContext.AUTHZ_PROFILE, "orders"),
                "authorization",
                alice,
                "x-tenant-id",
                "acme"));
        out.add(new Req(
                "/orders/1",
                "",
                "",
                Map.of(RouteContract.AuthzContext.AUTHZ_PROFILE, "no-such-rule"),
                "authorization",
                alice,
                "x-tenant-id",
                "acme"));
        out.add(new Req(
                "/orders/1",
                "",
                "",
                Map.of(RouteContract.AuthzContext.AUTH, "none"),
                "authorization",
                alice,
                "x-tenant-id",
                "acme"));
        return out;
    }

    private static String waypointSaw(String client) {
        return "By=" + WAYPOINT + ";URI=" + client;
    }

    /** The traffic decided by the server's pipeline under {@code policy}, as its audit rows keep it. */
    private static List<RecordedDecision> record(AuthzPolicy policy, List<Req> traffic) {
        List<RecordedDecision> out = new ArrayList<>();
        Instant now = Instant.now();
        try (AuthzPipeline p = pipeline(policy)) {
            for (Req r : traffic) {
                HttpRequestView view = r.view();
                AuthzPipeline.Recorded recorded = p.decideRecorded(view);
                AuthzDecisionEvent event = DecisionEvents.of(view, recorded.decision(), now, 10, recorded.kept());
                out.add(RecordedDecision.fromJson(
                        event.replayJson().orElseThrow(),
                        recorded.decision().requestId(),
                        now,
                        recorded.decision().subscription()));
            }
        }
        return out;
    }

    private static ImpactReport replay(AuthzPolicy draft, List<RecordedDecision> recorded) {
        DecisionReplay replay = new DecisionReplay(draft);
        ImpactReport report = new ImpactReport();
        recorded.forEach(r -> report.add(r, replay.replay(r)));
        return report;
    }

    @Test
    void replay_policyInForceAgainstItsOwnDecisions_flipsNothing_acrossEveryRuleAndConditionKind() {
        List<RecordedDecision> recorded = record(inForce, traffic());
        Set<String> reasons = new TreeSet<>();
        recorded.forEach(r -> reasons.add(r.reason()));
        // the traffic walks every kind of outcome the policy's rules give, so the replay is tested on each
        assertThat(reasons)
                .contains(
                        "allowed",
                        "public_route",
                        "denied_by_rule",
                        "condition_not_met",
                        "insufficient_role",
                        "insufficient_scope",
                        "tenant_mismatch",
                        "required_header_missing",
                        "missing_credential",
                        "invalid_token",
                        "duplicate_credential",
                        "invalid_path",
                        "no_matching_route",
                        "rate_limited",
                        "source_not_allowed",
                        "gateway_required",
                        "forged_identity_header",
                        "peer_identity_required",
                        "unknown_profile",
                        "invalid_route_config");

        ImpactReport report = replay(inForce, recorded);

        assertThat(report.render()).contains("flipped: 0");
        assertThat(report.flipped()).isZero();
        assertThat(report.notReplayableByReason()).isEmpty();
        assertThat(report.unchanged()).isEqualTo(recorded.size());
    }

    @Test
    void replay_draftTighteningARole_reportsAllowToDenyGroupedByTenantRouteCallerAndRule() {
        List<RecordedDecision> recorded = record(inForce, traffic());
        AuthzPolicy draft = Fixtures.parse(POLICY.replace(
                "  - name: orders\n    match: {path_prefix: /orders}\n    auth: jwt\n    roles: [user]",
                "  - name: orders\n    match: {path_prefix: /orders}\n    auth: jwt\n    roles: [orders-writer]"));

        ImpactReport report = replay(draft, recorded);

        assertThat(report.groups()).hasSize(1);
        var group = report.groups().get(0);
        assertThat(group.getKey())
                .isEqualTo(new ImpactReport.Group("allow 200", "deny 403", "acme", "orders", "alice", "route:orders"));
        // the plain request, the one without the tenant header (the token names it) and the one through the
        // gateway's named profile
        assertThat(group.getValue().count()).isEqualTo(3);
        assertThat(group.getValue().samples()).hasSize(3);
        assertThat(report.render()).contains("3 decisions of tenant acme on route orders by alice");
    }

    @Test
    void replay_draftDroppingDenyRulesAndARateLimit_reportsDenyAnd429ToAllow_andUnverifiedCredentialsAsNotReplayable() {
        List<RecordedDecision> recorded = record(inForce, traffic());
        AuthzPolicy draft = Fixtures.parse(POLICY.replace(
                        "  - name: no-debug\n    when: '\"x-debug\" in request.headers && request.headers[\"x-debug\"] == \"1\"'\n",
                        "")
                .replace(
                        "  - name: no-query-debug\n    when: '\"debug\" in request.query && request.query[\"debug\"] == \"1\"'\n",
                        "")
                .replace("""
                  - name: metered
                    match: {path_prefix: /metered}
                    auth: jwt
                """, """
                  - name: metered
                    match: {path_prefix: /metered}
                    auth: jwt
                    rate_limit: off
                """));

        ImpactReport report = replay(draft, recorded);

        assertThat(report.groups())
                .extracting(e -> e.getKey().from() + " -> " + e.getKey().to() + " "
                        + e.getKey().route())
                .containsExactlyInAnyOrder("deny 403 -> allow 200 public", "deny 429 -> allow 200 metered");
        assertThat(report.flipped()).isEqualTo(3);
        // the token of a request a deny rule refused was never verified: what the draft would do with it is unknown
        assertThat(report.notReplayableByReason()).isEqualTo(Map.of("credential not verified when recorded (jwt)", 1L));
    }

    @Test
    void replay_draftReadingAHeaderTheRecordDidNotKeep_isNotReplayable_withTheReason() {
        List<RecordedDecision> recorded = record(inForce, traffic());
        AuthzPolicy draft = Fixtures.parse(POLICY.replace(
                "    auth: jwt\n    roles: [user]\n",
                "    auth: jwt\n    roles: [user]\n    when: request.headers[\"x-region\"] == \"eu\"\n"));

        ImpactReport report = replay(draft, recorded);

        assertThat(report.notReplayableByReason()).containsKey("header not recorded: x-region");
        assertThat(report.flipped()).isZero();
    }

    @Test
    void record_ofAWaypointsCheck_namesTheClientTheTrustedWaypointNamed_andReplaysAsDecided() {
        try (AuthzPipeline p = pipeline(inForce)) {
            HttpRequestView trusted = new Req(
                            "/internal/x", "", "10.1.2.4", Map.of(), "x-forwarded-client-cert", waypointSaw(PAYMENTS))
                    .view();
            AuthzPipeline.Recorded allowed = p.decideRecorded(trusted);
            AuthzDecisionEvent event = DecisionEvents.of(trusted, allowed.decision(), Instant.now(), 1, allowed.kept());
            assertThat(allowed.decision().allowed()).isTrue();
            assertThat(event.details())
                    .containsEntry("source_principal", PAYMENTS)
                    .containsEntry("source_principal_from", "waypoint_xfcc");

            // a waypoint nobody listed names nobody: the row keeps no caller, as the decision saw none
            HttpRequestView untrusted = new Req(
                            "/internal/x",
                            "",
                            "10.1.2.4",
                            Map.of(),
                            "x-forwarded-client-cert",
                            "By=spiffe://cluster.local/ns/shop/sa/meshguard-waypoint;URI=" + PAYMENTS)
                    .view();
            AuthzPipeline.Recorded denied = p.decideRecorded(untrusted);
            assertThat(denied.decision().allowed()).isFalse();
            assertThat(DecisionEvents.of(untrusted, denied.decision(), Instant.now(), 1, denied.kept())
                            .details())
                    .doesNotContainKeys("source_principal", "source_principal_from");

            // a sidecar's Check keeps its own peer, without the marker
            HttpRequestView sidecar = new Req("/internal/x", PAYMENTS, "10.1.2.3", Map.of()).view();
            AuthzPipeline.Recorded direct = p.decideRecorded(sidecar);
            assertThat(DecisionEvents.of(sidecar, direct.decision(), Instant.now(), 1, direct.kept())
                            .details())
                    .containsEntry("source_principal", PAYMENTS)
                    .doesNotContainKey("source_principal_from");
        }
    }

    @Test
    void record_keepsNoCredentialNorAnyHeaderValueNoRuleReads() {
        String alice = token("alice", "acme", List.of("user"), Map.of("amr", List.of("mfa"), "email", "a@x.example"));
        Req r = new Req(
                "/orders/1?card=4242424242424242&debug=0",
                "authorization",
                alice,
                "x-tenant-id",
                "acme",
                "cookie",
                "session=secret-cookie",
                "x-channel",
                "web");
        HttpRequestView view = r.view();
        try (AuthzPipeline p = pipeline(inForce)) {
            AuthzPipeline.Recorded recorded = p.decideRecorded(view);
            String json = DecisionEvents.of(view, recorded.decision(), Instant.now(), 1, recorded.kept())
                    .replayJson()
                    .orElseThrow();

            assertThat(json)
                    .doesNotContain(alice.substring(7))
                    .doesNotContain("secret-cookie")
                    .doesNotContain("4242424242424242")
                    .doesNotContain("a@x.example")
                    .contains("\"authorization\":[\"present\"]")
                    .contains("debug=0")
                    .contains("\"x-channel\":[\"web\"]")
                    .contains("\"amr\":[\"mfa\"]");
        }
    }

    private static AuthzPolicy mcpPolicy(String resource) {
        return Fixtures.parse("""
                issuers:
                  - name: idp
                    issuer: %s
                    jwks_uri: http://127.0.0.1:1/jwks.json
                    audiences: [meshguard]
                    claims: {subject: sub, tenant: tenant, roles: realm_access.roles, scopes: scope}
                routes:
                  - name: mcp-server
                    match: {hosts: [svc.example], path: /mcp}
                    auth: jwt
                    mcp: {resource: '%s'}
                """.formatted(Fixtures.ISSUER, resource));
    }

    @Test
    void replay_mcpRouteBoundToItsServer_keepsTheTokensAudience_soNothingFlips_andADraftNamingAnotherServerFlips() {
        List<Req> traffic = new ArrayList<>();
        for (Object aud : List.<Object>of(
                List.of("meshguard", "https://svc.example/mcp"),
                List.of("meshguard", "HTTPS://svc.example:443/mcp/"),
                List.of("meshguard", "https://other.example/mcp"),
                "meshguard")) {
            traffic.add(new Req("/mcp", "authorization", token("agent", "acme", List.of("agent"), Map.of("aud", aud))));
        }
        List<RecordedDecision> recorded = record(mcpPolicy("https://svc.example/mcp"), traffic);
        assertThat(recorded)
                .extracting(RecordedDecision::reason)
                .containsExactly("allowed", "allowed", "wrong_audience", "wrong_audience");

        ImpactReport same = replay(mcpPolicy("https://svc.example/mcp"), recorded);
        assertThat(same.flipped()).as(same.render()).isZero();
        assertThat(same.notReplayableByReason()).isEmpty();

        ImpactReport moved = replay(mcpPolicy("https://svc.example/tools"), recorded);
        assertThat(moved.flipped()).as(moved.render()).isEqualTo(2);
    }
}
