package io.meshguard.extauthz.quota;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.request.Identity;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.extauthz.redis.RedisSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.StringReader;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;

/** Callers, policies and an audit log the quota tests share. */
public final class QuotaTestSupport {
    private QuotaTestSupport() {}

    /** The audit events a counter recorded (the audit module's sink interface, kept in memory). */
    static final class AuditLog {
        final List<AuditEvent> events = new CopyOnWriteArrayList<>();

        QuotaAudit audit() {
            return QuotaAudit.to(e -> events.add(e));
        }

        List<AuditEvent> quotaEvents(String decision) {
            return events.stream()
                    .filter(e -> e.kind() == AuditKind.QUOTA
                            && e.decision().orElse("").equals(decision))
                    .toList();
        }
    }

    static Identity apiKeyCaller(String keyId, String tenant, String tier) {
        return new Identity(
                "svc-" + keyId,
                Optional.of(tenant),
                List.of(),
                List.of(),
                Optional.empty(),
                "apikey",
                "apikey",
                Optional.of(tier),
                Optional.of(keyId));
    }

    static AuthzPolicy policy(String quotas) {
        String yaml = """
                rate_limits:
                  default_tier: free
                  tiers:
                    free: {requests_per_second: 1000}
                    premium: {requests_per_second: 1000}
                    enterprise: {requests_per_second: 1000}
                routes:
                  - name: api
                    match: {path_prefix: /api}
                    auth: apikey
                  - name: other
                    match: {path_prefix: /other}
                    auth: apikey
                """ + quotas;
        try {
            return new AuthzPolicyParser().parse("authz.yaml", new StringReader(yaml));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static RedisConnection connect(String url, String prefix) {
        return RedisConnection.open(
                RedisSettings.none().withUrl(url).withKeyPrefix(prefix).withCommandTimeout(Duration.ofSeconds(2)));
    }

    /** A counter on PostgreSQL alone (no Redis), audit only logged, live counts synced every second. */
    public static QuotaCounter postgresOnly(
            DataSource db, Clock clock, QuotaCounter.Settings settings, MeterRegistry registry) {
        return new QuotaCounter(
                Optional.of(new QuotaStore(db)),
                Optional::empty,
                new LiveCounters("t:", Duration.ofSeconds(1)),
                QuotaAudit.logOnly(),
                clock,
                System::nanoTime,
                settings,
                registry);
    }

    /** Counter settings for tests: Redis is tried again 50 ms after an error. */
    static QuotaCounter.Settings settings() {
        return new QuotaCounter.Settings(
                Duration.ofMillis(50),
                10_000,
                1_000,
                Duration.ofSeconds(1),
                Duration.ofSeconds(2),
                Duration.ofMillis(300));
    }
}
