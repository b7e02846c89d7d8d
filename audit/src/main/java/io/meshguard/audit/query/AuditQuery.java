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
 * @param routeContains only events whose route (or, without one, path) contains this text
 * @param canary    whether canaries' rows are in the result ({@link CanaryRows#INCLUDE} unless asked)
 * @param traceId   only events of this W3C trace id (a canary's own, which it looks its rows up by)
 * @param before    keyset paging: only events older than this one, in the result's order (newest first), so a page
 *                  stays the same while new events arrive, and the database seeks instead of skipping rows (OFFSET)
 */
public record AuditQuery(
        Instant since,
        Optional<Instant> until,
        Optional<String> tenant,
        Optional<AuditKind> kind,
        Optional<String> subject,
        Optional<String> requestId,
        int limit,
        Optional<String> routeContains,
        Optional<Cursor> before,
        CanaryRows canary,
        Optional<String> traceId) {

    public static final int DEFAULT_LIMIT = 1000;

    /**
     * Whether the rows of {@code meshguard canary}'s synthetic requests are in the result: the access-log rows marked
     * {@code details.canary} (the {@code x-meshguard-canary} header) and every row sharing a request id with one (the
     * Check, the DLP session). The header is one any client can send, so {@link #INCLUDE} is the default: leaving rows
     * out is asked for, never done behind an investigator's back.
     */
    public enum CanaryRows {
        /** Every row (the default). */
        INCLUDE,
        /** Only rows of requests that are not marked as canaries: traffic statistics without the synthetic load. */
        EXCLUDE,
        /** Only the canaries' rows. */
        ONLY;

        /** {@code include | exclude | only}, as the CLI and the REST query spell it. */
        public static CanaryRows parse(String text) {
            for (CanaryRows c : values()) {
                if (c.name().equalsIgnoreCase(text.strip())) {
                    return c;
                }
            }
            throw new IllegalArgumentException("canary must be include, exclude or only, got '" + text + "'");
        }

        public String text() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Where a page ends: the last event's time and id, the result's sort key ({@code occurred_at, event_id}). */
    public record Cursor(Instant occurredAt, java.util.UUID eventId) {
        public Cursor {
            Objects.requireNonNull(occurredAt, "occurredAt");
            Objects.requireNonNull(eventId, "eventId");
        }

        /** As a URL carries it: {@code <ISO instant>_<uuid>}. */
        public String text() {
            return occurredAt + "_" + eventId;
        }

        /** The inverse of {@link #text()}; a malformed text is refused. */
        public static Cursor parse(String text) {
            int at = text.lastIndexOf('_');
            try {
                return new Cursor(
                        Instant.parse(text.substring(0, Math.max(at, 0))),
                        java.util.UUID.fromString(text.substring(at + 1)));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("not a page position: '" + text + "'");
            }
        }
    }

    /** As before, without a route or trace filter or page position. */
    public AuditQuery(
            Instant since,
            Optional<Instant> until,
            Optional<String> tenant,
            Optional<AuditKind> kind,
            Optional<String> subject,
            Optional<String> requestId,
            int limit) {
        this(
                since,
                until,
                tenant,
                kind,
                subject,
                requestId,
                limit,
                Optional.empty(),
                Optional.empty(),
                CanaryRows.INCLUDE,
                Optional.empty());
    }

    public AuditQuery {
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(until, "until");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(routeContains, "routeContains");
        Objects.requireNonNull(before, "before");
        Objects.requireNonNull(canary, "canary");
        Objects.requireNonNull(traceId, "traceId");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
        if (until.isPresent() && !until.get().isAfter(since)) {
            throw new IllegalArgumentException("--until (" + until.get() + ") must be after --since (" + since + ")");
        }
    }

    /** Everything since {@code since}, newest first, up to {@link #DEFAULT_LIMIT} rows. */
    public static AuditQuery since(Instant since) {
        return new AuditQuery(
                since,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                DEFAULT_LIMIT);
    }

    public AuditQuery withUntil(Instant v) {
        return new AuditQuery(
                since, Optional.of(v), tenant, kind, subject, requestId, limit, routeContains, before, canary, traceId);
    }

    public AuditQuery withTenant(String v) {
        return new AuditQuery(
                since, until, Optional.of(v), kind, subject, requestId, limit, routeContains, before, canary, traceId);
    }

    public AuditQuery withKind(AuditKind v) {
        return new AuditQuery(
                since,
                until,
                tenant,
                Optional.of(v),
                subject,
                requestId,
                limit,
                routeContains,
                before,
                canary,
                traceId);
    }

    public AuditQuery withSubject(String v) {
        return new AuditQuery(
                since, until, tenant, kind, Optional.of(v), requestId, limit, routeContains, before, canary, traceId);
    }

    public AuditQuery withRequestId(String v) {
        return new AuditQuery(
                since, until, tenant, kind, subject, Optional.of(v), limit, routeContains, before, canary, traceId);
    }

    public AuditQuery withRouteContaining(String v) {
        return new AuditQuery(
                since, until, tenant, kind, subject, requestId, limit, Optional.of(v), before, canary, traceId);
    }

    public AuditQuery withBefore(Cursor v) {
        return new AuditQuery(
                since, until, tenant, kind, subject, requestId, limit, routeContains, Optional.of(v), canary, traceId);
    }

    public AuditQuery withTraceId(String v) {
        return new AuditQuery(
                since, until, tenant, kind, subject, requestId, limit, routeContains, before, canary, Optional.of(v));
    }

    public AuditQuery withCanary(CanaryRows v) {
        return new AuditQuery(since, until, tenant, kind, subject, requestId, limit, routeContains, before, v, traceId);
    }

    public AuditQuery withLimit(int v) {
        return new AuditQuery(
                since, until, tenant, kind, subject, requestId, v, routeContains, before, canary, traceId);
    }
}
