package io.meshguard.catalog;

import io.meshguard.catalogmodel.SubscriptionSnapshot;
import java.util.Map;
import org.slf4j.Logger;

/**
 * Says once per episode which tenants' catalogue rows cannot be read: an ERROR when a tenant becomes unreadable (with
 * the row, for the operator), an INFO when it is read again. Each snapshot that keeps a tenant unreadable says
 * nothing, so a resync every few seconds does not flood the log. Refused calls are counted by their decision's reason.
 */
public final class UnreadableTenantLog {
    private final Logger log;
    private final String where;
    private Map<String, String> last = Map.of();

    /** @param where who logs, in the message ("the controller", "this replica") */
    public UnreadableTenantLog(Logger log, String where) {
        this.log = log;
        this.where = where;
    }

    /** Logs what changed since the snapshot seen last; returns how many tenants are unreadable now. */
    public synchronized int saw(SubscriptionSnapshot snapshot) {
        Map<String, String> now = snapshot.unreadableTenants();
        now.forEach((tenant, why) -> {
            if (!why.equals(last.get(tenant))) {
                log.error(
                        "tenant {}: its catalogue rows cannot be read ({}; seen by {}); its product calls are refused"
                                + " (subscription_state_unavailable) until they are, every other tenant is served",
                        tenant,
                        why,
                        where);
            }
        });
        last.keySet().stream()
                .filter(tenant -> !now.containsKey(tenant))
                .forEach(tenant -> log.info("tenant {}: catalogue rows read again by {}", tenant, where));
        last = now;
        return now.size();
    }
}
