package io.meshguard.extauthz.audit;

import io.meshguard.audit.AuditSink;
import java.util.Optional;

/**
 * Where decisions are recorded. Must not block the Check call: implementations queue and write elsewhere. Adapt
 * the audit module's writer to this with one lambda.
 */
@FunctionalInterface
public interface DecisionSink {
    void record(AuthzDecisionEvent event);

    /** The audit log behind this sink, for the server's other audit events (quota alerts and changes); none by default. */
    default Optional<AuditSink> auditLog() {
        return Optional.empty();
    }

    /** Records nothing (neither an audit database nor the decision log is configured; logged at start). */
    DecisionSink NONE = event -> {};
}
