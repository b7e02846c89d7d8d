package io.meshguard.extauthz.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Mesh identity through the whole engine: deny rules, from:, auth mtls, the gateway hop, when:. */
class AuthzEngineMeshTest {
    private static final String GATEWAY = "spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway";
    private static final String ISSUERS = """
            issuers:
              - name: idp
                issuer: %s
                jwks_uri: http://127.0.0.1:1/jwks.json
                audiences: [meshguard]
                claims: {subject: sub, tenant: tenant, roles: realm_access.roles, scopes: scope}
            """.formatted(Fixtures.ISSUER);
    private static final String ROUTES = """
            routes:
              - name: orders
                match: {path_prefix: /orders}
                auth: jwt
                roles: [user]
              - name: workload
                match: {path_prefix: /internal}
                auth: mtls
                header_contract: exempt
                from: {namespaces: [payments]}
              - name: by-address
                match: {path_prefix: /probe}
                auth: mtls
                header_contract: exempt
                from: {ip_blocks: [10.0.0.0/8]}
              - name: gateway-only
                match: {path_prefix: /postings}
                auth: jwt
                via_gateway: true
              - name: stepup
                match: {path_prefix: /stepup}
                auth: jwt
                when: '"amr" in claims && "mfa" in claims.amr'
              - name: public
                match: {path_prefix: /public}
                auth: none
                header_contract: exempt
                when: request.headers["x-channel"] == "web"
            """;
    private static final String MESH = """
            mesh: {trusted_gateways: [cluster.local/ns/meshguard/sa/meshguard-gateway]}
            deny:
              - name: no-debug
                when: '"x-debug" in request.headers && request.headers["x-debug"] == "1"'
              - name: prod-only
                when: '!(request.headers["x-env"] == "prod")'
                match: {path_prefix: /envpinned}
              - name: no-query-debug
                when: '"debug" in request.query && request.query["debug"] == "1"'
              - name: only-cluster-local
                from: {not_trust_domains: [cluster.local]}
                match: {path_prefix: /internal}
            """;

    private static AuthzPipeline pipeline(String yaml) {
        AuthzPolicy policy = Fixtures.parse(yaml);
        return TestPipeline.running(
                policy,
                new SimpleMeterRegistry(),
                p -> p.keys = Map.of("idp", TestKeys.publicSet(List.of(Fixtures.RS1))));
    }

    private static Decision decide(AuthzPipeline p, String path, String principal, String address, String... headers) {
        return p.decide(HttpRequestView.of(CheckRequests.of(
                "GET",
                "svc.example",
                path,
                Fixtures.headers(headers),
                Map.of(),
                CheckRequests.Encoding.HEADER_MAP,
                principal,
                address)));
    }

    private static String token(List<String> roles, Map<String, Object> extra) {
        var b = Fixtures.claims("alice", "acme", roles);
        extra.forEach(b::claim);
        return "Bearer " + Fixtures.RS1.sign(b.build());
    }

