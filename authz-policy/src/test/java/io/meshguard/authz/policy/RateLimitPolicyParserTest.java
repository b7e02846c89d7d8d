package io.meshguard.authz.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.RateLimitPolicy.HeaderStyle;
import io.meshguard.authz.policy.RateLimitPolicy.Limit;
import io.meshguard.authz.policy.RateLimitPolicy.LimitScope;
import io.meshguard.authz.policy.RateLimitPolicy.OnStoreError;
import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code rate_limits:} schema: today's files stay valid, the new forms parse, every mistake has its line. */
class RateLimitPolicyParserTest {
    private static final String ROUTES = """
            routes:
              - {name: login, match: {path: /login}, auth: none, header_contract: exempt}
            """;

    private static AuthzPolicy ok(String yaml) throws PolicyInvalidException {
        return new AuthzPolicyParser().parse("authz.yaml", new StringReader(yaml));
    }

    private static List<PolicyError> errors(String yaml) {
        try {
            new AuthzPolicyParser().parse("authz.yaml", new StringReader(yaml));
        } catch (PolicyInvalidException e) {
            return e.errors();
        }
        throw new AssertionError("expected the policy to be rejected");
    }

    @Test
    void todaysForm_stillParses_asOneLimitWithItsBurst() throws Exception {
        RateLimitPolicy p = ok("""
                rate_limits:
                  default_tier: free
                  tiers:
                    free: {requests_per_second: 5, burst: 10}
                    slow: {requests_per_second: 0.5}
                """ + ROUTES).rateLimits().orElseThrow();
        assertThat(p.tiers().get("free").limits()).containsExactly(new Limit(5, Duration.ofSeconds(1), 10));
        assertThat(p.tiers().get("slow").limits().get(0).emissionMicros()).isEqualTo(2_000_000);
        assertThat(p.scope()).isEqualTo(LimitScope.POLICY);
        assertThat(p.onStoreError()).isEqualTo(OnStoreError.DEGRADED);
        assertThat(p.headers()).isEqualTo(HeaderStyle.BOTH);
    }

    @Test
    void severalLimitsPerTier_scope_storeErrorsAndHeaders_parse() throws Exception {
        AuthzPolicy policy = ok("""
                rate_limits:
                  default_tier: premium
                  scope: route
                  on_store_error: fail_closed
                  headers: ietf
                  tiers:
                    premium:
                      limits:
                        - {requests: 50, per: 1s}
                        - {requests: 2000, per: 1m, burst: 200}
                routes:
                  - name: pay
                    match: {path: /pay}
                    auth: none
                    header_contract: exempt
                    rate_limit: {scope: policy, on_store_error: degraded}
                """);
        RateLimitPolicy p = policy.rateLimits().orElseThrow();
        assertThat(p.tiers().get("premium").limits())
                .containsExactly(new Limit(50, Duration.ofSeconds(1), 50), new Limit(2000, Duration.ofMinutes(1), 200));
        assertThat(p.scope()).isEqualTo(LimitScope.ROUTE);
        assertThat(p.onStoreError()).isEqualTo(OnStoreError.FAIL_CLOSED);
        assertThat(p.headers()).isEqualTo(HeaderStyle.IETF);
        RoutePolicy pay = policy.routes().get(0);
        assertThat(pay.rateLimited()).isTrue();
        assertThat(pay.options().rateLimit().scope()).contains(LimitScope.POLICY);
        assertThat(pay.options().rateLimit().onStoreError()).contains(OnStoreError.DEGRADED);
    }

    @Test
    void mistakes_areEachReportedWithTheirLine() {
        List<PolicyError> e = errors("""
                rate_limits:
                  default_tier: a
                  scope: tenant
                  on_store_error: fail_open
                  headers: draft03
                  tiers:
                    a:
                      requests_per_second: 5
                      limits: [{requests: 5, per: 1s}]
                    b:
                      limits:
                        - {requests: 5, per: 1s}
                        - {requests: 9, per: 1s}
                    c:
                      limits: [{requests: 5, per: 1mo}]
                    d:
                      limits: [{requests: 0, per: 1s}]
                    e:
                      limits: [{requests: 5, per: 2d}]
                    f:
                      limits: [{requests: 2000000, per: 1s}]
                    g:
                      limits: []
                    h: {burst: 3}
                    i:
                      limits: [{per: 1s}]
                """ + ROUTES);
        assertThat(e)
                .extracting(PolicyError::line)
                .containsExactlyInAnyOrder(3, 4, 5, 8, 13, 15, 17, 19, 21, 23, 24, 26);
        assertThat(e)
                .extracting(PolicyError::message)
                .anySatisfy(m -> assertThat(m).contains("rate_limits.scope must be 'policy'"))
                .anySatisfy(m -> assertThat(m)
                        .contains("'degraded'")
                        .contains("'fail_closed'")
                        .contains("fail_open"))
                .anySatisfy(m -> assertThat(m).contains("both, ietf, x_ratelimit, off"))
                .anySatisfy(m -> assertThat(m).contains("tiers.a: give either 'limits' or 'requests_per_second'"))
                .anySatisfy(m -> assertThat(m).contains("tiers.b.limits[1]").contains("same period 1s"))
                .anySatisfy(m -> assertThat(m).contains("tiers.c.limits[0].per must be a duration"))
                .anySatisfy(m -> assertThat(m).contains("tiers.d.limits[0].requests must be a whole number > 0"))
                .anySatisfy(m -> assertThat(m)
                        .contains("tiers.e.limits[0].per must be between 1ms and 1d")
                        .contains("quotas"))
                .anySatisfy(m -> assertThat(m).contains("more than one per microsecond"))
                .anySatisfy(m -> assertThat(m).contains("tiers.g.limits: list at least one limit"))
                .anySatisfy(m -> assertThat(m).contains("tiers.h: give 'limits:"))
                .anySatisfy(m -> assertThat(m).contains("tiers.i.limits[0]: 'requests' is missing"));
    }

    @Test
    void tooManyLimits_andABadRouteOverride_areRefused() {
        StringBuilder many = new StringBuilder("rate_limits:\n  default_tier: t\n  tiers:\n    t:\n      limits:\n");
        for (int i = 1; i <= 9; i++) {
            many.append("        - {requests: 5, per: ").append(i).append("s}\n");
        }
        assertThat(errors(many + ROUTES)).singleElement().satisfies(err -> {
            assertThat(err.line()).isEqualTo(6);
            assertThat(err.message()).contains("at most 8 limits per tier");
        });
        assertThat(errors("""
                rate_limits:
                  default_tier: t
                  tiers: {t: {requests_per_second: 1}}
                routes:
                  - name: r
                    match: {path: /r}
                    auth: none
                    header_contract: exempt
                    rate_limit: {scope: global, on_store_error: maybe, shadow: true}
                """)).hasSize(3).allSatisfy(err -> assertThat(err.line())
                .isEqualTo(9));
    }
}
