package io.meshguard.extauthz.jwt;

import static io.meshguard.extauthz.Fixtures.ES1;
import static io.meshguard.extauthz.Fixtures.RS1;
import static io.meshguard.extauthz.Fixtures.RS2;
import static io.meshguard.extauthz.Fixtures.claims;
import static io.meshguard.extauthz.Fixtures.headers;
import static io.meshguard.extauthz.Fixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JWSAlgorithm;
import io.meshguard.authz.request.Decision;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.JwksServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A real JWKS endpoint that rotates keys, goes down and comes back. */
@IntegrationTest
class JwksRotationTest {
    private static Decision check(AuthzPipeline p, TestKeys key, String sub) {
        String token = key.sign(claims(sub, "big-tenant", List.of("user")).build());
        return p.decide(request("/api/x", headers("authorization", "Bearer " + token, "x-tenant-id", "big-tenant")));
    }

    private static Decision checkToken(AuthzPipeline p, String token) {
        return p.decide(request("/api/x", headers("authorization", "Bearer " + token, "x-tenant-id", "big-tenant")));
    }

    private static AuthzPipeline pipeline(JwksServer jwks, String timing) {
        return Fixtures.pipeline(
                Fixtures.parse(Fixtures.policyYaml("jwks_uri: " + jwks.jwksUri(), timing)),
                new SimpleMeterRegistry(),
                Optional.empty());
    }