    @Test
    void gatewayHop_isReDecidedOnTheGatewaysHeaders_andTheHeadersAreOverwritten() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            Decision d = decide(
                    p,
                    "/orders/1",
                    GATEWAY,
                    "10.0.0.2",
                    "x-user-id",
                    "alice",
                    "x-user-roles",
                    "user,auditor",
                    "x-auth-method",
                    "jwt",
                    "x-auth-issuer",
                    "idp",
                    "x-tenant-id",
                    "acme",
                    "x-user-scopes",
                    "read write");
            assertThat(d.allowed()).isTrue();
            assertThat(d.identity().orElseThrow().roles()).containsExactly("user", "auditor");
            assertThat(d.headersSet()).allSatisfy(m -> assertThat(m.mode()).isEqualTo(HeaderMutation.Mode.OVERWRITE));
            assertThat(Fixtures.set(d))
                    .containsEntry("x-user-id", "alice")
                    .containsEntry("x-user-roles", "user,auditor")
                    .containsEntry("x-user-scopes", "read write")
                    .containsEntry("x-tenant-id", "acme")
                    .containsEntry("x-auth-issuer", "idp");
            // the workload's own route still decides: a role the gateway did not vouch for is missing
            Decision noRole = decide(
                    p,
                    "/orders/1",
                    GATEWAY,
                    "10.0.0.2",
                    "x-user-id",
                    "alice",
                    "x-user-roles",
                    "auditor",
                    "x-auth-method",
                    "jwt");
            assertThat(noRole.reason()).isEqualTo(Reason.INSUFFICIENT_ROLE);
            Decision twice = decide(
                    p,
                    "/orders/1",
                    GATEWAY,
                    "10.0.0.2",
                    "x-user-id",
                    "alice",
                    "x-user-id",
                    "bob",
                    "x-user-roles",
                    "user",
                    "x-auth-method",
                    "jwt");
            assertThat(twice.reason()).isEqualTo(Reason.DUPLICATE_HEADER);
        }
    }

    /** Published class "client-sent identity headers at every hop": only the trusted gateway's are believed. */
    @Test
    void clientSentIdentityHeaders_fromAnyPeerButTheGateway_areDeniedAsForged() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            for (String peer : List.of(
                    "spiffe://cluster.local/ns/shop/sa/frontend",
                    "",
                    "spiffe://cluster.local/ns/meshguard/sa/other",
                    "spiffe://evil.example/ns/meshguard/sa/meshguard-gateway",
                    GATEWAY + "/x")) {
                for (String header :
                        List.of("x-user-id", "x-user-roles", "x-auth-method", "x-client-id", "x-caller-principal")) {
                    Decision d = decide(
                            p,
                            "/orders/1",
                            peer,
                            "10.0.0.3",
                            header,
                            "v",
                            "authorization",
                            token(List.of("user"), Map.of()));
                    assertThat(d.reason()).as(peer + " " + header).isEqualTo(Reason.FORGED_IDENTITY_HEADER);
                    assertThat(d.status()).isEqualTo(403);
                }
            }
        }
    }

    private static final String WAYPOINT = "spiffe://cluster.local/ns/payments/sa/meshguard-waypoint";
    private static final String AMBIENT_MESH = MESH.replace(
            "mesh: {trusted_gateways: [cluster.local/ns/meshguard/sa/meshguard-gateway]}",
            "mesh: {trusted_gateways: [cluster.local/ns/meshguard/sa/meshguard-gateway],"
                    + " trusted_waypoints: [cluster.local/ns/payments/sa/meshguard-waypoint]}");

    @Test
    void gatewayHopThroughAWaypoint_theWaypointsXfccNamesTheGateway_andItsHeadersAreBelieved() {
        try (AuthzPipeline p = pipeline(ISSUERS + AMBIENT_MESH + ROUTES)) {
            // a waypoint's Check: no source.principal, the client identity in the XFCC the waypoint wrote
            // keys in any case, values quoted or not (Envoy's XFCC grammar)
            for (String xfcc : List.of(
                    "By=" + WAYPOINT + ";URI=" + GATEWAY,
                    "by=" + WAYPOINT + ";uri=" + GATEWAY,
                    "By=\"" + WAYPOINT + "\";Hash=\"a,b;c\";URI=\"" + GATEWAY + "\"")) {
                Decision d = decide(
                        p,
                        "/orders/1",
                        "",
                        "10.0.0.2",
                        "x-forwarded-client-cert",
                        xfcc,
                        "x-user-id",
                        "alice",
                        "x-user-roles",
                        "user",
                        "x-auth-method",
                        "jwt");
                assertThat(d.allowed()).as(xfcc + ": " + d.reason()).isTrue();
                assertThat(Fixtures.set(d)).containsEntry("x-user-id", "alice");
            }
            // a mesh pod behind the same waypoint is judged as itself: the route's from: decides
            Decision pod = decide(
                    p,
                    "/internal/x",
                    "",
                    "10.0.0.4",
                    "x-forwarded-client-cert",
                    "By=" + WAYPOINT + ";URI=spiffe://cluster.local/ns/payments/sa/api");
            assertThat(pod.allowed()).isTrue();
        }
    }

    @Test
    void gatewayHopThroughAWaypoint_anXfccNotWrittenByATrustedWaypoint_isNoIdentity() {
        try (AuthzPipeline p = pipeline(ISSUERS + AMBIENT_MESH + ROUTES)) {
            for (String xfcc : List.of(
                    // By a waypoint nobody listed
                    "By=spiffe://cluster.local/ns/shop/sa/meshguard-waypoint;URI=" + GATEWAY,
                    // two elements: travelled further than one waypoint
                    "By=" + WAYPOINT + ";URI=" + GATEWAY + ",By=" + WAYPOINT + ";URI=" + GATEWAY,
                    // no By at all
                    "URI=" + GATEWAY,
                    // two URIs, a wildcard URI: not one identity
                    "By=" + WAYPOINT + ";URI=" + GATEWAY + ";URI=spiffe://cluster.local/ns/payments/sa/api",
                    "By=" + WAYPOINT + ";URI=spiffe://cluster.local/ns/*/sa/gateway",
                    // malformed: an unterminated quote, a part that is not key=value, a trailing separator
                    "By=\"" + WAYPOINT + ";URI=" + GATEWAY,
                    "By=" + WAYPOINT + ";" + GATEWAY,
                    "By=" + WAYPOINT + ";URI=" + GATEWAY + ";")) {
                Decision d = decide(
                        p,
                        "/orders/1",
                        "",
                        "10.0.0.2",
                        "x-forwarded-client-cert",
                        xfcc,
                        "x-user-id",
                        "alice",
                        "x-auth-method",
                        "jwt");
                assertThat(d.allowed()).as(xfcc).isFalse();
                assertThat(d.reason()).as(xfcc).isEqualTo(Reason.FORGED_IDENTITY_HEADER);
            }
            // a sidecar's Check keeps its own verified peer, whatever XFCC says
            Decision sidecar = decide(
                    p,
                    "/orders/1",
                    "spiffe://cluster.local/ns/shop/sa/frontend",
                    "10.0.0.3",
                    "x-forwarded-client-cert",
                    "By=" + WAYPOINT + ";URI=" + GATEWAY,
                    "x-user-id",
                    "alice",
                    "x-auth-method",
                    "jwt");
            assertThat(sidecar.reason()).isEqualTo(Reason.FORGED_IDENTITY_HEADER);
        }
    }

    @Test
    void withoutTrustedWaypoints_aWaypointsXfccIsNotRead() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            Decision d = decide(
                    p,
                    "/orders/1",
                    "",
                    "10.0.0.2",
                    "x-forwarded-client-cert",
                    "By=" + WAYPOINT + ";URI=" + GATEWAY,
                    "x-user-id",
                    "alice",
                    "x-auth-method",
                    "jwt");
            assertThat(d.reason()).isEqualTo(Reason.FORGED_IDENTITY_HEADER);
        }
    }

    @Test
    void withoutTrustedGateways_clientIdentityHeadersAreOverwrittenNotBelieved() {
        try (AuthzPipeline p = pipeline(ISSUERS + ROUTES)) {
            Decision d = decide(
                    p,
                    "/orders/1",
                    GATEWAY,
                    "10.0.0.3",
                    "x-user-id",
                    "mallory",
                    "x-user-roles",
                    "admin",
                    "x-tenant-id",
                    "acme",
                    "authorization",
                    token(List.of("user"), Map.of()));
            assertThat(d.allowed()).isTrue();
            assertThat(Fixtures.set(d)).containsEntry("x-user-id", "alice").containsEntry("x-user-roles", "user");
            Decision noToken = decide(
                    p,
                    "/orders/1",
                    GATEWAY,
                    "10.0.0.3",
                    "x-user-id",
                    "alice",
                    "x-user-roles",
                    "user",
                    "x-auth-method",
                    "jwt");
            assertThat(noToken.reason()).isEqualTo(Reason.MISSING_CREDENTIAL);
        }
    }

    @Test
    void viaGateway_refusesADirectCall_andAcceptsTheGatewayHop() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            assertThat(decide(
                                    p,
                                    "/postings",
                                    "spiffe://cluster.local/ns/payments/sa/a",
                                    "10.0.0.3",
                                    "x-tenant-id",
                                    "acme",
                                    "authorization",
                                    token(List.of("user"), Map.of()))
                            .reason())
                    .isEqualTo(Reason.GATEWAY_REQUIRED);
            assertThat(decide(p, "/postings", GATEWAY, "10.0.0.2", "x-user-id", "alice", "x-auth-method", "jwt")
                            .allowed())
                    .isTrue();
            // the gateway authenticated an API key; this route takes tokens only
            assertThat(decide(p, "/postings", GATEWAY, "10.0.0.2", "x-user-id", "k", "x-auth-method", "apikey")
                            .reason())
                    .isEqualTo(Reason.MISSING_CREDENTIAL);
        }
    }

    @Test
    void mtlsRoute_thePeerIsTheCredential_andTheHeadersSaySo() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            Decision d = decide(p, "/internal/x", "spiffe://cluster.local/ns/payments/sa/payouts", "10.0.0.3");
            assertThat(d.allowed()).isTrue();
            assertThat(Fixtures.set(d))
                    .containsEntry("x-caller-type", "workload")
                    .containsEntry("x-caller-principal", "spiffe://cluster.local/ns/payments/sa/payouts")
                    .containsEntry("x-auth-method", "mtls")
                    .doesNotContainKeys("x-user-id", "x-tenant-id");
            assertThat(d.headersRemoved()).contains("x-user-id", "x-tenant-id", "authorization");
            assertThat(decide(p, "/internal/x", "spiffe://cluster.local/ns/shop/sa/a", "10.0.0.3")
                            .reason())
                    .isEqualTo(Reason.SOURCE_NOT_ALLOWED);
            // another trust domain: the deny rule (checked first) names it
            assertThat(decide(p, "/internal/x", "spiffe://other.td/ns/payments/sa/a", "10.0.0.3")
                            .reason())
                    .isEqualTo(Reason.DENIED_BY_RULE);
            // no identity at all: "deny unless cluster.local" holds for the caller who cannot prove it
            assertThat(decide(p, "/internal/x", "", "10.0.0.3").reason()).isEqualTo(Reason.DENIED_BY_RULE);
            // a route that only checks the address still needs a peer identity to authenticate
            assertThat(decide(p, "/probe", "", "10.0.0.3").reason()).isEqualTo(Reason.PEER_IDENTITY_REQUIRED);
            assertThat(decide(p, "/probe", "spiffe://cluster.local/ns/a/../b/sa/c", "10.0.0.3")
                            .reason())
                    .isEqualTo(Reason.INVALID_PEER_IDENTITY);
            assertThat(decide(p, "/probe", "spiffe://cluster.local/ns/a/sa/c", "192.168.0.1")
                            .reason())
                    .isEqualTo(Reason.SOURCE_NOT_ALLOWED);
        }
    }

    @Test
    void proxyCannotSwitchARouteToMtls() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            Decision d = p.decide(HttpRequestView.of(CheckRequests.of(
                    "GET",
                    "svc.example",
                    "/orders/1",
                    Map.of(),
                    Map.of(RouteContract.AuthzContext.AUTH, "mtls"),
                    CheckRequests.Encoding.HEADERS,
                    "spiffe://cluster.local/ns/payments/sa/a",
                    "")));
            assertThat(d.reason()).isEqualTo(Reason.INVALID_ROUTE_CONFIG);
        }
    }

    @Test
    void denyRules_runBeforeRoutes_andWhenConditionsDecideAfterTheCredential() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            Decision debug = decide(p, "/public/x", "", "10.0.0.3", "x-debug", "1", "x-channel", "web");
            assertThat(debug.reason()).isEqualTo(Reason.DENIED_BY_RULE);
            assertThat(debug.body()).contains("\"rule\":\"no-debug\"");
            assertThat(decide(p, "/public/x", "", "10.0.0.3", "x-channel", "web")
                            .allowed())
                    .isTrue();
            assertThat(decide(p, "/public/x", "", "10.0.0.3").reason()).isEqualTo(Reason.CONDITION_NOT_MET);
            assertThat(decide(
                                    p,
                                    "/stepup",
                                    "",
                                    "10.0.0.3",
                                    "authorization",
                                    token(List.of(), Map.of("amr", List.of("mfa"))))
                            .allowed())
                    .isTrue();
            assertThat(decide(
                                    p,
                                    "/stepup",
                                    "",
                                    "10.0.0.3",
                                    "authorization",
                                    token(List.of(), Map.of("amr", List.of("pwd"))))
                            .reason())
                    .isEqualTo(Reason.CONDITION_NOT_MET);
            Decision error = decide(p, "/stepup", "", "10.0.0.3", "authorization", token(List.of(), Map.of("amr", 3)));
            assertThat(error.allowed()).isFalse();
            assertThat(error.reason()).isEqualTo(Reason.CONDITION_ERROR);
        }
    }

    @Test
    void denyRule_missingKeyInsideANegation_denies_likeIstiosNotValues() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            // before: the absent header made the expression an error read as "false", and the deny rule vanished
            Decision absent = decide(p, "/envpinned/x", "", "10.0.0.3", "x-channel", "web");
            assertThat(absent.allowed()).isFalse();
            assertThat(absent.body()).contains("\"rule\":\"prod-only\"");
            assertThat(decide(p, "/envpinned/x", "", "10.0.0.3", "x-env", "staging")
                            .body())
                    .contains("\"rule\":\"prod-only\"");
            assertThat(decide(p, "/envpinned/x", "", "10.0.0.3", "x-env", "prod")
                            .body())
                    .doesNotContain("prod-only");
        }
    }

    @Test
    void malformedQueryEscape_isAnEvaluationError_thatDenies_andNeverEscapesTheEngine() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            // before: URLDecoder's exception left decide() (the server answered 500, policy test called the case
            // broken)
            for (String path :
                    List.of("/public/x?debug=%zz", "/public/x?debug=%", "/public/x?%g1=1", "/public/x?a=%4")) {
                Decision d = decide(p, path, "", "10.0.0.3", "x-channel", "web");
                assertThat(d.allowed()).as(path).isFalse();
                assertThat(d.reason()).as(path).isEqualTo(Reason.CONDITION_ERROR);
                assertThat(d.body())
                        .as(path)
                        .contains("malformed percent-escape")
                        .contains("\"rule\":");
            }
            assertThat(decide(p, "/public/x?debug=%30", "", "10.0.0.3", "x-channel", "web")
                            .allowed())
                    .isTrue();
        }
    }

    @Test
    void denyRule_repeatedParameter_deniesWhenAnyValueMatches() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            // before: joined to "0,1", which is not "1"
            for (String path : List.of(
                    "/public/x?debug=0&debug=1", "/public/x?debug=1&debug=0", "/public/x?debug=0&x=y&debug=%31")) {
                Decision d = decide(p, path, "", "10.0.0.3", "x-channel", "web");
                assertThat(d.reason()).as(path).isEqualTo(Reason.DENIED_BY_RULE);
                assertThat(d.body()).contains("no-query-debug");
            }
            // a header sent on two lines: each line is read on its own
            Decision twoLines =
                    decide(p, "/public/x", "", "10.0.0.3", "x-channel", "web", "x-debug", "0", "x-debug", "1");
            assertThat(twoLines.reason()).isEqualTo(Reason.DENIED_BY_RULE);
            assertThat(decide(p, "/public/x?debug=0&debug=2", "", "10.0.0.3", "x-channel", "web")
                            .allowed())
                    .isTrue();
        }
    }

    @Test
    void routeCondition_repeatedValue_mustHoldForEveryValue() {
        try (AuthzPipeline p = pipeline(ISSUERS + MESH + ROUTES)) {
            assertThat(decide(p, "/public/x", "", "10.0.0.3", "x-channel", "web")
                            .allowed())
                    .isTrue();
            assertThat(decide(p, "/public/x", "", "10.0.0.3", "x-channel", "web", "x-channel", "batch")
                            .reason())
                    .isEqualTo(Reason.CONDITION_NOT_MET);
        }
    }
}
