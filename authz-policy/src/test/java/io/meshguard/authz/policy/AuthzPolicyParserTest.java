package io.meshguard.authz.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

class AuthzPolicyParserTest {
    static final String ISSUER = """
            issuers:
              - name: idp
                issuer: https://idp.example
                jwks_uri: https://idp.example/jwks
            """;

    /** The errors {@code yaml} is refused with (fails when it is taken). */
    static List<PolicyError> errors(String yaml) {
        try {
            new AuthzPolicyParser().parse("authz.yaml", new StringReader(yaml));
        } catch (PolicyInvalidException e) {
            return e.errors();
        }
        throw new AssertionError("expected the policy to be rejected");
    }

    private static AuthzPolicy ok(String yaml) throws PolicyInvalidException {
        return new AuthzPolicyParser().parse("authz.yaml", new StringReader(yaml));
    }

    @Test
    void minimalPolicy_parsesWithDefaults() throws Exception {
        AuthzPolicy p = ok(ISSUER + "routes:\n  - {name: r, match: {path_prefix: /a}, auth: jwt}\n");
        assertThat(p.routes()).hasSize(1);
        assertThat(p.identityHeaders().subject()).isEqualTo("x-user-id");
        assertThat(p.credentialHeaders()).containsExactly("authorization", "x-api-key");
        assertThat(p.issuers().get(0).clockSkew()).hasSeconds(60);
        assertThat(p.tokenMaxBytes()).isEqualTo(8192);
    }

    @Test
    void unknownKey_isReportedWithItsLine() {
        List<PolicyError> e =
                errors(ISSUER + "routes:\n  - name: r\n    match: {path: /a}\n    auth: jwt\n    rolez: [x]\n");
        assertThat(e).singleElement().satisfies(err -> {
            assertThat(err.line()).isEqualTo(9);
            assertThat(err.message()).contains("unknown key 'rolez'");
            assertThat(err.toString()).startsWith("authz.yaml:9: ");
        });
    }

    @Test
    void hmacAlgorithm_isRefused_soPublicKeysCanNeverBeSecrets() {
        List<PolicyError> e =
                errors(ISSUER + "    algorithms: [HS256]\nroutes:\n  - {name: r, match: {path: /a}, auth: jwt}\n");
        assertThat(e).anySatisfy(err -> {
            assertThat(err.line()).isEqualTo(5);
            assertThat(err.message()).contains("HS256 is an HMAC algorithm");
        });
    }

