package io.meshguard.extauthz.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.decision.AuthzEngine;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Per-route overrides Envoy sends in context_extensions. */
class ContextExtensionsTest {
    static AuthzPipeline pipeline;

    @BeforeAll
    static void start() {
        // key fetches are never needed here: no case carries a token that gets verified
        pipeline = Fixtures.pipeline(
                Fixtures.parse(Fixtures.policyYaml("jwks_uri: http://127.0.0.1:1/jwks.json", "")),
                new SimpleMeterRegistry(),
                Optional.empty());
    }

    @AfterAll
    static void stop() {
        pipeline.close();
    }

    private static Decision decide(String path, Map<String, String> ext, String... headers) {
        return pipeline.decide(HttpRequestView.of(CheckRequests.of(
                "GET", "api.test.example", path, Fixtures.headers(headers), ext, CheckRequests.Encoding.HEADERS)));
    }

    @Test
    void authzProfile_picksTheNamedRule_evenForAPathItWouldNotMatch() {
        Decision d = decide("/elsewhere", Map.of(RouteContract.AuthzContext.AUTHZ_PROFILE, "health"));
        assertThat(d.allowed()).isTrue();
        assertThat(d.route()).contains("health");
    }

    @Test
    void authzProfile_unknownName_isDenied_neverMatchedByPath() {
        // /healthz would match the public rule "health": an unknown name must not fall back to it
        Decision d = decide("/healthz", Map.of(RouteContract.AuthzContext.AUTHZ_PROFILE, "no-such-route"));
        assertThat(d.status()).isEqualTo(403);
        assertThat(d.reason()).isEqualTo(Reason.UNKNOWN_PROFILE);
        assertThat(d.route()).isEmpty();
        assertThat(d.body()).contains("\"reason\":\"unknown_profile\"");
    }

    @Test
    void authOverride_toApiKey_ignoresABearerToken() {
        Decision d = decide(
                "/api/x",
                Map.of(RouteContract.AuthzContext.AUTH, "apikey"),
                "authorization",
                "Bearer abc",
                "x-tenant-id",
                "t");
        assertThat(d.status()).isEqualTo(401);
        assertThat(d.reason()).isEqualTo(Reason.MISSING_CREDENTIAL);
        assertThat(d.description()).isEqualTo("API key required");
    }

    @Test
    void authOverride_cannotOpenARoute() {
        Decision d = decide("/api/x", Map.of(RouteContract.AuthzContext.AUTH, "none"), "x-tenant-id", "t");
        assertThat(d.allowed()).isFalse();
        assertThat(d.reason()).isEqualTo(Reason.INVALID_ROUTE_CONFIG);
    }

    @Test
    void publicRoute_removesEveryClientSentIdentityAndCredential() {
        Decision d = decide(
                "/healthz",
                Map.of(),
                "x-user-id",
                "root",
                "x-tenant-id",
                "other",
                "authorization",
                "Bearer x",
                "x-api-key",
                "k");
        assertThat(d.allowed()).isTrue();
        assertThat(d.headersRemoved())
                .contains("x-user-id", "x-tenant-id", "x-user-roles", "authorization", "x-api-key");
        assertThat(Fixtures.set(d)).containsOnlyKeys("x-auth-method");
    }

    @Test
    void policyNotLoaded_deniesEverything() {
        Decision d = AuthzEngine.policyNotLoaded(HttpRequestView.of(
                CheckRequests.of("GET", "h", "/healthz", Map.of(), Map.of(), CheckRequests.Encoding.HEADERS)));
        assertThat(d.allowed()).isFalse();
        assertThat(d.reason()).isEqualTo(Reason.POLICY_NOT_LOADED);
    }
}
