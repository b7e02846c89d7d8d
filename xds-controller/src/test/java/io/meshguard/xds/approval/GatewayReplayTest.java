package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyFiles;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.authz.replay.ReplayOutcome;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.runtime.policy.PolicySource;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.ConfigValidator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A gateway revision decided against decisions recorded by extauthz's own pipeline on the Checks the served revision's
 * routes send (the contract {@link GatewayRoutes} reads from the rendered route table, as Envoy would send it): the
 * served revision replayed against itself flips nothing; a dropped route is Envoy's 404; a route re-pointed to another
 * profile is decided by the engine under the policy in force; what the record cannot tell is not replayable, by reason.
 */
class GatewayReplayTest {
    static final String POLICY = """
            routes:
              - name: open
                match: {path_prefix: /}
                auth: none
                header_contract: exempt
                rate_limit: off
              - name: locked
                match: {path_prefix: /never}
                auth: mtls
                header_contract: exempt
                rate_limit: off
                from: {namespaces: [ops]}
            """;

    static final String SERVED = """
            groups:
              - name: edge
                environment: dev
                hostnames: [api.bank.example]
            upstreams: [{name: be, endpoints: [{address: be.svc.cluster.local, port: 8080}]}]
            apis: [{name: payments, base_path: /payments, default_version: v1, versions: [{version: v1}]}]
            routes:
              - {name: charges, group: edge, api: payments, version: v1, authz_profile: open,
                 match: {path_prefix: /charges}, destinations: [{upstream: be, weight: 100}]}
              - {name: refunds, group: edge, api: payments, version: v1, authz_profile: open,
                 match: {path_prefix: /refunds}, destinations: [{upstream: be, weight: 100}]}
            """;

    static final AuthzPolicy IN_FORCE = parse(POLICY);

    @Test
    void servedRevision_replayedAgainstItsOwnDecisions_flipsNothing() {
        GatewayConfig served = config(SERVED);
        List<RecordedDecision> recorded = traffic(served);

        ImpactReport report = replay(served, served, Optional.of(IN_FORCE), recorded);

        assertThat(report.flipped()).isZero();
        assertThat(report.notReplayableByReason()).isEmpty();
        assertThat(report.unchanged()).isEqualTo(recorded.size());
    }

    @Test
    void droppedRoute_flipsItsDecisionsToEnvoys404_groupedByTheRoute() {
        GatewayConfig served = config(SERVED);
        List<RecordedDecision> recorded = traffic(served);
        GatewayConfig dropped = config(SERVED.substring(0, SERVED.indexOf("  - {name: refunds")));

        ImpactReport report = replay(served, dropped, Optional.of(IN_FORCE), recorded);

        assertThat(report.flipped()).isEqualTo(REFUNDS);
        assertThat(report.unchanged()).isEqualTo(CHARGES);
        assertThat(report.groups()).hasSize(1);
        var group = report.groups().get(0);
        assertThat(group.getKey().route()).isEqualTo("refunds");
        assertThat(group.getKey().from()).isEqualTo("allow 200");
        assertThat(group.getKey().to()).isEqualTo("404 no route");
        assertThat(group.getValue().count()).isEqualTo(REFUNDS);
        assertThat(group.getValue().samples()).hasSize(ImpactReport.SAMPLES).allMatch(id -> id.startsWith("refund-"));
    }

    @Test
    void routeRepointedToAStricterProfile_isDecidedByTheEngine_allowToDenyWithTheContractChange() {
        GatewayConfig served = config(SERVED);
        List<RecordedDecision> recorded = traffic(served);
        GatewayConfig repointed = config(SERVED.replace(
                "{name: charges, group: edge, api: payments, version: v1, authz_profile: open",
                "{name: charges, group: edge, api: payments, version: v1, authz_profile: locked"));

        ImpactReport report = replay(served, repointed, Optional.of(IN_FORCE), recorded);

        assertThat(report.flipped()).isEqualTo(CHARGES);
        var group = report.groups().get(0);
        assertThat(group.getKey().route()).isEqualTo("charges");
        assertThat(group.getKey().from()).isEqualTo("allow 200");
        assertThat(group.getKey().to()).startsWith("deny 40");
        assertThat(group.getKey().rule())
                .contains("route charges sends another contract (meshguard.authz_profile open -> locked)");
    }

