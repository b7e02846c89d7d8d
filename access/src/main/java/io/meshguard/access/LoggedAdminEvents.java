package io.meshguard.access;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Admin events as structured log lines (logger {@code meshguard.admin}); break-glass and refusals at WARN. */
public final class LoggedAdminEvents implements AdminEvents {
    private static final Logger LOG = LoggerFactory.getLogger("meshguard.admin");

    @Override
    public void record(AdminEvent e) {
        boolean warn = e.authMethod().equals(AuthMethod.BREAK_GLASS.label())
                || e.outcome().startsWith("refused");
        String line = "admin event actor={} auth={} role={} tenant={} source={} request_id={} action={} target={}"
                + " outcome={} before={} after={}";
        Object[] args = {
            e.actor(),
            e.authMethod(),
            e.roleUsed(),
            e.tenant(),
            e.source(),
            e.requestId(),
            e.action(),
            e.target(),
            e.outcome(),
            e.beforeDigest(),
            e.afterDigest()
        };
        if (warn) {
            LOG.warn(line, args);
        } else {
            LOG.info(line, args);
        }
    }
}
