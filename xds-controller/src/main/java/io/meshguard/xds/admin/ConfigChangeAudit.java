package io.meshguard.xds.admin;

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
     * Records into {@code audit} and appends each change to the hash-chained admin trail; a change the trail cannot
     * take is logged at ERROR with every field (it was already made: the draft and revisions commit first).
     */
    static ConfigChangeAudit alsoTrailed(ConfigChangeAudit audit, io.meshguard.audit.trail.AdminTrail trail) {
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("io.meshguard.xds.audit");
        return c -> {
            audit.record(c);
            try {
                trail.append(new io.meshguard.audit.trail.AdminTrailEntry(java.time.Instant.now(), c.actor(),
                        "admin-api", java.util.Optional.empty(), java.util.Optional.empty(), java.util.Optional.empty(),
                        java.util.Optional.ofNullable(c.requestId()), c.action(), c.object(), c.detail(),
                        java.util.Optional.empty(), java.util.Optional.empty(), java.util.Map.of()));
            } catch (io.meshguard.audit.trail.AdminTrail.UnavailableException e) {
                log.error("admin trail unavailable, change kept only in the audit log: actor={} action={} object={} "
                        + "detail={} request_id={} ({})", c.actor(), c.action(), c.object(), c.detail(), c.requestId(),
                        e.getMessage());
            }
        };
    }

    /** Logs the change only (tests and offline tools). */
    static ConfigChangeAudit logOnly() {
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("io.meshguard.xds.audit");
        return c -> log.info("config_change actor={} action={} object={} detail={} request_id={}", c.actor(),
                c.action(), c.object(), c.detail(), c.requestId());
    }
}