    @Test
    void aNarrowerRouteInFront_reRoutesDecisions_reportedAsRouteChanged() {
        GatewayConfig served = config(SERVED);
        List<RecordedDecision> recorded = traffic(served);
        GatewayConfig narrower = config(SERVED + """
                  - {name: charges-exact, group: edge, api: payments, version: v1, authz_profile: open,
                     match: {path_exact: /charges/1}, destinations: [{upstream: be, weight: 100}]}
                """);

        ImpactReport report = replay(served, narrower, Optional.of(IN_FORCE), recorded);

        // only the one request the exact path names goes elsewhere
        assertThat(report.flipped()).isEqualTo(1);
        assertThat(report.unchanged()).isEqualTo(CHARGES + REFUNDS - 1);
        var group = report.groups().get(0);
        assertThat(group.getValue().samples()).containsExactly("charge-1");
        assertThat(group.getKey().from()).isEqualTo("allow 200");
        assertThat(group.getKey().to()).isEqualTo("allow 200 on charges-exact");
        assertThat(group.getKey().rule()).isEqualTo("re-routed from charges to charges-exact");
    }

    @Test
    void withoutAPolicyInForce_changedContractsAreNotReplayable_unchangedOnesStayUnchanged() {
        GatewayConfig served = config(SERVED);
        List<RecordedDecision> recorded = traffic(served);
        GatewayConfig repointed = config(SERVED.replace(
                "{name: charges, group: edge, api: payments, version: v1, authz_profile: open",
                "{name: charges, group: edge, api: payments, version: v1, authz_profile: locked"));

        ImpactReport report = replay(served, repointed, Optional.empty(), recorded);

        assertThat(report.unchanged()).isEqualTo(REFUNDS);
        assertThat(report.notReplayableByReason())
                .containsEntry(
                        "the route's contract changes and the controller loads no authz policy to decide it",
                        (long) CHARGES);
    }

    @Test
    void decisionsTheRecordCannotPlace_areNotReplayable_byReason() {
        GatewayConfig served = config(SERVED);
        List<RecordedDecision> recorded = new ArrayList<>();
        // a sidecar's Check: no gateway route in its contract
        recorded.add(record("mesh-1", "GET", "api.bank.example", "/payments/charges/1", Map.of()));
        // another group's host
        recorded.add(record(
                "other-1",
                "GET",
                "shop.example",
                "/payments/charges/1",
                Map.of(
                        RouteContract.AuthzContext.GATEWAY_ROUTE,
                        "charges",
                        RouteContract.AuthzContext.AUTHZ_PROFILE,
                        "open")));
        // recorded under an earlier revision whose route had another profile
        recorded.add(record(
                "old-1",
                "GET",
                "api.bank.example",
                "/payments/charges/1",
                Map.of(
                        RouteContract.AuthzContext.GATEWAY_ROUTE,
                        "charges",
                        RouteContract.AuthzContext.AUTHZ_PROFILE,
                        "legacy",
                        RouteContract.AuthzContext.API,
                        "payments",
                        RouteContract.AuthzContext.API_VERSION,
                        "v1")));
        recorded.addAll(traffic(served).subList(0, 3));
        // the requested revision puts a route in front that matches on a header the record did not keep
        GatewayConfig canary = config(SERVED + """
                  - {name: charges-canary, group: edge, api: payments, version: v1, authz_profile: open,
                     match: {path_prefix: /charges, headers: [{name: x-canary, exact: "1"}]},
                     destinations: [{upstream: be, weight: 100}]}
                """);

        ImpactReport report = replay(served, canary, Optional.of(IN_FORCE), recorded);

        assertThat(report.notReplayableByReason())
                .containsEntry(GatewayReplay.NOT_A_GATEWAY, 1L)
                .containsEntry("not made on a gateway of group edge (its host is not served by the group)", 1L)
                .containsEntry(
                        "recorded on another route than group edge serves for it now (an earlier revision, or another"
                                + " group serving the same host)",
                        1L)
                .containsEntry("a route matches on header x-canary, which was not recorded", 3L);
        assertThat(report.flipped()).isZero();
    }

