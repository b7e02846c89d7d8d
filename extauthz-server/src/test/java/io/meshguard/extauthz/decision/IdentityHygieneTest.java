package io.meshguard.extauthz.decision;

import static io.meshguard.extauthz.Fixtures.ES1;
import static io.meshguard.extauthz.Fixtures.RS1;
import static io.meshguard.extauthz.Fixtures.RS2;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Identity the upstream can trust: claim values refused rather than altered, every owned header set or removed on
 * every route, underscore and override spellings stripped, issuers pinned per route, access tokens told from ID
 * tokens, public routes limited per client address.
 */
class IdentityHygieneTest {
    private static final String POLICY = """
            issuers:
              - name: test-idp
                issuer: https://idp.test.example
                jwks_uri: http://127.0.0.1:1/a.json
                audiences: [meshguard]
                algorithms: [RS256, ES256]
                claims: {subject: sub, tenant: tenant, roles: realm_access.roles, scopes: scope, client_id: azp}
              - name: other-idp
                issuer: https://other.test.example
                jwks_uri: http://127.0.0.1:1/b.json
                claims: {subject: sub, tenant: tenant}
              - name: typed-idp
                issuer: https://typed.test.example
                jwks_uri: http://127.0.0.1:1/c.json
                algorithms: [ES256]
                require_typ: at+jwt
              - name: oidc-idp
                issuer: https://oidc.test.example
                jwks_uri: http://127.0.0.1:1/d.json
                accept_id_tokens: true
            header_contract:
              tenant_header: x-tenant-id
              defaults: {x-dwp-source: FRONTEND, x-dwp-caller-type: USER}
            rate_limits:
              by: tenant
              default_tier: big
              public_tier: tiny
              tiers:
                tiny: {requests_per_second: 0.001, burst: 2}
                big: {requests_per_second: 1000, burst: 1000}
            routes:
              - {name: login, match: {hosts: [api.test.example], path_prefix: /login}, auth: none, header_contract: exempt}
              - {name: legacy, match: {path_prefix: /legacy}, auth: jwt, pass_headers: [x-http-method-override]}
              - {name: pinned, match: {path_prefix: /pinned}, auth: jwt, issuers: [other-idp]}
              - {name: api, match: {path_prefix: /api}, auth: jwt}
            """;

    static AuthzPipeline pipeline;

