package io.meshguard.audit;

/**
 * Where producers (ext_authz, DLP, the access-log receiver, config changes) hand audit events. The production
 * implementations are {@link AuditWriter} (PostgreSQL) and {@link DecisionLog} (one JSON line per event on standard
 * output), alone or {@link #both}; implementations must not do I/O in {@link #record}.
 */
@FunctionalInterface
public interface AuditSink {
    /** Queues the event; false when it could not be accepted (the implementation counts and logs that). */
    boolean record(AuditEvent event);

    /**
     * Records every event in both sinks (the database writer and the decision log); true only when both accepted it.
     */
    static AuditSink both(AuditSink first, AuditSink second) {
        return event -> first.record(event) & second.record(event);
    }
}
