package io.meshguard.extauthz.jwt;

import static io.meshguard.extauthz.Fixtures.ES1;
import static io.meshguard.extauthz.Fixtures.RS1;
import static io.meshguard.extauthz.Fixtures.claims;
import static io.meshguard.extauthz.Fixtures.headers;
import static io.meshguard.extauthz.Fixtures.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import io.meshguard.authz.request.Decision;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.JwksServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every forged, stale or malformed credential is denied with the right status and reason. */
@IntegrationTest
class JwtAttackMatrixTest {
    static JwksServer jwks;
    static AuthzPipeline pipeline;

    @BeforeAll
    static void start() throws Exception {
        jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1, ES1)));
        pipeline = Fixtures.pipeline(
                Fixtures.parse(Fixtures.policyYaml("jwks_uri: " + jwks.jwksUri(), "")),
                new SimpleMeterRegistry(),
                Optional.empty());
    }

    @AfterAll
    static void stop() {
        pipeline.close();
        jwks.close();
    }

    private static JWTClaimsSet good() {
        return claims("alice", "big-tenant", List.of("user")).build();
    }

    private static Decision check(String token) {
        return pipeline.decide(
                request("/api/things", headers("authorization", "Bearer " + token, "x-tenant-id", "big-tenant")));
    }

    private static String unsigned(String alg) {
        String header = Base64URL.encode(("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}").getBytes(StandardCharsets.UTF_8))
                .toString();
        return header + "." + Base64URL.encode(good().toString().getBytes(StandardCharsets.UTF_8)) + ".";
    }

    private static DynamicTest denied(String name, Supplier<String> token, int status, String reason) {
        return DynamicTest.dynamicTest(name, () -> {
            Decision d = check(token.get());
            assertThat(d.allowed()).as("allowed").isFalse();
            assertThat(d.status()).as("status").isEqualTo(status);
            assertThat(d.reason().code()).as("reason").isEqualTo(reason);
            assertThat(d.headersSet()).isEmpty();
        });
    }

    @Test
    void honestToken_isAllowed_soTheMatrixBelowTestsTheAttackNotTheSetup() {
        Decision rs = check(RS1.sign(good()));
        Decision es = check(ES1.sign(good()));
        assertThat(rs.allowed()).as(rs.toString()).isTrue();
        assertThat(es.allowed()).as(es.toString()).isTrue();
    }

    @TestFactory
    Stream<DynamicTest> forgedTokens_areDenied() {
        Instant now = Instant.now();
        String big = "x".repeat(9000);
        return Stream.of(
                denied("alg none", () -> unsigned("none"), 401, "invalid_token"),
                denied("alg None", () -> unsigned("None"), 401, "invalid_token"),
                denied("alg NONE", () -> unsigned("NONE"), 401, "invalid_token"),
                denied("alg nOnE", () -> unsigned("nOnE"), 401, "invalid_token"),
                denied(
                        "HS256 keyed with the issuer's RSA public key",
                        () -> RS1.sign(good(), TestKeys.Tamper.HS256_WITH_PUBLIC_KEY),
                        401,
                        "invalid_token"),
                denied("embedded jwk", () -> RS1.sign(good(), TestKeys.Tamper.EMBEDDED_JWK), 401, "invalid_token"),
                denied("jku header", () -> RS1.sign(good(), TestKeys.Tamper.JKU), 401, "invalid_token"),
                denied("x5u header", () -> RS1.sign(good(), TestKeys.Tamper.X5U), 401, "invalid_token"),
                denied(
                        "signed by another key under the issuer's kid",
                        () -> RS1.sign(good(), TestKeys.Tamper.WRONG_KEY),
                        401,
                        "bad_signature"),
                denied(
                        "signature stripped",
                        () -> RS1.sign(good(), TestKeys.Tamper.STRIP_SIGNATURE),
                        401,
                        "invalid_token"),
                denied(
                        "expired",
                        () -> RS1.sign(claims("alice", "big-tenant", List.of("user"))
                                .expirationTime(Date.from(now.minusSeconds(120)))
                                .build()),
                        401,
                        "token_expired"),
                denied(
                        "nbf in the future beyond skew",
                        () -> RS1.sign(claims("alice", "big-tenant", List.of("user"))
                                .notBeforeTime(Date.from(now.plusSeconds(120)))
                                .build()),
                        401,
                        "invalid_token"),
                denied(
                        "iat in the future beyond skew",
                        () -> RS1.sign(claims("alice", "big-tenant", List.of("user"))
                                .issueTime(Date.from(now.plusSeconds(120)))
                                .build()),
                        401,
                        "invalid_token"),
                denied(
                        "wrong iss",
                        () -> RS1.sign(claims("alice", "big-tenant", List.of("user"))
                                .issuer("https://evil.example")
                                .build()),
                        401,
                        "unknown_issuer"),
                denied(
                        "wrong aud",
                        () -> RS1.sign(claims("alice", "big-tenant", List.of("user"))
                                .audience("other")
                                .build()),
                        401,
                        "invalid_token"),
                denied(
                        "missing exp",
                        () -> RS1.sign(claims("alice", "big-tenant", List.of("user"))
                                .expirationTime(null)
                                .build()),
                        401,
                        "invalid_token"),
                denied(
                        "missing sub",
                        () -> RS1.sign(claims("alice", "big-tenant", List.of("user"))
                                .subject(null)
                                .build()),
                        401,
                        "invalid_token"),
                denied(
                        "truncated",
                        () -> {
                            String t = RS1.sign(good());
                            return t.substring(0, t.indexOf('.') + 12);
                        },
                        401,
                        "invalid_token"),
                denied("garbage", () -> "%%%not-a-jwt%%%", 401, "invalid_token"),
                denied("two dots only", () -> "..", 401, "invalid_token"),
                denied(
                        "token over 8 KB",
                        () -> RS1.sign(claims("alice", "big-tenant", List.of("user"))
                                .claim("pad", big)
                                .build()),
                        401,
                        "token_too_large"),
                denied(
                        "crit header with an unknown parameter",
                        () -> RS1.signWithHeader(
                                Map.of("alg", "RS256", "kid", "rs-1", "crit", List.of("exp-ext"), "exp-ext", 1),
                                good()),
                        401,
                        "invalid_token"),
                denied(
                        "ES256 all-zero signature (CVE-2022-21449)",
                        () -> {
                            String t = ES1.sign(good());
                            return t.substring(0, t.lastIndexOf('.') + 1) + Base64URL.encode(new byte[64]);
                        },
                        401,
                        "bad_signature"),
                denied(
                        "ES256 signature r=s=n",
                        () -> {
                            String t = ES1.sign(good());
                            return t.substring(0, t.lastIndexOf('.') + 1)
                                    + "_____wAAAAD__________7zm-q2nF56E87nKwvxjJVH_____AAAAAP__________vOb6racXnoTzucrC_GMlUQ";
                        },
                        401,
                        "bad_signature"),
                denied(
                        "alg RS256 header on an ES key",
                        () -> ES1.signWithHeader(Map.of("alg", "ES256", "kid", "rs-1"), good()),
                        401,
                        "unknown_key"));
    }

    @Test
    void unencodedPayloadToken_b64False_isRefused() {
        String token =
                RS1.signWithHeader(Map.of("alg", "RS256", "kid", "rs-1", "b64", false, "crit", List.of("b64")), good());
        // raw header lines: the commas of the unencoded JSON payload cannot pass for a second header here
        Decision d = pipeline.decide(
                io.meshguard.authz.request.HttpRequestView.of(io.meshguard.extauthz.tools.CheckRequests.of(
                        "GET",
                        "h",
                        "/api/x",
                        headers("authorization", "Bearer " + token, "x-tenant-id", "big-tenant"),
                        Map.of(),
                        io.meshguard.extauthz.tools.CheckRequests.Encoding.HEADER_MAP)));
        assertThat(d.status()).as(d.toString()).isEqualTo(401);
        assertThat(d.reason().code()).isEqualTo("invalid_token");
    }

    @TestFactory
    Stream<DynamicTest> kidInjection_isAnOpaqueMiss_andCausesAtMostOneRateLimitedRefetch() {
        List<String> kids = List.of(
                "../../../../../../dev/null",
                "/dev/null",
                "",
                "x' UNION SELECT '1';--",
                "|sleep 10",
                "| curl http://127.0.0.1:1/",
                "/invalid_path");
        int before = jwks.jwksRequests();
        return Stream.concat(
                kids.stream()
                        .map(kid -> DynamicTest.dynamicTest("kid " + kid, () -> {
                            Decision d = check(TestKeys.generate("unused", com.nimbusds.jose.JWSAlgorithm.ES256)
                                    .signWithHeader(Map.of("alg", "ES256", "kid", kid), good()));
                            assertThat(d.status()).isEqualTo(401);
                            assertThat(d.reason().code()).isIn("unknown_key", "bad_signature");
                        })),
                Stream.of(DynamicTest.dynamicTest(
                        "JWKS refetches stay rate-limited",
                        () -> assertThat(jwks.jwksRequests() - before).isLessThanOrEqualTo(2))));
    }

    @Test
    void twoAuthorizationHeaders_areRejectedAsBadRequest_inBothEncodings() {
        String token = RS1.sign(good());
        Decision lines = pipeline.decide(
                io.meshguard.authz.request.HttpRequestView.of(io.meshguard.extauthz.tools.CheckRequests.of(
                        "GET",
                        "h",
                        "/api/x",
                        headers(
                                "authorization",
                                "Bearer " + token,
                                "authorization",
                                "Bearer " + token,
                                "x-tenant-id",
                                "big-tenant"),
                        Map.of(),
                        io.meshguard.extauthz.tools.CheckRequests.Encoding.HEADER_MAP)));
        Decision joined = pipeline.decide(request(
                "/api/x",
                headers(
                        "authorization",
                        "Bearer " + token,
                        "authorization",
                        "Bearer " + token,
                        "x-tenant-id",
                        "big-tenant")));
        assertThat(lines.status()).isEqualTo(400);
        assertThat(lines.reason().code()).isEqualTo("duplicate_credential");
        assertThat(joined.status()).isEqualTo(400);
        assertThat(joined.reason().code()).isEqualTo("duplicate_credential");
    }

    @Test
    void bearerScheme_isCaseInsensitive_butOtherSchemesAreRefused() {
        String token = RS1.sign(good());
        assertThat(pipeline.decide(request(
                                "/api/x", headers("authorization", "bearer " + token, "x-tenant-id", "big-tenant")))
                        .allowed())
                .isTrue();
        assertThat(pipeline.decide(request(
                                "/api/x", headers("authorization", "BEARER " + token, "x-tenant-id", "big-tenant")))
                        .allowed())
                .isTrue();
        Decision basic = pipeline.decide(
                request("/api/x", headers("authorization", "Basic YWxpY2U6c2VjcmV0", "x-tenant-id", "big-tenant")));
        assertThat(basic.status()).isEqualTo(401);
    }

    @Test
    void tenantMismatch_isForbidden() {
        Decision d = pipeline.decide(
                request("/api/x", headers("authorization", "Bearer " + RS1.sign(good()), "x-tenant-id", "t2")));
        assertThat(d.status()).isEqualTo(403);
        assertThat(d.reason().code()).isEqualTo("tenant_mismatch");
    }

    /**
     * Published class "client-sent identity headers at every hop" (Envoy GHSA-5375-pq35-hf2g / CVE-2023-27487: a
     * client's internal header was trusted downstream; Istio CVE-2026-26308: only the first of repeated values read).
     */
    @Test
    void clientSentIdentityHeaders_areOverwritten_neverPassedOrRemovedAfterSet() {
        Decision d = pipeline.decide(request(
                "/api/x",
                headers(
                        "authorization",
                        "Bearer " + RS1.sign(good()),
                        "x-tenant-id",
                        "big-tenant",
                        "x-user-id",
                        "mallory",
                        "x-user-roles",
                        "admin",
                        "x-client-id",
                        "evil")));
        assertThat(d.allowed()).isTrue();
        assertThat(Fixtures.set(d))
                .containsEntry("x-user-id", "alice")
                .containsEntry("x-user-roles", "user")
                .containsEntry("x-tenant-id", "big-tenant");
        // no azp in the token: the client's x-client-id must be stripped, and nothing we set is also removed
        assertThat(d.headersRemoved()).contains("x-client-id", "authorization", "x-api-key");
        assertThat(d.headersRemoved())
                .doesNotContainAnyElementsOf(Fixtures.set(d).keySet());
    }

    @Test
    void nbfWithinSkew_isAccepted() {
        Decision d = check(RS1.sign(claims("alice", "big-tenant", List.of("user"))
                .notBeforeTime(Date.from(Instant.now().plusSeconds(10)))
                .build()));
        assertThat(d.allowed()).isTrue();
    }

    @Test
    void audienceArray_containingOurs_isAccepted() {
        Decision d = check(RS1.sign(claims("alice", "big-tenant", List.of("user"))
                .audience(List.of("other", "meshguard"))
                .build()));
        assertThat(d.allowed()).isTrue();
    }
}