    @Test
    void rotation_newKidIsFetchedOnFirstSight_andOutageKeepsLastGoodKeys() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)));
                AuthzPipeline p = pipeline(jwks, """
                            jwks_cache_ttl: 2s
                            jwks_max_stale: 1h
                            jwks_refetch_min_interval: 200ms""")) {
            assertThat(check(p, RS1, "a1").allowed()).isTrue();

            jwks.rotateTo(TestKeys.publicSet(List.of(RS2)));
            // unknown kid rs-2 triggers a (rate-limited) refetch: accepted without waiting for the cache TTL
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> check(p, RS2, "a2").allowed());

            jwks.goDown();
            int before = jwks.jwksRequests();
            // past the TTL the cache tries to refresh and fails; the last good set keeps serving
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                check(p, RS2, "probe");
                return jwks.jwksRequests() > before;
            });
            Decision during = check(p, RS2, "a3");
            assertThat(during.allowed()).as(during.toString()).isTrue();

            jwks.rotateTo(TestKeys.publicSet(List.of(ES1)));
            jwks.comeBack();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> check(p, ES1, "a4").allowed());
        }
    }

    @Test
    void outageLongerThanMaxStale_deniesWithJwksUnavailable() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)));
                AuthzPipeline p = pipeline(jwks, """
                            jwks_cache_ttl: 1s
                            jwks_max_stale: 1s
                            jwks_refetch_min_interval: 100ms""")) {
            assertThat(check(p, RS1, "b1").allowed()).isTrue();
            jwks.goDown();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> check(p, RS1, "b-" + System.nanoTime()).status() == 503);
            Decision d = check(p, RS1, "b2");
            assertThat(d.reason().code()).isEqualTo("jwks_unavailable");
            assertThat(d.allowed()).isFalse();
        }
    }

    @Test
    void outageLongerThanMaxStale_deniesACachedToken_likeAFreshOne() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)));
                AuthzPipeline p = pipeline(jwks, """
                            jwks_cache_ttl: 1s
                            jwks_max_stale: 1s
                            jwks_refetch_min_interval: 100ms""")) {
            String before = RS1.sign(claims("cached-before-outage", "big-tenant", List.of("user"))
                    .build());
            assertThat(checkToken(p, before).allowed()).isTrue();
            assertThat(checkToken(p, before).tokenFromCache()).isTrue();

            jwks.goDown();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> check(p, RS1, "fresh-" + System.nanoTime()).status() == 503);
            // the token verified before the outage is refused for the same reason as a fresh token with the same key
            Decision cached = checkToken(p, before);
            assertThat(cached.allowed()).as(cached.toString()).isFalse();
            assertThat(cached.status()).isEqualTo(503);
            assertThat(cached.reason().code()).isEqualTo("jwks_unavailable");

            jwks.comeBack();
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> checkToken(p, before).allowed());
        }
    }

    @Test
    void keyRotatedOut_evictsTheTokensItVerified() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)));
                AuthzPipeline p = pipeline(jwks, """
                            jwks_cache_ttl: 1h
                            jwks_max_stale: 1h
                            jwks_refetch_min_interval: 100ms""")) {
            String old = RS1.sign(
                    claims("verified-with-rs1", "big-tenant", List.of("user")).build());
            assertThat(checkToken(p, old).allowed()).isTrue();
            assertThat(checkToken(p, old).tokenFromCache()).isTrue();

            jwks.rotateTo(TestKeys.publicSet(List.of(RS2)));
            // a token with the new kid makes the key set refresh (the cache TTL is an hour: nothing else would)
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> check(p, RS2, "new-" + System.nanoTime()).allowed());

            Decision after = checkToken(p, old);
            assertThat(after.allowed()).as(after.toString()).isFalse();
            assertThat(after.tokenFromCache()).isFalse();
            assertThat(after.reason().code()).isEqualTo("unknown_key");
        }
    }

    @Test
    void neverFetched_deniesAndReportsNotReady_untilTheIdpAnswers() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)))) {
            jwks.goDown();
            try (AuthzPipeline p = pipeline(jwks, """
                        jwks_cache_ttl: 1s
                        jwks_refetch_min_interval: 100ms""")) {
                Decision d = check(p, RS1, "c1");
                assertThat(d.status()).isEqualTo(503);
                assertThat(d.reason().code()).isEqualTo("jwks_unavailable");
                assertThat(p.issuersNotReady()).singleElement().asString().startsWith("test-idp");

                jwks.comeBack();
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> check(p, RS1, "c2").allowed());
                assertThat(p.issuersNotReady()).isEmpty();
            }
        }
    }

    /**
     * Published class "JWKS fetch failures mid-request": Istio fell back to hard-coded defaults when its JWKS resolver
     * failed (CVE-2026-31837) and then kept non-JWKS bodies it fetched (GHSA-fgw5-hp8f-xfhc / CVE-2026-41413); Envoy
     * crashed when a remote JWKS fetch ended under a request (GHSA-mp85-7mrq-r866 / CVE-2025-64527). A token whose
     * key the request makes meshguard fetch, while the IdP answers an error, a truncated set, a page that is no key
     * set or a key without its material, is denied; the keys fetched before keep verifying their own tokens, and
     * nothing else. A valid empty set withdraws every key.
     */
    @Test
    void jwksFetchFailingMidRequest_unknownKeyDenied_lastGoodKeysOnly_neverADefault() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)));
                AuthzPipeline p = pipeline(jwks, """
                            jwks_cache_ttl: 1h
                            jwks_max_stale: 1h
                            jwks_refetch_min_interval: 100ms""")) {
            assertThat(check(p, RS1, "d0").allowed()).isTrue();
            jwks.rotateTo(TestKeys.publicSet(List.of(RS1, RS2)));
            List<String[]> answers = List.of(
                    new String[] {"500", "{\"error\":\"internal\"}"},
                    new String[] {"200", "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rs-2\",\"n\":\"AQAB"},
                    new String[] {"200", "<html><body>login</body></html>"},
                    new String[] {"200", "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rs-2\"}]}"});
            for (String[] answer : answers) {
                jwks.answerWith(Integer.parseInt(answer[0]), answer[1]);
                int before = jwks.jwksRequests();
                // the unknown kid sends this very request to the IdP; the IdP's broken answer denies it
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    Decision d = check(p, RS2, "d-" + System.nanoTime());
                    assertThat(d.allowed()).as(answer[1] + " " + d).isFalse();
                    return jwks.jwksRequests() > before;
                });
                Decision d = check(p, RS2, "d-after");
                assertThat(d.allowed()).as(answer[1] + " " + d).isFalse();
                assertThat(d.status()).as(answer[1]).isIn(401, 503);
                // the key set fetched before the failure still verifies its own tokens
                assertThat(check(p, RS1, "d-good").allowed()).as(answer[1]).isTrue();
            }
            // an IdP that answers a valid but empty set has withdrawn every key: nothing verifies, nothing is assumed
            jwks.answerWith(200, "{\"keys\":[]}");
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                // the unknown kid makes the fetch that brings the empty set
                assertThat(check(p, RS2, "d-" + System.nanoTime()).allowed()).isFalse();
                return !check(p, RS1, "d-" + System.nanoTime()).allowed();
            });
            jwks.answerKeys();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> check(p, RS2, "d-back").allowed());
        }
    }

    /** The shipped interval: what nimbus's limiter turned into a 30 s refusal of a good key. */
    private static final String SHIPPED_TIMING = """
            jwks_cache_ttl: 5m
            jwks_refetch_min_interval: 30s""";

    @Test
    void idpUpAfterExtauthz_firstTokenVerifiesWithinSeconds_notRefusedAsUnknownForTheInterval() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)))) {
            jwks.goDown();
            try (AuthzPipeline p = pipeline(jwks, SHIPPED_TIMING)) {
                // the IdP (or its realm) is not there yet: warm-ups and tokens keep asking for ~2.5 s
                long until = System.nanoTime() + Duration.ofMillis(2_500).toNanos();
                int asked = 0;
                while (System.nanoTime() < until) {
                    p.warmUp();
                    Decision d = check(p, RS1, "early-" + asked++);
                    assertThat(d.reason().code()).as(d.toString()).isEqualTo("jwks_unavailable");
                    assertThat(d.status()).isEqualTo(503);
                    Thread.sleep(20);
                }
                // one try a second at most (each retried once), however many tokens asked
                assertThat(asked).isGreaterThan(20);
                assertThat(jwks.jwksRequests()).isBetween(2, 8);

                jwks.comeBack();
                await().atMost(Duration.ofSeconds(5))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> {
                            p.warmUp();
                            return check(p, RS1, "first").allowed();
                        });
                assertThat(p.issuersNotReady()).isEmpty();
            }
        }
    }

    @Test
    void madeUpKids_refetchTwicePerInterval_thenAreRefusedAsUnknownWithoutAsking() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)));
                AuthzPipeline p = pipeline(jwks, SHIPPED_TIMING)) {
            assertThat(check(p, RS1, "known").allowed()).isTrue();
            int afterFirstFetch = jwks.jwksRequests();
            TestKeys stranger = TestKeys.generate("made-up-kid", JWSAlgorithm.RS256);
            for (int i = 0; i < 50; i++) {
                Decision d = check(p, stranger, "flood-" + i);
                assertThat(d.status()).as(d.toString()).isEqualTo(401);
                assertThat(d.reason().code()).isEqualTo("unknown_key");
            }
            // the first fetch opened the interval and spent one of its two fetches: one refetch, then none
            assertThat(jwks.jwksRequests() - afterFirstFetch).isEqualTo(1);
            assertThat(check(p, RS1, "known-still").allowed()).isTrue();
        }
    }

    @Test
    void warmUpsOfAnIssuerWithKeys_spendNoRefetch_soARotatedKeyVerifiesOnFirstSight() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of()));
                AuthzPipeline p = pipeline(jwks, SHIPPED_TIMING)) {
            // a realm whose key set is still empty: retrieved (ready), but matching nothing
            for (int i = 0; i < 5; i++) {
                p.warmUp();
            }
            assertThat(p.issuersNotReady()).isEmpty();
            assertThat(jwks.jwksRequests()).isEqualTo(1);

            jwks.rotateTo(TestKeys.publicSet(List.of(RS1)));
            Decision d = check(p, RS1, "first-key");
            assertThat(d.allowed()).as(d.toString()).isTrue();
        }
    }
}
