package io.meshguard.extauthz.quota;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.AuditSink;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where quota alerts and operator changes go: {@code quota} audit events (docs/security-team-guide.md §Quotas).
 * Recording never blocks; the audit writer spools while the database is away.
 */
public interface QuotaAudit {
    /** An alert threshold reached, once per caller, period and threshold across all replicas. */
    void alert(QuotaKey key, int threshold, long used, long limit, Instant at);

    /** An operator's adjust or reset, with who, how and why. */
    void change(QuotaStore.Change change, String requestId);

    /**
     * Into the audit log: kind {@code quota}, decision {@code alert|adjust|reset}, reason {@code quota_alert_<pct>} or
     * the action, route = the quota's name, subject = the caller key (alerts) or the operator (changes).
     */
    static QuotaAudit to(AuditSink sink) {
        return new QuotaAudit() {
            @Override
            public void alert(QuotaKey key, int threshold, long used, long limit, Instant at) {
                sink.record(AuditEvent.builder(AuditKind.QUOTA)
                        .occurredAt(at)
                        .source("extauthz")
                        .subject(key.caller())
                        .route(key.quota())
                        .decision("alert")
                        .reason("quota_alert_" + threshold)
                        .detail("quota", key.quota())
                        .detail("caller", key.caller())
                        .detail("period_start", key.periodStart().toString())
                        .detail("threshold_percent", Integer.toString(threshold))
                        .detail("used", Long.toString(used))
                        .detail("limit", Long.toString(limit))
                        .build());
            }

            @Override
            public void change(QuotaStore.Change c, String requestId) {
                sink.record(AuditEvent.builder(AuditKind.QUOTA)
                        .occurredAt(c.at())
                        .source(c.via())
                        .requestId(requestId)
                        .subject(c.actor())
                        .route(c.key().quota())
                        .decision(c.action())
                        .reason("quota_" + c.action())
                        .detail("quota", c.key().quota())
                        .detail("caller", c.key().caller())
                        .detail("period_start", c.key().periodStart().toString())
                        .detail("delta", Long.toString(c.delta()))
                        .detail("used_before", Long.toString(c.usedBefore()))
                        .detail("used_after", Long.toString(c.usedAfter()))
                        .detail("why", c.reason())
                        .detail("change_id", Long.toString(c.id()))
                        .build());
            }
        };
    }

    /** Logs only (no audit database configured). */
    static QuotaAudit logOnly() {
        Logger log = LoggerFactory.getLogger("io.meshguard.extauthz.quota.audit");
        return new QuotaAudit() {
            @Override
            public void alert(QuotaKey key, int threshold, long used, long limit, Instant at) {
                log.warn(
                        "quota_alert quota={} caller={} period_start={} threshold={}% used={} limit={}",
                        key.quota(), key.caller(), key.periodStart(), threshold, used, limit);
            }

            @Override
            public void change(QuotaStore.Change c, String requestId) {
                log.info(
                        "quota_{} quota={} caller={} period_start={} delta={} used_after={} actor={} via={} reason={}",
                        c.action(),
                        c.key().quota(),
                        c.key().caller(),
                        c.key().periodStart(),
                        c.delta(),
                        c.usedAfter(),
                        c.actor(),
                        c.via(),
                        c.reason());
            }
        };
    }
}
