package io.meshguard.extauthz.audit;

/**
 * Where decisions are recorded. Must not block the Check call: implementations queue and write elsewhere. Adapt
 * the audit module's writer to this with one lambda.
 */
@FunctionalInterface
public interface DecisionSink {
    void record(AuthzDecisionEvent event);

    /** The audit log behind this sink, for the server's other audit events (quota alerts and changes); none by default. */
    default java.util.Optional<io.meshguard.audit.AuditSink> auditLog() {
        return java.util.Optional.empty();
    }
}
