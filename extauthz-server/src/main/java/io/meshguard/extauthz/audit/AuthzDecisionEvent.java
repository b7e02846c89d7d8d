package io.meshguard.extauthz.audit;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code authz_decision} audit event. Carries who, what and why; never a token, key secret or header value
 * beyond the identity fields listed.
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
        Map<String, String> details) {
    public static final String KIND = "authz_decision";
}