    @Test
    void noneAlgorithm_isRefused() {
        assertThat(errors(ISSUER + "    algorithms: [none]\nroutes:\n  - {name: r, match: {path: /a}, auth: jwt}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("unsupported algorithm 'none'"));
    }

    @Test
    void backtrackingRegex_isRefusedByTheLinearEngine() {
        List<PolicyError> e = errors(ISSUER + "routes:\n  - {name: r, match: {path_regex: '^(a+)\\1$'}, auth: jwt}\n");
        assertThat(e).singleElement().satisfies(err -> {
            assertThat(err.line()).isEqualTo(6);
            assertThat(err.message()).contains("path_regex").contains("RE2");
        });
    }

    @Test
    void yamlSyntaxError_hasALine() {
        List<PolicyError> e = errors("routes:\n  - name: r\n   match: [\n");
        assertThat(e).singleElement().satisfies(err -> assertThat(err.message()).startsWith("YAML syntax"));
        assertThat(e.get(0).line()).isGreaterThan(1);
    }

    @Test
    void duplicateYamlKey_isRefused() {
        assertThat(errors(ISSUER + "routes:\n  - {name: r, match: {path: /a}, auth: jwt, auth: none}\n"))
                .singleElement()
                .satisfies(err -> assertThat(err.message()).contains("duplicate key"));
    }

    @Test
    void aliasExpansionBomb_isRefusedBeforeItExpands() {
        // nine levels of five aliases each: 5^9 (about two million) nodes from a few hundred bytes
        StringBuilder yaml = new StringBuilder("x0: &x0 [a, a, a, a, a]\n");
        for (int i = 1; i <= 9; i++) {
            String p = "*x" + (i - 1);
            yaml.append("x")
                    .append(i)
                    .append(": &x")
                    .append(i)
                    .append(" [")
                    .append(String.join(", ", p, p, p, p, p))
                    .append("]\n");
        }
        yaml.append("routes: [{name: r, match: {path: /a}, auth: none, note: *x9}]\n");
        assertThat(errors(yaml.toString())).singleElement().satisfies(err -> {
            assertThat(err.message()).startsWith("YAML syntax").contains("expands to more than");
            assertThat(err.line()).isPositive();
        });
    }

    @Test
    void mergeKey_isRefusedWithItsLine() {
        List<PolicyError> e =
                errors("base: &b {auth: none}\nroutes:\n  - name: r\n    <<: *b\n    match: {path: /a}\n");
        assertThat(e).singleElement().satisfies(err -> {
            assertThat(err.message()).contains("merge keys");
            assertThat(err.line()).isEqualTo(4);
        });
    }

    @Test
    void everyProblem_isReportedInOneRun() {
        String yaml = """
                issuers:
                  - name: idp
                    issuer: https://idp.example
                    jwks_uri: http://idp.example/jwks
                    clock_skew: 1h
                rate_limits:
                  default_tier: gold
                  tiers:
                    free: {requests_per_second: 0}
                routes:
                  - {name: a, match: {path: /a}, auth: jwt}
                  - {name: a, match: {path: b}, auth: sometimes}
                  - {name: c, match: {path: /c}, auth: none, roles: [admin]}
                  - {name: d, match: {path: /d}, auth: jwt, header_contract: exempt}
                  - {name: d, match: {path: /e}, auth: jwt}
                """;
        List<PolicyError> e = errors(yaml);
        assertThat(e).extracting(PolicyError::line).contains(4, 5, 7, 9, 12, 13, 14, 15);
        assertThat(e)
                .extracting(PolicyError::message)
                .anySatisfy(m -> assertThat(m).contains("https only"))
                .anySatisfy(m -> assertThat(m).contains("at most 5m"))
                .anySatisfy(m -> assertThat(m).contains("no tier named 'gold'"))
                .anySatisfy(m -> assertThat(m).contains("name 'd' is used twice"))
                .anySatisfy(m -> assertThat(m).contains("'sometimes' is not one of"))
                .anySatisfy(m -> assertThat(m).contains("paths start with '/'"))
                .anySatisfy(m -> assertThat(m).contains("auth none has no caller"))
                .anySatisfy(m -> assertThat(m).contains("only public routes"));
    }

    @Test
    void identityHeaderListedAsCredential_isRefused_becauseRemovalWouldDeleteOurOwnValue() {
        assertThat(errors("settings:\n  credential_headers: [authorization, x-user-id]\n" + ISSUER
                        + "routes:\n  - {name: r, match: {path: /a}, auth: jwt}\n"))
                .singleElement()
                .satisfies(err -> {
                    assertThat(err.line()).isEqualTo(2);
                    assertThat(err.message()).contains("'x-user-id' is an identity header");
                });
    }

    @Test
    void jwtRouteWithoutIssuers_isRefused() {
        assertThat(errors("routes:\n  - {name: r, match: {path: /a}, auth: jwt}\n"))
                .singleElement()
                .satisfies(err -> assertThat(err.message()).contains("needs at least one entry in 'issuers'"));
    }

    @Test
    void missingRoutes_andEmptyFile_areRefused() {
        assertThat(errors(ISSUER)).singleElement().satisfies(err -> assertThat(err.message())
                .contains("'routes' is missing"));
        assertThat(errors("")).singleElement().satisfies(err -> assertThat(err.message())
                .contains("empty"));
    }

    @Test
    void issuerNeedsExactlyOneKeySource() {
        assertThat(
                        errors(
                                "issuers:\n  - {name: i, issuer: https://i}\nroutes:\n  - {name: r, match: {path: /a}, auth: jwt}\n"))
                .singleElement()
                .satisfies(err -> assertThat(err.message()).contains("exactly one of 'jwks_uri' or 'discovery'"));
    }

    @Test
    void missingFile_isOneErrorNamingTheFile() {
        assertThatThrownBy(() -> new AuthzPolicyParser().parse(java.nio.file.Path.of("/nonexistent/authz.yaml")))
                .isInstanceOf(PolicyInvalidException.class)
                .hasMessageContaining("/nonexistent/authz.yaml:1: cannot read");
    }

    @Test
    void routeMatching_prefixIsSegmentAware_hostsWildcardAndPort() throws Exception {
        AuthzPolicy p = ok(
                ISSUER
                        + "routes:\n  - {name: r, match: {hosts: ['*.bank.example'], path_prefix: /pay, methods: [get]}, auth: jwt}\n");
        RouteMatch m = p.routes().get(0).match();
        assertThat(m.matches("api.bank.example:443", "/pay/1", "GET")).isTrue();
        assertThat(m.matches("api.bank.example", "/pay", "GET")).isTrue();
        assertThat(m.matches("api.bank.example", "/payroll", "GET")).isFalse();
        assertThat(m.matches("bank.example", "/pay", "GET")).isFalse();
        assertThat(m.matches("api.bank.example", "/pay", "POST")).isFalse();
    }

    @Test
    void meshKeys_unknownOnes_areErrorsWithTheirLine_notSilentlyIgnoredAsIstioDoes() {
        List<PolicyError> e = errors(ISSUER + """
                routes:
                  - name: r
                    match: {path: /a}
                    auth: jwt
                    from:
                      - namespaces: [payments]
                        principal: [cluster.local/ns/x/sa/y]
                """);
        assertThat(e).singleElement().satisfies(err -> {
            assertThat(err.line()).isEqualTo(11);
            assertThat(err.message()).contains("unknown key 'principal'").contains("principals");
        });
        assertThat(errors(ISSUER
                        + "mesh: {trusted_gateway: [x]}\nroutes:\n  - {name: r, match: {path: /a}, auth: jwt}\n"))
                .singleElement()
                .satisfies(err -> assertThat(err.message()).contains("unknown key 'trusted_gateway'"));
        assertThat(
                        errors(
                                ISSUER
                                        + "deny:\n  - {name: d, form: {namespaces: [x]}}\nroutes:\n  - {name: r, match: {path: /a}, auth: jwt}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("unknown key 'form'"));
    }

    @Test
    void meshValues_malformedOnes_areRefused() {
        String routes = "routes:\n  - {name: r, match: {path: /a}, auth: jwt, from: %s}\n";
        assertThat(errors(ISSUER + routes.formatted("{principals: ['cluster.local/ns/a*b']}")))
                .anySatisfy(err -> assertThat(err.message()).contains("not exact, prefix*, *suffix or *"));
        assertThat(errors(ISSUER + routes.formatted("{principals: ['cluster.local/ns/../sa/b']}")))
                .anySatisfy(err -> assertThat(err.message()).contains("not a valid SPIFFE ID"));
        assertThat(errors(ISSUER + routes.formatted("{service_accounts: ['payments']}")))
                .anySatisfy(err -> assertThat(err.message()).contains("<namespace>/<service-account>"));
        assertThat(errors(ISSUER + routes.formatted("{ip_blocks: [10.0.0.0/33]}")))
                .anySatisfy(err -> assertThat(err.message()).contains("not an IP address or CIDR block"));
        assertThat(errors(ISSUER + routes.formatted("{}")))
                .anySatisfy(err -> assertThat(err.message()).contains("would match every caller"));
        assertThat(errors(ISSUER + "mesh: {trusted_gateways: ['cluster.local/ns/*/sa/gw']}\n"
                        + routes.formatted("{namespaces: [a]}")))
                .anySatisfy(err -> assertThat(err.message()).contains("mesh.trusted_gateways"));
        assertThat(errors(ISSUER + "deny:\n  - {name: d}\n" + routes.formatted("{namespaces: [a]}")))
                .anySatisfy(err -> assertThat(err.message()).contains("would deny everything"));
    }

    @Test
    void mtlsRoute_needsFrom_andHasNoRolesOrGatewayHop() throws Exception {
        assertThat(errors("routes:\n  - {name: r, match: {path: /a}, auth: mtls}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("list who may call in 'from'"));
        assertThat(errors(
                        "routes:\n  - {name: r, match: {path: /a}, auth: mtls, roles: [x], from: {namespaces: [a]}}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("no roles or scopes"));
        assertThat(errors("routes:\n  - {name: r, match: {path: /a}, auth: none, via_gateway: true}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("cannot require the gateway hop"));
        AuthzPolicy p = ok("""
                mesh: {trusted_gateways: ['spiffe://cluster.local/ns/mg/sa/gw', 'cluster.local/ns/mg/sa/gw2']}
                routes:
                  - {name: r, match: {path: /a}, auth: mtls, header_contract: exempt, from: {principals: ['*']}}
                """);
        assertThat(p.mesh().trustedGateways())
                .containsExactlyInAnyOrder("cluster.local/ns/mg/sa/gw", "cluster.local/ns/mg/sa/gw2");
        // the hop count moved to the gateway's Envoy (the controller's xds.gateway.xff_num_trusted_hops): refused here
        assertThat(errors("mesh: {trusted_proxy_hops: 1}\nroutes:\n  - {name: r, match: {path: /a}, auth: none}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("xds.gateway.xff_num_trusted_hops"));
        assertThat(p.routes().get(0).auth()).isEqualTo(AuthMode.MTLS);
    }

    @Test
    void trustedWaypoints_areExactSpiffeIds_andAWildcardIsRefused() throws Exception {
        AuthzPolicy p = ok("""
                mesh:
                  trusted_gateways: [cluster.local/ns/mg/sa/gw]
                  trusted_waypoints: ['spiffe://cluster.local/ns/payments/sa/meshguard-waypoint']
                routes:
                  - {name: r, match: {path: /a}, auth: mtls, header_contract: exempt, from: {principals: ['*']}}
                """);
        assertThat(p.mesh().trustedWaypoints()).containsExactly("cluster.local/ns/payments/sa/meshguard-waypoint");
        // a suffix would trust any namespace's account of that name: anyone who may create a ServiceAccount
        assertThat(errors("mesh: {trusted_waypoints: ['cluster.local/ns/*/sa/meshguard-waypoint']}\n"
                        + "routes:\n  - {name: r, match: {path: /a}, auth: none}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("mesh.trusted_waypoints"));
    }

    @Test
    void whenCondition_compileErrors_carryFileAndLine() {
        List<PolicyError> e = errors(ISSUER + """
                routes:
                  - name: r
                    match: {path: /a}
                    auth: jwt
                    when:
                      - request.method == "GET"
                      - claims.amr.size() > "x"
                """);
        assertThat(e).singleElement().satisfies(err -> {
            assertThat(err.toString()).startsWith("authz.yaml:11: route r.when: ");
            assertThat(err.message()).contains("no matching overload");
        });
    }
}
