package io.meshguard.xds.change;

import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailEntry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admin changes into the audit log and the hash-chained admin trail. A draft change appends its trail row inside the
 * draft's transaction ({@link #recordWithin}), so a crash between the change and its row is impossible: both commit
 * or neither. Changes recorded after their own commit (publish, rollback, protection, approvals: the revision store's
 * transactions) append in a transaction of their own; when that fails the change stands and the row is logged at
 * ERROR with every field.
 */
final class TrailedChanges implements ConfigChangeAudit {
    private static final Logger LOG = LoggerFactory.getLogger("io.meshguard.xds.audit");
    private final ConfigChangeAudit audit;
    private final AdminTrail trail;

    TrailedChanges(ConfigChangeAudit audit, AdminTrail trail) {
        this.audit = audit;
        this.trail = trail;
    }

    @Override
    public void record(ConfigChange c) {
        audit.record(c);
        try {
            trail.append(entry(c));
        } catch (AdminTrail.UnavailableException e) {
            LOG.error(
                    "admin trail unavailable, change kept only in the audit log: actor={} action={} object={} "
                            + "detail={} request_id={} ({})",
                    c.actor(),
                    c.action(),
                    c.object(),
                    c.detail(),
                    c.requestId(),
                    e.getMessage());
        }
    }

    @Override
    public void recordWithin(Connection connection, ConfigChange c) throws SQLException {
        AdminTrail.appendWithin(connection, entry(c));
    }

    @Override
    public void recordCommitted(ConfigChange c) {
        audit.record(c);
    }

    private static AdminTrailEntry entry(ConfigChange c) {
        return new AdminTrailEntry(
                Instant.now(),
                c.actor(),
                "admin-api",
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.ofNullable(c.requestId()),
                c.action(),
                c.object(),
                c.detail(),
                Optional.empty(),
                Optional.empty(),
                Map.of());
    }
}
