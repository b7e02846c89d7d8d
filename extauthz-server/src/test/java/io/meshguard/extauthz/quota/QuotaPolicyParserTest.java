package io.meshguard.extauthz.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.policy.PolicyInvalidException;
import io.meshguard.authz.policy.QuotaPolicy;
import java.io.StringReader;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The quotas: block: what it means, and a clear, located error for every way to get it wrong. */
class QuotaPolicyParserTest {
    static final String BASE = """
            rate_limits:
              default_tier: free
              tiers:
                free: {requests_per_second: 10}
                premium: {requests_per_second: 100}
                enterprise: {requests_per_second: 1000}
            routes:
              - name: api
                match: {path_prefix: /api}
                auth: apikey
              - name: reports
                match: {path_prefix: /reports}
                auth: apikey
            """;

    static AuthzPolicy parse(String quotas) throws PolicyInvalidException {
        return new AuthzPolicyParser().parse("authz.yaml", new StringReader(BASE + quotas));
    }

    static String errors(String quotas) {
        try {
            parse(quotas);
            throw new AssertionError("expected the policy to be refused");
        } catch (PolicyInvalidException e) {
            return e.getMessage();
        }
    }

    @Test
    void fullQuota_parsesEveryField() throws Exception {
        AuthzPolicy p = parse("""
                quotas:
                  - name: daily-calls
                    per: api_key
                    period: day
                    timezone: Asia/Seoul
                    limits: {free: 1000, premium: 100000, enterprise: unlimited}
                    on_exceed: allow_and_flag
                    alerts: [100%, 80%]
                    routes: [reports]
                """);
        QuotaPolicy q = p.quotas().get(0);
        assertThat(q.name()).isEqualTo("daily-calls");
        assertThat(q.per()).isEqualTo(QuotaPolicy.Per.API_KEY);
        assertThat(q.period()).isEqualTo(QuotaPolicy.Period.DAY);
        assertThat(q.zone()).isEqualTo(ZoneId.of("Asia/Seoul"));
        assertThat(q.limits())
                .isEqualTo(Map.of("free", 1000L, "premium", 100_000L, "enterprise", QuotaPolicy.UNLIMITED));
        assertThat(q.defaultTier()).isEqualTo("free");
        assertThat(q.onExceed()).isEqualTo(QuotaPolicy.OnExceed.ALLOW_AND_FLAG);
        assertThat(q.alerts()).containsExactly(80, 100);
        assertThat(q.routes()).isEqualTo(Set.of("reports"));
        assertThat(q.covers("reports")).isTrue();
        assertThat(q.covers("api")).isFalse();
        assertThat(q.limitFor("no-such-tier")).isEqualTo(1000L);
    }

    @Test
    void defaults_blockOnExceed_everyRoute_noAlerts() throws Exception {
        QuotaPolicy q = parse("""
                quotas:
                  - {name: monthly, per: tenant, period: month, timezone: UTC, limits: {free: 10}}
                """).quotas().get(0);
        assertThat(q.onExceed()).isEqualTo(QuotaPolicy.OnExceed.BLOCK);
        assertThat(q.routes()).isEmpty();
        assertThat(q.covers("api")).isTrue();
        assertThat(q.alerts()).isEmpty();
    }

    @Test
    void unknownTimeZone_isRefusedWithItsLine() {
        assertThat(errors("""
                quotas:
                  - name: d
                    per: api_key
                    period: day
                    timezone: Asia/Busan
                    limits: {free: 10}
                """)).contains("authz.yaml:18:").contains("'Asia/Busan' is not a known time zone");
    }

    @Test
    void fixedOffsetZone_isRefused_becauseItWouldIgnoreDst() {
        assertThat(errors("""
                quotas:
                  - {name: d, per: api_key, period: day, timezone: "+09:00", limits: {free: 10}}
                """)).contains("'+09:00' is not a known time zone");
    }

    @Test
    void badPercentages_areRefused() {
        String e = errors("""
                quotas:
                  - {name: d, per: api_key, period: day, timezone: UTC, limits: {free: 10}, alerts: [0%, 150%, "eighty", 80%, 80]}
                """);
        assertThat(e)
                .contains("'0%' is not a percentage between 1% and 100%")
                .contains("'150%' is not a percentage")
                .contains("'eighty' is not a percentage")
                .contains("80% is listed twice");
    }

    @Test
    void unknownTier_missingDefaultTierLimit_andUnknownRoute_areRefused() {
        String e = errors("""
                quotas:
                  - {name: d, per: api_key, period: day, timezone: UTC, limits: {gold: 10, premium: 5}, routes: [nope]}
                """);
        assertThat(e)
                .contains("unknown tier 'gold' (rate_limits.tiers defines enterprise, free, premium)")
                .contains("has no entry for the default tier 'free'")
                .contains("no route named 'nope'");
    }

    @Test
    void badValues_areRefused_eachWithItsReason() {
        String e = errors("""
                quotas:
                  - {name: "Daily Calls", per: ip, period: week, timezone: UTC, limits: {free: -3}, on_exceed: deny}
                  - {name: ok, per: api_key, period: day, timezone: UTC, limits: {free: 1}}
                  - {name: ok, per: api_key, period: day, timezone: UTC, limits: {free: 1}}
                  - {per: api_key}
                """);
        assertThat(e)
                .contains("quota.name 'Daily Calls' must be 1-64 of a-z 0-9")
                .contains("'ip' is not one of api_key, tenant, subject")
                .contains("'week' is not one of day, month")
                .contains("limits.free (a whole number or 'unlimited') must be a whole number > 0, got '-3'")
                .contains("'deny' is not one of block, allow_and_flag")
                .contains("name 'ok' is used twice")
                .contains("'name' is missing")
                .contains("'timezone' is missing")
                .contains("'limits' is missing");
    }

    @Test
    void withoutRateLimits_aQuotaNamesItsOwnDefaultTier() throws Exception {
        String noLimits = """
                routes:
                  - {name: api, match: {path_prefix: /api}, auth: apikey}
                quotas:
                  - {name: d, per: api_key, period: day, timezone: UTC, limits: {gold: 10, free: 1}, default_tier: free}
                """;
        AuthzPolicy p = new AuthzPolicyParser().parse("authz.yaml", new StringReader(noLimits));
        assertThat(p.quotas().get(0).defaultTier()).isEqualTo("free");
        assertThatThrownBy(() -> new AuthzPolicyParser()
                        .parse("authz.yaml", new StringReader(noLimits.replace(", default_tier: free", ""))))
                .hasMessageContaining("'default_tier' is missing (there is no rate_limits.default_tier to use)");
    }

    @Test
    void policyWithoutQuotas_hasNone() throws Exception {
        assertThat(parse("").quotas()).isEqualTo(List.of());
    }
}
