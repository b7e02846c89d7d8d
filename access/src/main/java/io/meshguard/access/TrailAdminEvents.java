package io.meshguard.access;

import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailEntry;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admin-plane events into the hash-chained admin trail ({@code meshguard audit verify}), and into the log as well.
 * When the trail cannot be written the event is logged at ERROR with every field, so it is never lost silently.
 */
public final class TrailAdminEvents implements AdminEvents {
    private static final Logger LOG = LoggerFactory.getLogger(TrailAdminEvents.class);
    private final AdminTrail trail;
    private final AdminEvents log = new LoggedAdminEvents();

    public TrailAdminEvents(AdminTrail trail) {
        this.trail = trail;
    }

    @Override
    public void record(AdminEvent e) {
        log.record(e);
        try {
            trail.append(new AdminTrailEntry(
                    e.at(),
                    e.actor(),
                    e.authMethod(),
                    text(e.tenant()),
                    text(e.roleUsed()),
                    text(e.source()),
                    text(e.requestId()),
                    e.action(),
                    e.target(),
                    e.outcome(),
                    text(e.beforeDigest()),
                    text(e.afterDigest()),
                    Map.of()));
        } catch (AdminTrail.UnavailableException ex) {
            LOG.error("admin trail unavailable, event kept only in this log: {} ({})", e, ex.getMessage());
        }
    }

    private static Optional<String> text(String s) {
        return s == null || s.isEmpty() ? Optional.empty() : Optional.of(s);
    }
}
