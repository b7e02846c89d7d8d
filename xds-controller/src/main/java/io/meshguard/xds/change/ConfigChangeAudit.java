package io.meshguard.xds.change;

/**
 * Where every admin change goes as a {@code config_change} audit event. Recording must not block the request;
 * the audit module's writer spools when the database is away.
 */
public interface ConfigChangeAudit {

    /**
     * One change.
     *
     * @param actor who (the bearer token's name)
     * @param action e.g. {@code upsert}, {@code delete}, {@code publish}, {@code rollback}, {@code apply}
     * @param object e.g. {@code routes/local/chat-completions}, {@code revision/12}
     * @param detail short human-readable outcome
     */
    record ConfigChange(String actor, String action, String object, String detail, String requestId) {}

    void record(ConfigChange change);

    /**
     * The part of recording that must commit with the change, run inside the change's own transaction on {@code c}
     * (the admin-trail row); a failure rolls the change back. Nothing by default.
     */
    default void recordWithin(java.sql.Connection c, ConfigChange change) throws java.sql.SQLException {}

    /** The rest, after the change committed with {@link #recordWithin}: by default all of {@link #record}. */
    default void recordCommitted(ConfigChange change) {
        record(change);
    }

    /** Records into the audit log as {@code config_change} events (subject = actor, source = xds-controller). */
    static ConfigChangeAudit to(io.meshguard.audit.AuditSink sink) {
        return c -> sink.record(io.meshguard.audit.AuditEvent.builder(io.meshguard.audit.AuditKind.CONFIG_CHANGE)
                .subject(c.actor())
                .source("xds-controller")
                .requestId(c.requestId())
                .route(c.object())
                .reason(c.action())
                .detail("action", c.action())
                .detail("object", c.object())
                .detail("detail", c.detail())
                .build());
    }

    /**
     * Records into {@code audit} and appends each change to the hash-chained admin trail: a draft change in its own
     * transaction ({@link #recordWithin}); a change recorded after its commit (publish, rollback, four eyes) that the
     * trail cannot take is logged at ERROR with every field.
     */
    static ConfigChangeAudit alsoTrailed(ConfigChangeAudit audit, io.meshguard.audit.trail.AdminTrail trail) {
        return new TrailedChanges(audit, trail);
    }

    /** Logs the change only (tests and offline tools). */
    static ConfigChangeAudit logOnly() {
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("io.meshguard.xds.audit");
        return c -> log.info(
                "config_change actor={} action={} object={} detail={} request_id={}",
                c.actor(),
                c.action(),
                c.object(),
                c.detail(),
                c.requestId());
    }
}