    @BeforeAll
    static void start() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Map<String, JWKSet> local = Map.of(
                "test-idp",
                TestKeys.publicSet(List.of(RS1)),
                "other-idp",
                TestKeys.publicSet(List.of(RS2)),
                "typed-idp",
                TestKeys.publicSet(List.of(ES1)),
                "oidc-idp",
                TestKeys.publicSet(List.of(RS1)));
        pipeline = TestPipeline.build(registry, p -> p.keys = local);
        pipeline.use(Fixtures.parse(POLICY));
    }

    @AfterAll
    static void stop() {
        pipeline.close();
    }

    private static JWTClaimsSet.Builder claims(String iss) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(iss)
                .subject("alice")
                .audience("meshguard")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300)))
                .claim("tenant", "acme")
                .claim("scope", "read")
                .claim("realm_access", Map.of("roles", List.of("user")));
    }

    private static Decision call(String path, String token, String... headers) {
        Map<String, List<String>> h = new LinkedHashMap<>(Fixtures.headers(headers));
        if (token != null) {
            h.put("authorization", List.of("Bearer " + token));
        }
        return pipeline.decide(HttpRequestView.of(
                CheckRequests.of("GET", "api.test.example", path, h, Map.of(), CheckRequests.Encoding.HEADERS)));
    }

    private static String idp(JWTClaimsSet.Builder c) {
        return RS1.sign(c.build());
    }

    // ---- claim values --------------------------------------------------------------------------------------

    @Test
    void check_claimValuesThatWouldChangeMeaningInAHeader_areRefused401_neverAltered() {
        Map<String, JWTClaimsSet.Builder> cases = new LinkedHashMap<>();
        cases.put(
                "comma in a role",
                claims("https://idp.test.example").claim("realm_access", Map.of("roles", List.of("user,admin"))));
        cases.put(
                "space in a role",
                claims("https://idp.test.example").claim("realm_access", Map.of("roles", List.of("user admin"))));
        cases.put("space in a scope", claims("https://idp.test.example").claim("scope", List.of("read write")));
        cases.put("comma in the tenant", claims("https://idp.test.example").claim("tenant", "acme,globex"));
        cases.put("comma in the subject", claims("https://idp.test.example").subject("alice,bob"));
        cases.put("surrounding whitespace", claims("https://idp.test.example").subject(" alice"));
        cases.put("control character", claims("https://idp.test.example").subject("alice\r\nx-user-roles: admin"));
        cases.put("DEL", claims("https://idp.test.example").subject("alice\u007f"));
        cases.put("non-ASCII", claims("https://idp.test.example").subject("ålice"));
        cases.put("comma in the client id", claims("https://idp.test.example").claim("azp", "app,other"));
        cases.forEach((what, c) -> {
            Decision d = call("/api/x", idp(c));
            assertThat(d.status()).as(what).isEqualTo(401);
            assertThat(d.reason()).as(what).isEqualTo(Reason.INVALID_CLAIM);
            assertThat(d.headersSet()).as(what).isEmpty();
        });
    }

    @Test
    void check_plainClaims_areSetWithOverwrite() {
        Decision d = call("/api/x", idp(claims("https://idp.test.example")));
        assertThat(d.allowed()).as(d.toString()).isTrue();
        assertThat(d.headersSet())
                .allSatisfy(m -> assertThat(m.appendAction()).isEqualTo("OVERWRITE_IF_EXISTS_OR_ADD"));
        assertThat(Fixtures.set(d)).containsEntry("x-user-id", "alice").containsEntry("x-tenant-id", "acme");
    }

    // ---- owned headers ---------------------------------------------------------------------------------------

    @Test
    void contractDefaults_overwriteWhatTheClientSent_andTheAuditRecordsMeshguardsValue() {
        HttpRequestView view = HttpRequestView.of(CheckRequests.of(
                "GET",
                "api.test.example",
                "/api/x",
                Fixtures.headers(
                        "authorization",
                        "Bearer " + idp(claims("https://idp.test.example")),
                        "x-dwp-source",
                        "BATCH",
                        "x-dwp-caller-type",
                        "SERVICE"),
                Map.of(),
                CheckRequests.Encoding.HEADERS));
        Decision d = pipeline.decide(view);
        assertThat(d.allowed()).isTrue();
        HeaderMutation source = d.headersSet().stream()
                .filter(m -> m.name().equals("x-dwp-source"))
                .findFirst()
                .orElseThrow();
        assertThat(source.value()).isEqualTo("FRONTEND");
        assertThat(source.appendAction()).isEqualTo("OVERWRITE_IF_EXISTS_OR_ADD");
        assertThat(Fixtures.set(d)).containsEntry("x-dwp-caller-type", "USER");
        AuthzDecisionEvent e = DecisionEvents.of(view, d, Instant.now(), 1);
        assertThat(e.source()).contains("FRONTEND");
        assertThat(e.callerType()).contains("USER");
    }

    @Test
    void publicRoute_removesContractAndIdentityHeaders_andTheAuditRecordsNoClientValue() {
        HttpRequestView view = HttpRequestView.of(CheckRequests.of(
                "GET",
                "api.test.example",
                "/login",
                Fixtures.headers(
                        "x-dwp-source",
                        "BATCH",
                        "x-dwp-caller-type",
                        "SERVICE",
                        "x-tenant-id",
                        "acme",
                        "x-user-id",
                        "root"),
                Map.of(),
                CheckRequests.Encoding.HEADERS,
                "",
                "10.9.9.9"));
        Decision d = pipeline.decide(view);
        assertThat(d.allowed()).isTrue();
        assertThat(d.headersRemoved()).contains("x-dwp-source", "x-dwp-caller-type", "x-tenant-id", "x-user-id");
        assertThat(Fixtures.set(d)).containsOnlyKeys("x-auth-method");
        AuthzDecisionEvent e = DecisionEvents.of(view, d, Instant.now(), 1);
        assertThat(e.source()).isEmpty();
        assertThat(e.callerType()).isEmpty();
    }

    @Test
    void underscoreSpellingsOfOwnedHeaders_areRemoved_onEveryRoute() {
        String[] spellings = {
            "x_user_id",
            "x-user_id",
            "x_tenant_id",
            "x_user_roles",
            "x_auth_method",
            "x_dwp_caller_type",
            "x_dwp_source",
            "x_api_key"
        };
        for (String path : List.of("/api/x", "/login/x")) {
            String[] headers = new String[spellings.length * 2];
            for (int i = 0; i < spellings.length; i++) {
                headers[2 * i] = spellings[i];
                headers[2 * i + 1] = "forged";
            }
            Decision d = path.startsWith("/api")
                    ? call(path, idp(claims("https://idp.test.example")), headers)
                    : pipeline.decide(HttpRequestView.of(CheckRequests.of(
                            "GET",
                            "api.test.example",
                            path,
                            Fixtures.headers(headers),
                            Map.of(),
                            CheckRequests.Encoding.HEADERS,
                            "",
                            "10.7.7." + path.length())));
            assertThat(d.allowed()).as(path).isTrue();
            assertThat(d.headersRemoved()).as(path).contains(spellings);
        }
    }

    @Test
    void methodAndUrlOverrideHeaders_areRemoved_unlessTheRoutePassesThem() {
        String token = idp(claims("https://idp.test.example"));
        String[] overrides = {
            "x-http-method-override",
            "DELETE",
            "x-http-method",
            "DELETE",
            "x-method-override",
            "DELETE",
            "x-original-url",
            "/admin",
            "x-rewrite-url",
            "/admin",
            "x-original-uri",
            "/admin",
            "x-original-method",
            "DELETE",
            "x-forwarded-prefix",
            "/admin",
            "x-forwarded-uri",
            "/admin",
            "x-forwarded-method",
            "DELETE",
            "x_http_method_override",
            "DELETE"
        };
        Decision api = call("/api/x", token, overrides);
        assertThat(api.allowed()).isTrue();
        assertThat(api.headersRemoved())
                .contains(
                        "x-http-method-override",
                        "x-http-method",
                        "x-method-override",
                        "x-original-url",
                        "x-rewrite-url",
                        "x-original-uri",
                        "x-original-method",
                        "x-forwarded-prefix",
                        "x-forwarded-uri",
                        "x-forwarded-method",
                        "x_http_method_override");

        Decision legacy = call("/legacy/x", token, overrides);
        assertThat(legacy.allowed()).isTrue();
        assertThat(legacy.headersRemoved())
                .doesNotContain("x-http-method-override", "x_http_method_override")
                .contains("x-original-url", "x-http-method");
    }

    // ---- issuers and token types -----------------------------------------------------------------------------

    @Test
    void pinnedRoute_refusesTokensOfOtherIssuers_andAcceptsItsOwn() {
        Decision other = call("/pinned/x", idp(claims("https://idp.test.example")));
        assertThat(other.status()).isEqualTo(401);
        assertThat(other.reason()).isEqualTo(Reason.ISSUER_NOT_ACCEPTED);

        Decision own =
                call("/pinned/x", RS2.sign(claims("https://other.test.example").build()));
        assertThat(own.allowed()).as(own.toString()).isTrue();
    }

    @Test
    void explicitlyTypedOtherJwts_areRefused_whateverTheIssuer() {
        for (String typ : List.of("logout+jwt", "dpop+jwt", "secevent+jwt", "id_token")) {
            String token = RS1.signWithHeader(
                    Map.of("alg", "RS256", "kid", RS1.kid(), "typ", typ),
                    claims("https://idp.test.example").build());
            Decision d = call("/api/x", token);
            assertThat(d.reason()).as(typ).isEqualTo(Reason.WRONG_TOKEN_TYPE);
            assertThat(d.status()).as(typ).isEqualTo(401);
        }
        String atJwt = RS1.signWithHeader(
                Map.of("alg", "RS256", "kid", RS1.kid(), "typ", "application/at+jwt"),
                claims("https://idp.test.example").build());
        assertThat(call("/api/x", atJwt).allowed()).isTrue();
    }

    @Test
    void requireTyp_acceptsOnlyAtJwt() {
        JWTClaimsSet c = claims("https://typed.test.example").build();
        assertThat(call("/api/x", ES1.sign(c)).reason()).isEqualTo(Reason.WRONG_TOKEN_TYPE);
        String typed = ES1.signWithHeader(Map.of("alg", "ES256", "kid", ES1.kid(), "typ", "at+jwt"), c);
        Decision d = call("/api/x", typed);
        assertThat(d.allowed()).as(d.toString()).isTrue();
    }

    @Test
    void idTokens_areRefusedAsCredentials_unlessTheIssuerAcceptsThem() {
        JWTClaimsSet.Builder nonce = claims("https://idp.test.example")
                .claim("nonce", "n-0S6_WzA2Mj")
                .claim("at_hash", "77QmUPtj");
        nonce.claim("scope", null);
        Decision d = call("/api/x", idp(nonce));
        assertThat(d.reason()).isEqualTo(Reason.WRONG_TOKEN_TYPE);

        Decision keycloakId =
                call("/api/x", idp(claims("https://idp.test.example").claim("typ", "ID")));
        assertThat(keycloakId.reason()).isEqualTo(Reason.WRONG_TOKEN_TYPE);

        // an access token may carry a nonce too: with a scope it is not taken for an ID token
        assertThat(call("/api/x", idp(claims("https://idp.test.example").claim("nonce", "n")))
                        .allowed())
                .isTrue();

        JWTClaimsSet.Builder oidc =
                claims("https://oidc.test.example").claim("nonce", "n").claim("scope", null);
        Decision accepted = call("/api/x", RS1.sign(oidc.build()));
        assertThat(accepted.allowed()).as(accepted.toString()).isTrue();
    }

    // ---- public routes: per-address limits ------------------------------------------------------------------

    @Test
    void publicRoute_behindALoadBalancer_isLimitedPerClientEnvoyChose_notPerLoadBalancer() {
        AuthzPipeline p = Fixtures.pipeline(Fixtures.parse("""
                rate_limits:
                  default_tier: tiny
                  tiers: {tiny: {requests_per_second: 0.001, burst: 1}}
                routes:
                  - {name: login, match: {hosts: [api.test.example], path_prefix: /login}, auth: none}
                """), new SimpleMeterRegistry(), Optional.empty());
        // LB (10.0.0.9) -> the edge gateway's Envoy trusting one hop -> the Check, as conn_manager_utility.cc builds it
        io.meshguard.extauthz.tools.EdgeEnvoy envoy = new io.meshguard.extauthz.tools.EdgeEnvoy(1);
        try (p) {
            java.util.function.Function<String, Decision> viaLb = xff -> p.decide(HttpRequestView.of(CheckRequests.of(
                    "POST",
                    "api.test.example",
                    "/login",
                    envoy.headers(Fixtures.headers("x-forwarded-for", xff), "10.0.0.9"),
                    envoy.contextExtensions(Map.of()),
                    CheckRequests.Encoding.HEADERS,
                    "",
                    "10.0.0.9")));
            assertThat(viaLb.apply("198.51.100.1").allowed()).isTrue();
            // what the client writes left of the LB's entry does not give it a fresh bucket
            Decision again = viaLb.apply("6.6.6.6, 198.51.100.1");
            assertThat(again.reason()).isEqualTo(Reason.RATE_LIMITED);
            // another client behind the same LB has its own bucket (before: every client was the LB)
            assertThat(viaLb.apply("198.51.100.2").allowed()).isTrue();
        }
    }

    @Test
    void publicRoute_isRateLimitedPerClientAddress() {
        Decision last = null;
        for (int i = 0; i < 3; i++) {
            last = pipeline.decide(HttpRequestView.of(CheckRequests.of(
                    "POST",
                    "api.test.example",
                    "/login",
                    Map.of(),
                    Map.of(),
                    CheckRequests.Encoding.HEADERS,
                    "",
                    "192.0.2.10")));
        }
        assertThat(last.status()).isEqualTo(429);
        assertThat(last.reason()).isEqualTo(Reason.RATE_LIMITED);
        assertThat(last.responseHeaders()).containsKey("retry-after");

        Decision other = pipeline.decide(HttpRequestView.of(CheckRequests.of(
                "POST",
                "api.test.example",
                "/login",
                Map.of(),
                Map.of(),
                CheckRequests.Encoding.HEADERS,
                "",
                "192.0.2.11")));
        assertThat(other.allowed()).isTrue();
    }
}
