package io.meshguard.extauthz.quota;

import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailEntry;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quota changes also as rows of the hash-chained admin trail ({@code meshguard audit verify}); alerts stay in the
 * audit log only (they are the data plane's, not an operator's). The row is appended after the change committed in
 * {@code quota_adjustment}, which keeps its own record of it (id, actor, reason): when the trail cannot take the row
 * the change stands, is logged at ERROR with every field, and can be matched by its change id.
 */
public final class TrailedQuotaAudit implements QuotaAudit {
    private static final Logger LOG = LoggerFactory.getLogger(TrailedQuotaAudit.class);
    private final QuotaAudit audit;
    private final AdminTrail trail;

    public TrailedQuotaAudit(QuotaAudit audit, AdminTrail trail) {
        this.audit = audit;
        this.trail = trail;
    }

    @Override
    public void alert(QuotaKey key, int threshold, long used, long limit, Instant at) {
        audit.alert(key, threshold, used, limit, at);
    }

    @Override
    public void change(QuotaStore.Change c, String requestId) {
        audit.change(c, requestId);
        try {
            trail.append(new AdminTrailEntry(
                    c.at(),
                    c.actor(),
                    c.via(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.ofNullable(requestId),
                    "quota_" + c.action(),
                    "quotas/" + c.key().quota() + "/" + c.key().caller(),
                    c.reason().isBlank() ? "done" : c.reason(),
                    Optional.empty(),
                    Optional.empty(),
                    Map.of(
                            "change_id",
                            Long.toString(c.id()),
                            "delta",
                            Long.toString(c.delta()),
                            "used_before",
                            Long.toString(c.usedBefore()),
                            "used_after",
                            Long.toString(c.usedAfter()),
                            "period_start",
                            c.key().periodStart().toString())));
        } catch (AdminTrail.UnavailableException e) {
            LOG.error(
                    "admin trail unavailable, quota_{} #{} of {} for {} by {} kept only in quota_adjustment and the "
                            + "audit log: {}",
                    c.action(),
                    c.id(),
                    c.key().quota(),
                    c.key().caller(),
                    c.actor(),
                    e.getMessage());
        }
    }
}
