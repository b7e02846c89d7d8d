package io.meshguard.audit;

/**
 * Where producers (ext_authz, DLP, the access-log receiver, config changes) hand audit events. The production
 * implementation is {@link AuditWriter}; implementations must not block or do I/O in {@link #record}.
 */
@FunctionalInterface
public interface AuditSink {
    /** Queues the event; false when it could not be accepted (the implementation counts and logs that). */
    boolean record(AuditEvent event);
}
