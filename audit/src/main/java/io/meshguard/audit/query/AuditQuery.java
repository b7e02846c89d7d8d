package io.meshguard.audit.query;

import io.meshguard.audit.AuditKind;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A filter over the audit log; every present field narrows the result.
 *
 * @param since     inclusive lower bound on {@code occurred_at}
 * @param until     exclusive upper bound (none: up to now and beyond)
 * @param limit     most rows returned, newest first
 */
public record AuditQuery(
        Instant since,
        Optional<Instant> until,
        Optional<String> tenant,
        Optional<AuditKind> kind,
        Optional<String> subject,
        Optional<String> requestId,
        int limit) {

    public static final int DEFAULT_LIMIT = 1000;

    public AuditQuery {
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(until, "until");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(requestId, "requestId");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
        if (until.isPresent() && !until.get().isAfter(since)) {
            throw new IllegalArgumentException("--until (" + until.get() + ") must be after --since (" + since + ")");
        }
    }

    /** Everything since {@code since}, newest first, up to {@link #DEFAULT_LIMIT} rows. */
    public static AuditQuery since(Instant since) {
        return new AuditQuery(since, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), DEFAULT_LIMIT);
    }

    public AuditQuery withUntil(Instant v) {
        return new AuditQuery(since, Optional.of(v), tenant, kind, subject, requestId, limit);
    }

    public AuditQuery withTenant(String v) {
        return new AuditQuery(since, until, Optional.of(v), kind, subject, requestId, limit);
    }

    public AuditQuery withKind(AuditKind v) {
        return new AuditQuery(since, until, tenant, Optional.of(v), subject, requestId, limit);
    }

    public AuditQuery withSubject(String v) {
        return new AuditQuery(since, until, tenant, kind, Optional.of(v), requestId, limit);
    }

    public AuditQuery withRequestId(String v) {
        return new AuditQuery(since, until, tenant, kind, subject, Optional.of(v), limit);
    }

    public AuditQuery withLimit(int v) {
        return new AuditQuery(since, until, tenant, kind, subject, requestId, v);
    }
}
