package io.meshguard.extauthz.decision;

import static io.meshguard.extauthz.Fixtures.RS1;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Under the shipped header contract ({@code required: [x-tenant-id]}) the tenant of a credentialed call is the
 * credential's: an API key's tenant or a token's tenant claim. The customer need not send its own tenant; a tenant
 * header that names another one is refused, whatever its spelling; a credential that names no tenant, and a call
 * without a credential on an open route, still need the header.
 */
class TenantFromCredentialTest {

    static final String PLAIN_ISSUER = "https://plain.test.example";
    static final InMemoryApiKeyStore KEYS = new InMemoryApiKeyStore();
    static AuthzPipeline pipeline;
    static String acmeKey;

    @BeforeAll
    static void start() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        pipeline = TestPipeline.build(registry, p -> {
            p.keys =
                    Map.of("test-idp", TestKeys.publicSet(List.of(RS1)), "plain-idp", TestKeys.publicSet(List.of(RS1)));
            p.apiKeys = Optional.of(new ApiKeyAuthenticator(KEYS, Clock.systemUTC(), Duration.ZERO));
        });
        // an open route that is not exempt from the contract: the header is its only name of the tenant
        // a second issuer whose tokens name no tenant (no tenant claim mapped)
        pipeline.use(Fixtures.parse(Fixtures.policyYaml("jwks_uri: http://127.0.0.1:1/a.json", "")
                        .replaceFirst("header_contract:", """
                                  - {name: plain-idp, issuer: %s, jwks_uri: http://127.0.0.1:1/b.json,
                                     audiences: [meshguard], claims: {subject: sub, roles: realm_access.roles}}
                                header_contract:""".formatted(PLAIN_ISSUER))
                + "  - {name: open, match: {path_prefix: /open}, auth: none}\n"));
        acmeKey = new ApiKeyService(KEYS, Clock.systemUTC())
                .create("shop", "svc", "acme", List.of("user"), List.of(), "big", Optional.empty())
                .text();
    }

    @AfterAll
    static void stop() {
        pipeline.close();
    }

    private static Decision call(String path, String... headers) {
        Map<String, List<String>> h = new LinkedHashMap<>(Fixtures.headers(headers));
        return pipeline.decide(HttpRequestView.of(
                CheckRequests.of("GET", "api.test.example", path, h, Map.of(), CheckRequests.Encoding.HEADERS)));
    }

    private static String token(String tenant) {
        return "Bearer "
                + RS1.sign(Fixtures.claims("alice", tenant, List.of("user")).build());
    }

    @Test
    void apiKey_withoutTenantHeader_isAllowed_andTheUpstreamGetsTheKeysTenant() {
        Decision d = call("/api/x", "x-api-key", acmeKey);

        assertThat(d.allowed()).as(d.body()).isTrue();
        assertThat(Fixtures.set(d)).containsEntry("x-tenant-id", "acme");
    }

    @Test
    void apiKey_withAnotherTenantInTheHeader_isRefused403_inEverySpelling() {
        for (String name : List.of("x-tenant-id", "X-Tenant-Id", "X-TENANT-ID")) {
            for (String value : List.of("globex", "ACME", " globex ", "")) {
                Decision d = call("/api/x", "x-api-key", acmeKey, name, value);

                assertThat(d.allowed()).as(name + ": '" + value + "'").isFalse();
                assertThat(d.reason()).as(name + ": '" + value + "'").isEqualTo(Reason.TENANT_MISMATCH);
                assertThat(d.status()).isEqualTo(403);
            }
        }
    }

    @Test
    void apiKey_withItsOwnTenantInTheHeader_isAllowed() {
        assertThat(call("/api/x", "x-api-key", acmeKey, "X-Tenant-Id", "acme").allowed())
                .isTrue();
    }

    @Test
    void tenantHeaderSentTwice_isRefused400_evenWithTheCredentialsTenant() {
        Decision twice = call("/api/x", "x-api-key", acmeKey, "x-tenant-id", "acme", "x-tenant-id", "acme");
        Decision joined = call("/api/x", "x-api-key", acmeKey, "x-tenant-id", "acme,globex");

        assertThat(twice.reason()).isEqualTo(Reason.DUPLICATE_HEADER);
        assertThat(twice.status()).isEqualTo(400);
        assertThat(joined.allowed()).isFalse();
    }

    @Test
    void jwtWithTenantClaim_withoutTenantHeader_isAllowed_andTheUpstreamGetsTheClaimsTenant() {
        Decision d = call("/api/x", "authorization", token("acme"));

        assertThat(d.allowed()).as(d.body()).isTrue();
        assertThat(Fixtures.set(d)).containsEntry("x-tenant-id", "acme");
    }

    @Test
    void jwtWithTenantClaim_andAnotherTenantInTheHeader_isRefused403() {
        Decision d = call("/api/x", "authorization", token("acme"), "X-Tenant-ID", "globex");

        assertThat(d.reason()).isEqualTo(Reason.TENANT_MISMATCH);
        assertThat(d.status()).isEqualTo(403);
    }

    @Test
    void jwtOfAnIssuerMappingATenant_withoutTheClaim_isRefused401_neverTakenFromTheHeader() {
        Decision d = call("/api/x", "authorization", token(null), "x-tenant-id", "acme");

        assertThat(d.reason()).isEqualTo(Reason.INVALID_TOKEN);
        assertThat(d.status()).isEqualTo(401);
    }

    @Test
    void jwtNamingNoTenant_isRefused_400WithoutTheTenantHeader_403WithOne() {
        String plain = "Bearer "
                + RS1.sign(Fixtures.claims("bob", null, List.of("user"))
                        .issuer(PLAIN_ISSUER)
                        .build());

        Decision without = call("/api/x", "authorization", plain);
        Decision with = call("/api/x", "authorization", plain, "x-tenant-id", "acme");

        assertThat(without.reason()).isEqualTo(Reason.REQUIRED_HEADER_MISSING);
        assertThat(without.status()).isEqualTo(400);
        assertThat(without.body()).contains("x-tenant-id");
        assertThat(with.allowed()).as(with.body()).isFalse();
        assertThat(with.reason()).isEqualTo(Reason.TENANT_MISMATCH);
    }

    @Test
    void openRoute_withoutTenantHeader_isStillRefused400() {
        Decision d = call("/open/x");

        assertThat(d.reason()).isEqualTo(Reason.REQUIRED_HEADER_MISSING);
        assertThat(call("/open/x", "x-tenant-id", "acme").allowed()).isTrue();
    }

    @Test
    void noCredential_withoutTenantHeader_isAskedForTheCredential401() {
        Decision d = call("/api/x");

        assertThat(d.status()).isEqualTo(401);
    }
}
