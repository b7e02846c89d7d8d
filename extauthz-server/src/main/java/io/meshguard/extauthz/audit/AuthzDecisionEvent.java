package io.meshguard.extauthz.audit;

import io.meshguard.authz.replay.ReplayFacts;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code authz_decision} audit event. Carries who, what and why; never a token, key secret or header value
 * beyond the identity fields listed.
 *
 * @param replay the decision's replay facts, written into the row's details under {@code replay} by the audit writer's
 *     thread (not the Check's)
 */
public record AuthzDecisionEvent(
        Instant time,
        String requestId,
        Optional<String> traceId,
        Optional<String> tenant,
        Optional<String> subject,
        Optional<String> clientId,
        Optional<String> source,
        Optional<String> callerType,
        String method,
        String authority,
        String path,
        Optional<String> route,
        int status,
        String decision,
        String reason,
        long latencyMicros,
        Map<String, String> details,
        Optional<ReplayFacts> replay) {
    public static final String KIND = "authz_decision";

    /** The replay facts as the row keeps them under {@code details.replay} (made now if not made yet). */
    public Optional<String> replayJson() {
        return replay.map(ReplayFacts::json);
    }
}