    static final int CHARGES = 7;
    static final int REFUNDS = 6;

    /** Checks as the served revision's routes send them (the contract Envoy would attach), decided by the pipeline. */
    private static List<RecordedDecision> traffic(GatewayConfig served) {
        GatewayRoutes routes = GatewayRoutes.of(served, "edge");
        List<RecordedDecision> out = new ArrayList<>();
        for (int i = 0; i < CHARGES + REFUNDS; i++) {
            boolean charge = i < CHARGES;
            String path = charge ? "/payments/charges/" + i : "/payments/v1/refunds/" + i;
            String method = i % 2 == 0 ? "GET" : "POST";
            GatewayRoutes.Selection s = routes.select(new GatewayRoutes.Request() {
                @Override
                public String method() {
                    return method;
                }

                @Override
                public String host() {
                    return "api.bank.example";
                }

                @Override
                public String path() {
                    return path;
                }

                @Override
                public GatewayRoutes.Header header(String name) {
                    return new GatewayRoutes.Absent();
                }
            });
            Map<String, String> contract = ((GatewayRoutes.Checked) s).contract();
            out.add(record((charge ? "charge-" : "refund-") + i, method, "api.bank.example", path, contract));
        }
        return out;
    }

    private static RecordedDecision record(
            String requestId, String method, String host, String path, Map<String, String> contract) {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (AuthzPipeline p = new AuthzPipeline(
                new JwksRegistry(meters, Map.of(), Duration.ofSeconds(2)),
                Optional.empty(),
                new TokenBucketLimiter(1000, Duration.ofMinutes(1), System::nanoTime),
                new SecretFiles(System::nanoTime),
                Clock.systemUTC(),
                meters,
                1000,
                Duration.ofMinutes(5))) {
            p.use(IN_FORCE);
            HttpRequestView view = HttpRequestView.of(CheckRequests.of(
                    method,
                    host,
                    path,
                    Map.of("x-request-id", List.of(requestId)),
                    contract,
                    CheckRequests.Encoding.HEADER_MAP));
            AuthzPipeline.Recorded r = p.decideRecorded(view);
            Instant at = Instant.parse("2026-11-20T10:00:00Z");
            // through the audit row's text, as the report reads it
            String json = RecordedDecision.of(view, r.decision(), at, r.kept().orElseThrow())
                    .toJson();
            return RecordedDecision.fromJson(json, r.decision().requestId(), at, Optional.empty());
        }
    }

    private static ImpactReport replay(
            GatewayConfig served, GatewayConfig requested, Optional<AuthzPolicy> policy, List<RecordedDecision> rows) {
        Function<RecordedDecision, ReplayOutcome> decide =
                GatewayReplay.decider("edge", Optional.of(served), requested.slice("edge"), policy);
        ImpactReport report = new ImpactReport();
        rows.forEach(r -> report.add(r, decide.apply(r)));
        return report;
    }

    private static GatewayConfig config(String yaml) {
        GatewayConfig c = GatewayYaml.read("edge.yaml", yaml);
        assertThat(new ConfigValidator().validate(c).errors()).isEmpty();
        return c;
    }

    private static AuthzPolicy parse(String yaml) {
        try {
            return new AuthzPolicyFiles().parse(List.of(new PolicySource("authz.yaml", yaml)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
