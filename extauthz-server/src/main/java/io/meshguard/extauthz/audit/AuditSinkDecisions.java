package io.meshguard.extauthz.audit;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.AuditSink;
import io.meshguard.authz.replay.RecordedDecision;

/**
 * Sends decisions to the audit module's writer ({@code AuditWriter}, batched, spooled to disk while PostgreSQL is
 * away) as {@code authz_decision} events. Non-blocking: a refused event is counted and logged by the writer.
 */
public final class AuditSinkDecisions implements DecisionSink {
    private final AuditSink sink;

    public AuditSinkDecisions(AuditSink sink) {
        this.sink = sink;
    }

    @Override
    public java.util.Optional<AuditSink> auditLog() {
        return java.util.Optional.of(sink);
    }

    @Override
    public void record(AuthzDecisionEvent e) {
        sink.record(toAuditEvent(e));
    }

    /** The audit record of one decision: identity, request, outcome; details without any credential. */
    public static AuditEvent toAuditEvent(AuthzDecisionEvent e) {
        AuditEvent.Builder b = AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(e.time())
                .requestId(e.requestId())
                .method(e.method())
                .authority(e.authority())
                .path(e.path())
                .status(e.status())
                .decision(e.decision())
                .reason(e.reason())
                .latencyUs(e.latencyMicros());
        e.traceId().ifPresent(b::traceId);
        e.tenant().ifPresent(b::tenant);
        e.subject().ifPresent(b::subject);
        e.clientId().ifPresent(b::clientId);
        e.source().ifPresent(b::source);
        e.callerType().ifPresent(b::callerType);
        e.route().ifPresent(b::route);
        e.details().forEach(b::detail);
        // rendered by whichever thread first reads the event's details (the writer's or the decision log's)
        e.replay().ifPresent(r -> b.detailLater(RecordedDecision.AUDIT_DETAIL, r::json));
        return b.build();
    }
}
