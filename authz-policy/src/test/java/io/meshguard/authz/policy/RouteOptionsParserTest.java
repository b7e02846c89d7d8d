package io.meshguard.authz.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The route and issuer options: parsed, validated with lines, and linted by {@code policy check}. */
class RouteOptionsParserTest {
    private static final String ISSUERS = """
            issuers:
              - name: idp
                issuer: https://idp.example
                jwks_uri: https://idp.example/jwks
              - name: sts
                issuer: https://sts.example
                jwks_uri: https://sts.example/jwks
                require_typ: at+jwt
            """;

    private static AuthzPolicy ok(String yaml) throws PolicyInvalidException {
        return new AuthzPolicyParser().parse("authz.yaml", new StringReader(yaml));
    }

    private static List<PolicyError> errors(String yaml) {
        try {
            ok(yaml);
        } catch (PolicyInvalidException e) {
            return e.errors();
        }
        throw new AssertionError("expected the policy to be rejected");
    }

    @Test
    void routeOptions_areParsed() throws Exception {
        AuthzPolicy p = ok(ISSUERS + """
                routes:
                  - name: r
                    match: {path_prefix: /a}
                    auth: jwt
                    issuers: [sts]
                    allow_path_parameters: true
                    pass_headers: [X-HTTP-Method-Override]
                """);
        RouteOptions o = p.routes().get(0).options();
        assertThat(o.issuers()).containsExactly("sts");
        assertThat(o.allowPathParameters()).isTrue();
        assertThat(o.passHeaders()).containsExactly("x-http-method-override");
        assertThat(p.issuerNamed("sts").orElseThrow().requireAccessTokenType()).isTrue();
        assertThat(p.issuerNamed("idp").orElseThrow().acceptIdTokens()).isFalse();
    }

    @Test
    void defaults_areOff() throws Exception {
        AuthzPolicy p = ok(ISSUERS + "routes:\n  - {name: r, match: {path_prefix: /a}, auth: jwt}\n");
        assertThat(p.routes().get(0).options()).isEqualTo(RouteOptions.DEFAULT);
    }

    @Test
    void unknownIssuerName_isAnErrorWithItsLine() {
        List<PolicyError> e =
                errors(ISSUERS + "routes:\n  - {name: r, match: {path_prefix: /a}, auth: jwt, issuers: [nope]}\n");
        assertThat(e).singleElement().satisfies(err -> {
            assertThat(err.line()).isEqualTo(10);
            assertThat(err.message()).contains("no issuer named 'nope'");
        });
    }

    @Test
    void pinningIssuers_onAnApiKeyRoute_isAnError() {
        assertThat(errors(ISSUERS + "routes:\n  - {name: r, match: {path_prefix: /a}, auth: apikey, issuers: [idp]}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("only routes that accept tokens"));
    }

    @Test
    void passHeaders_mayNameOnlyOverrideHeaders_neverOwnedOnes() {
        assertThat(errors(ISSUERS
                        + "routes:\n  - {name: r, match: {path_prefix: /a}, auth: jwt, pass_headers: [x-user-id]}\n"))
                .anySatisfy(
                        err -> assertThat(err.message()).contains("'x-user-id' is not a method/URL override header"));
        assertThat(errors(ISSUERS
                        + "routes:\n  - {name: r, match: {path_prefix: /a}, auth: jwt, pass_headers: [x_user_id]}\n"))
                .isNotEmpty();
    }

    @Test
    void requireTyp_otherThanAtJwt_andContradictingIdTokens_areErrors() {
        String bad = ISSUERS.replace("require_typ: at+jwt", "require_typ: JWT");
        assertThat(errors(bad + "routes:\n  - {name: r, match: {path_prefix: /a}, auth: jwt}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("only 'at+jwt'"));
        String both = ISSUERS.replace("require_typ: at+jwt", "require_typ: at+jwt\n    accept_id_tokens: true");
        assertThat(errors(both + "routes:\n  - {name: r, match: {path_prefix: /a}, auth: jwt}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("contradicts"));
    }

    @Test
    void rateLimits_publicTier_isParsedAndChecked() throws Exception {
        String limits = """
                rate_limits:
                  default_tier: free
                  public_tier: anon
                  tiers: {free: {requests_per_second: 5}, anon: {requests_per_second: 1}}
                """;
        AuthzPolicy p = ok(ISSUERS + limits + "routes:\n  - {name: r, match: {path_prefix: /a}, auth: jwt}\n");
        assertThat(p.rateLimits().orElseThrow().publicTier()).isEqualTo("anon");
        assertThat(errors(ISSUERS + limits.replace("public_tier: anon", "public_tier: nope")
                        + "routes:\n  - {name: r, match: {path_prefix: /a}, auth: jwt}\n"))
                .anySatisfy(err -> assertThat(err.message()).contains("public_tier: no tier named 'nope'"));
    }

    @Test
    void publicRouteWithoutHosts_isAWarning_notAnError() throws Exception {
        AuthzPolicy p = ok(ISSUERS + """
                routes:
                  - {name: open, match: {path_prefix: /login}, auth: none}
                  - {name: scoped, match: {hosts: [api.example], path_prefix: /login}, auth: none}
                  - {name: api, match: {path_prefix: /a}, auth: jwt}
                """);
        assertThat(PolicyWarnings.of(p)).singleElement().satisfies(w -> {
            assertThat(w.line()).isEqualTo(10);
            assertThat(w.message()).contains("route open: auth none without 'hosts'");
        });
    }

    @Test
    void denyConditionReadingAKeyWithoutAPresenceTest_isAWarningNamingTheFix_inEverySpelling() throws Exception {
        AuthzPolicy p = ok(ISSUERS + """
                deny:
                  - {name: natural, when: ['request.query["debug"] == "1"']}
                  - {name: quoted, when: ["request.headers['x-debug'] == '1'"]}
                  - {name: selected, when: ['request.query.debug == "1"']}
                  - {name: guarded, when: ['"debug" in request.query && request.query["debug"] == "1"']}
                  - {name: has-guarded, when: ['has(request.query.debug) && request.query.debug == "1"']}
                  - {name: other-key-guarded, when: ['"x" in request.query && request.query["debug"] == "1"']}
                routes:
                  - {name: api, match: {hosts: [api.example], path_prefix: /a}, auth: jwt}
                """);
        assertThat(PolicyWarnings.of(p))
                .extracting(PolicyError::message)
                .satisfiesExactly(
                        w -> assertThat(w)
                                .contains("deny rule natural reads request.query[\"debug\"] without a presence test")
                                .contains("'\"debug\" in request.query && …'"),
                        w -> assertThat(w).contains("deny rule quoted reads request.headers[\"x-debug\"]"),
                        w -> assertThat(w).contains("deny rule selected reads request.query[\"debug\"]"),
                        w -> assertThat(w).contains("deny rule other-key-guarded reads request.query[\"debug\"]"));
    }
}
