package io.meshguard.extauthz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.grpc.ManagedChannel;
import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.JwksServer;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Keys made once per test JVM (RSA generation is slow), a policy template, and request helpers. */
public final class Fixtures {
    public static final String ISSUER = "https://idp.test.example";
    public static final TestKeys RS1 = TestKeys.generate("rs-1", JWSAlgorithm.RS256);
    public static final TestKeys RS2 = TestKeys.generate("rs-2", JWSAlgorithm.RS256);
    public static final TestKeys ES1 = TestKeys.generate("es-1", JWSAlgorithm.ES256);

    private Fixtures() {}

    /** A policy with one issuer at {@code keysLine} (e.g. {@code jwks_uri: http://...}) and a few routes. */
    public static String policyYaml(String keysLine, String extraIssuerSettings) {
        return """
                issuers:
                  - name: test-idp
                    issuer: %s
                    %s
                    audiences: [meshguard]
                    algorithms: [RS256, ES256]
                    clock_skew: 30s
                    claims: {subject: sub, tenant: tenant, roles: realm_access.roles, scopes: scope, client_id: azp}
                %s
                header_contract:
                  tenant_header: x-tenant-id
                  required: [x-tenant-id]
                  defaults: {x-dwp-source: FRONTEND, x-dwp-caller-type: USER}
                rate_limits:
                  by: tenant
                  default_tier: small
                  tiers:
                    small: {requests_per_second: 1, burst: 3}
                    big: {requests_per_second: 1000, burst: 1000}
                  tenant_tiers: {big-tenant: big}
                routes:
                  - name: health
                    match: {path: /healthz}
                    auth: none
                    header_contract: exempt
                  - name: api
                    match: {path_prefix: /api}
                    auth: jwt_or_apikey
                    roles: [user]
                  - name: admin
                    match: {path_prefix: /admin}
                    auth: jwt
                    roles: {all_of: [admin]}
                    scopes: [admin:write]
                """.formatted(
                        ISSUER,
                        keysLine,
                        extraIssuerSettings
                                .strip()
                                .lines()
                                .map(l -> "    " + l.strip())
                                .collect(java.util.stream.Collectors.joining("\n")));
    }

    public static AuthzPolicy parse(String yaml) {
        try {
            return new AuthzPolicyParser().parse("test.yaml", new StringReader(yaml));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static AuthzPipeline pipeline(
            AuthzPolicy policy, MeterRegistry registry, Optional<ApiKeyAuthenticator> apiKeys) {
        return TestPipeline.running(policy, registry, p -> p.apiKeys = apiKeys);
    }

    public static JWTClaimsSet.Builder claims(String sub, String tenant, List<String> roles) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject(sub)
                .audience("meshguard")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300)))
                .claim("tenant", tenant)
                .claim("realm_access", Map.of("roles", roles))
                .claim("scope", "read admin:write");
    }

    /** A GET of {@code /api/x} on {@code api.test.example} with a bearer token and a tenant, as Envoy sends it. */
    public static CheckRequest bearerCheck(String token, String tenant) {
        return CheckRequests.of(
                "GET",
                "api.test.example",
                "/api/x",
                Map.of("authorization", List.of("Bearer " + token), "x-tenant-id", List.of(tenant)),
                Map.of(),
                CheckRequests.Encoding.HEADERS);
    }

    /**
     * Envoy cancelling a Check in flight (the client reset): the IdP made slow, so the Check waits on the key set,
     * and cancelled once it asked for the keys. The server decides it once the IdP answers after {@code slowness}.
     */
    public static void cancelWhileKeysLoad(
            JwksServer jwks, Duration slowness, ManagedChannel channel, CheckRequest check) {
        jwks.answerAfter(slowness);
        var inFlight = AuthorizationGrpc.newFutureStub(channel).check(check);
        await().atMost(Duration.ofSeconds(10)).until(() -> jwks.jwksRequests() >= 1);
        assertThat(inFlight.cancel(true)).isTrue();
    }

    public static HttpRequestView request(String path, Map<String, List<String>> headers) {
        return HttpRequestView.of(
                CheckRequests.of("GET", "api.test.example", path, headers, Map.of(), CheckRequests.Encoding.HEADERS));
    }

    public static Map<String, List<String>> headers(String... kv) {
        Map<String, List<String>> h = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            h.computeIfAbsent(kv[i], k -> new java.util.ArrayList<>()).add(kv[i + 1]);
        }
        return h;
    }

    public static Map<String, String> set(Decision d) {
        Map<String, String> out = new LinkedHashMap<>();
        for (HeaderMutation m : d.headersSet()) {
            out.put(m.name(), m.value());
        }
        return out;
    }
}
