package io.meshguard.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.runtime.logging.SensitiveText;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * One audit record, immutable. Every optional column is exposed as an {@link Optional}; the free-form rest lives in
 * {@link #detailsJson()} (a JSON object, stored as {@code jsonb}). Text longer than its database column is cut to
 * the column width when the event is built, and the names of cut fields are listed under {@code _truncated} in the
 * details, so a long value can never make a batch fail.
 *
 * <p>Every text column and every string in the details (keys too) goes through {@link SensitiveText#mask} when the
 * event is built: card numbers and national ids never reach a row, the decision log or the spool, whichever server
 * or field they came from (paths, query strings, headers, claims).
 *
 * <p>Build with {@link #builder(AuditKind)}; the event id is a UUIDv7 derived from {@code occurredAt} unless set.
 */
public final class AuditEvent {
    /** Column widths of {@code audit_event} (db's V1__baseline.sql). */
    static final int REQUEST_ID_MAX = 128;

    static final int TRACE_ID_MAX = 32;
    static final int TENANT_MAX = 128;
    static final int SUBJECT_MAX = 256;
    static final int CLIENT_ID_MAX = 256;
    static final int SOURCE_MAX = 64;
    static final int CALLER_TYPE_MAX = 64;
    static final int METHOD_MAX = 16;
    static final int AUTHORITY_MAX = 256;
    static final int PATH_MAX = 2048;
    static final int ROUTE_MAX = 256;
    static final int DECISION_MAX = 16;
    static final int REASON_MAX = 128;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final UUID eventId;
    private final Instant occurredAt;
    private final AuditKind kind;
    private final String requestId;
    private final String traceId;
    private final String tenant;
    private final String subject;
    private final String clientId;
    private final String source;
    private final String callerType;
    private final String method;
    private final String authority;
    private final String path;
    private final String route;
    private final Integer status;
    private final String decision;
    private final String reason;
    private final Long latencyUs;
    private final Long requestBytes;
    private final Long responseBytes;
    private final boolean stream;
    /** Null until a deferred detail is rendered (then {@link #later} is dropped). */
    private volatile String detailsJson;
    /** Details with an entry rendered on first read ({@link Builder#detailLater}), else null. */
    private Deferred later;

    /** The details as collected, rendered by the first reader of {@link #detailsJson()}. */
    private record Deferred(Map<String, Object> details, List<String> truncated) {}

    /** A details value rendered when the details are first read, not when the event is built. */
    private record Later(java.util.function.Supplier<String> text) {}

    private AuditEvent(Builder b, Deferred later) {
        this(b, (String) null);
        this.later = later;
    }

    private AuditEvent(Builder b, String detailsJson) {
        this.occurredAt = b.occurredAt != null ? b.occurredAt : Instant.now().truncatedTo(ChronoUnit.MICROS);
        this.eventId = b.eventId != null ? b.eventId : EventIds.forInstant(this.occurredAt);
        this.kind = b.kind;
        this.requestId = b.requestId;
        this.traceId = b.traceId;
        this.tenant = b.tenant;
        this.subject = b.subject;
        this.clientId = b.clientId;
        this.source = b.source;
        this.callerType = b.callerType;
        this.method = b.method;
        this.authority = b.authority;
        this.path = b.path;
        this.route = b.route;
        this.status = b.status;
        this.decision = b.decision;
        this.reason = b.reason;
        this.latencyUs = b.latencyUs;
        this.requestBytes = b.requestBytes;
        this.responseBytes = b.responseBytes;
        this.stream = b.stream;
        this.detailsJson = detailsJson;
    }

    /** A builder for an event of {@code kind} that occurred now (when it is built, unless {@code occurredAt} is set). */
    public static Builder builder(AuditKind kind) {
        return new Builder(kind);
    }

    /** A builder pre-filled with every field of this event (same id). */
    public Builder toBuilder() {
        Builder b = new Builder(kind)
                        .eventId(eventId)
                        .occurredAt(occurredAt)
                        .requestId(requestId)
                        .traceId(traceId)
                        .tenant(tenant)
                        .subject(subject)
                        .clientId(clientId)
                        .source(source)
                        .callerType(callerType)
                        .method(method)
                        .authority(authority)
                        .path(path)
                        .route(route)
                        .decision(decision)
                        .reason(reason)
                        .stream(stream);
        b.status = status;
        b.latencyUs = latencyUs;
        b.requestBytes = requestBytes;
        b.responseBytes = responseBytes;
        b.rawDetailsJson = detailsJson();
        return b;
    }

    public UUID eventId() {
        return eventId;
    }

    /** When it happened, at microsecond precision (what PostgreSQL keeps). */
    public Instant occurredAt() {
        return occurredAt;
    }

    public AuditKind kind() {
        return kind;
    }

    /** Envoy's {@code x-request-id}. */
    public Optional<String> requestId() {
        return Optional.ofNullable(requestId);
    }

    /** The W3C trace id (32 hex digits) from {@code traceparent}. */
    public Optional<String> traceId() {
        return Optional.ofNullable(traceId);
    }

    public Optional<String> tenant() {
        return Optional.ofNullable(tenant);
    }

    /** The authenticated user or service (token {@code sub}). */
    public Optional<String> subject() {
        return Optional.ofNullable(subject);
    }

    /** The OAuth client or agent id. */
    public Optional<String> clientId() {
        return Optional.ofNullable(clientId);
    }

    /** The {@code X-DWP-Source}-style origin of the call. */
    public Optional<String> source() {
        return Optional.ofNullable(source);
    }

    /** The {@code X-DWP-Caller-Type}-style caller class (human, agent, service...). */
    public Optional<String> callerType() {
        return Optional.ofNullable(callerType);
    }

    public Optional<String> method() {
        return Optional.ofNullable(method);
    }

    public Optional<String> authority() {
        return Optional.ofNullable(authority);
    }

    /** The request path; without query string unless the writer is configured to keep it. */
    public Optional<String> path() {
        return Optional.ofNullable(path);
    }

    /** The route name (Envoy route or meshguard policy route). */
    public Optional<String> route() {
        return Optional.ofNullable(route);
    }

    /** The HTTP status returned to the client. */
    public OptionalInt status() {
        return status == null ? OptionalInt.empty() : OptionalInt.of(status);
    }

    /** {@code allow}, {@code deny}, {@code mask}, {@code block}, ... */
    public Optional<String> decision() {
        return Optional.ofNullable(decision);
    }

    /** A short machine-readable reason code ({@code token_expired}, {@code tenant_mismatch}, ...). */
    public Optional<String> reason() {
        return Optional.ofNullable(reason);
    }

    public OptionalLong latencyUs() {
        return latencyUs == null ? OptionalLong.empty() : OptionalLong.of(latencyUs);
    }

    public OptionalLong requestBytes() {
        return requestBytes == null ? OptionalLong.empty() : OptionalLong.of(requestBytes);
    }

    public OptionalLong responseBytes() {
        return responseBytes == null ? OptionalLong.empty() : OptionalLong.of(responseBytes);
    }

    /** True for streamed responses (SSE): such rows are summaries without sizes or query strings. */
    public boolean isStream() {
        return stream;
    }

    /** The details as a JSON object text; {@code {}} when there are none. */
    public String detailsJson() {
        String json = detailsJson;
        if (json != null) {
            return json;
        }
        synchronized (this) {
            if (detailsJson == null) {
                detailsJson = Builder.render(later.details(), later.truncated());
                later = null; // what the deferred value was made from (a request, its headers) can go now
            }
            return detailsJson;
        }
    }

    /** The details parsed into a map (for display). */
    public Map<String, Object> details() {
        try {
            return JSON.readValue(detailsJson(), new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("audit event details are not a JSON object", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AuditEvent e
                && eventId.equals(e.eventId)
                && occurredAt.equals(e.occurredAt)
                && kind == e.kind
                && Objects.equals(requestId, e.requestId)
                && Objects.equals(traceId, e.traceId)
                && Objects.equals(tenant, e.tenant)
                && Objects.equals(subject, e.subject)
                && Objects.equals(clientId, e.clientId)
                && Objects.equals(source, e.source)
                && Objects.equals(callerType, e.callerType)
                && Objects.equals(method, e.method)
                && Objects.equals(authority, e.authority)
                && Objects.equals(path, e.path)
                && Objects.equals(route, e.route)
                && Objects.equals(status, e.status)
                && Objects.equals(decision, e.decision)
                && Objects.equals(reason, e.reason)
                && Objects.equals(latencyUs, e.latencyUs)
                && Objects.equals(requestBytes, e.requestBytes)
                && Objects.equals(responseBytes, e.responseBytes)
                && stream == e.stream
                && details().equals(e.details());
    }

    @Override
    public int hashCode() {
        return eventId.hashCode();
    }

    @Override
    public String toString() {
        return "AuditEvent[" + kind.dbName() + " " + eventId + " at " + occurredAt
                + requestId().map(r -> " request_id=" + r).orElse("")
                + tenant().map(t -> " tenant=" + t).orElse("")
                + decision().map(d -> " decision=" + d).orElse("")
                + "]";
    }

    /** Collects an event's fields; null arguments mean "absent". */
    public static final class Builder {
        private final AuditKind kind;
        private UUID eventId;
        /** Unset: the event occurred when it is built (read then, not for every builder whose caller sets it). */
        private Instant occurredAt;

        private String requestId;
        private String traceId;
        private String tenant;
        private String subject;
        private String clientId;
        private String source;
        private String callerType;
        private String method;
        private String authority;
        private String path;
        private String route;
        private Integer status;
        private String decision;
        private String reason;
        private Long latencyUs;
        private Long requestBytes;
        private Long responseBytes;
        private boolean stream;
        private final Map<String, Object> details = new LinkedHashMap<>();
        private String rawDetailsJson;
        private final List<String> truncated = new ArrayList<>(0);

        private Builder(AuditKind kind) {
            this.kind = Objects.requireNonNull(kind, "kind");
        }

        public Builder eventId(UUID id) {
            this.eventId = id;
            return this;
        }

        public Builder occurredAt(Instant at) {
            this.occurredAt = Objects.requireNonNull(at, "occurredAt").truncatedTo(ChronoUnit.MICROS);
            return this;
        }

        public Builder requestId(String v) {
            this.requestId = clip("request_id", v, REQUEST_ID_MAX);
            return this;
        }

        /** The 32-hex trace id; see {@link TraceContext#traceId(String)} to read it from {@code traceparent}. */
        public Builder traceId(String v) {
            this.traceId = clip("trace_id", v, TRACE_ID_MAX);
            return this;
        }

        public Builder tenant(String v) {
            this.tenant = clip("tenant", v, TENANT_MAX);
            return this;
        }

        public Builder subject(String v) {
            this.subject = clip("subject", v, SUBJECT_MAX);
            return this;
        }

        public Builder clientId(String v) {
            this.clientId = clip("client_id", v, CLIENT_ID_MAX);
            return this;
        }

        public Builder source(String v) {
            this.source = clip("source", v, SOURCE_MAX);
            return this;
        }

        public Builder callerType(String v) {
            this.callerType = clip("caller_type", v, CALLER_TYPE_MAX);
            return this;
        }

        public Builder method(String v) {
            this.method = clip("method", v, METHOD_MAX);
            return this;
        }

        public Builder authority(String v) {
            this.authority = clip("authority", v, AUTHORITY_MAX);
            return this;
        }

        /** The request path as seen; the writer drops the query string unless configured otherwise. */
        public Builder path(String v) {
            this.path = clip("path", v, PATH_MAX);
            return this;
        }

        public Builder route(String v) {
            this.route = clip("route", v, ROUTE_MAX);
            return this;
        }

        public Builder status(int v) {
            this.status = v;
            return this;
        }

        public Builder decision(String v) {
            this.decision = clip("decision", v, DECISION_MAX);
            return this;
        }

        public Builder reason(String v) {
            this.reason = clip("reason", v, REASON_MAX);
            return this;
        }

        public Builder latencyUs(long v) {
            this.latencyUs = v;
            return this;
        }

        public Builder requestBytes(long v) {
            this.requestBytes = v;
            return this;
        }

        public Builder responseBytes(long v) {
            this.responseBytes = v;
            return this;
        }

        public Builder stream(boolean v) {
            this.stream = v;
            return this;
        }

        /** Adds one details entry: strings, numbers, booleans, lists and maps of those. */
        public Builder detail(String key, Object value) {
            if (rawDetailsJson != null) {
                throw new IllegalStateException("details were set as JSON text; add entries before or not at all");
            }
            details.put(Objects.requireNonNull(key, "key"), value);
            return this;
        }

        /**
         * Adds one string details entry rendered when the details are first read ({@link #detailsJson()}: the audit
         * writer's or the decision log's thread), not on the thread that builds the event. {@code text} must be safe
         * to call from another thread and return the same text every time; it is masked like any other value. Should
         * it fail, the entry holds {@code "unavailable: "} and the exception's class, and the event is still written.
         */
        public Builder detailLater(String key, java.util.function.Supplier<String> text) {
            return detail(key, new Later(Objects.requireNonNull(text, "text")));
        }

        /** Sets the details from a JSON object text, replacing entries added before. */
        public Builder detailsJson(String json) {
            details.clear();
            rawDetailsJson = null;
            if (json == null) {
                return this;
            }
            try {
                if (!JSON.readTree(json).isObject()) {
                    throw new IllegalArgumentException("details must be a JSON object: " + abbreviate(json));
                }
                details.putAll(JSON.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {}));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("details are not valid JSON: " + abbreviate(json), e);
            }
            return this;
        }

        /** Sets details that were produced by {@link #build()} before (read back from the spool): no re-parse. */
        Builder trustedDetailsJson(String json) {
            details.clear();
            rawDetailsJson = json;
            return this;
        }

        public AuditEvent build() {
            if (rawDetailsJson != null) {
                if (truncated.isEmpty()) {
                    return new AuditEvent(this, rawDetailsJson);
                }
                detailsJson(rawDetailsJson);
            }
            for (Object v : details.values()) {
                if (v instanceof Later) {
                    return new AuditEvent(this, new Deferred(new LinkedHashMap<>(details), List.copyOf(truncated)));
                }
            }
            return new AuditEvent(this, render(details, truncated));
        }

        /** The details as JSON text: keys and strings masked, NUL replaced, the cut fields listed. */
        static String render(Map<String, Object> details, List<String> truncated) {
            Map<String, Object> all = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : details.entrySet()) {
                Object value = e.getValue();
                if (value instanceof Later l) {
                    try {
                        value = l.text().get();
                    } catch (RuntimeException ex) {
                        value = "unavailable: " + ex.getClass().getSimpleName();
                    }
                }
                all.put(SensitiveText.mask(withoutNul(e.getKey())), sanitized(value));
            }
            if (!truncated.isEmpty()) {
                all.put("_truncated", List.copyOf(truncated));
            }
            if (all.isEmpty()) {
                return "{}";
            }
            Optional<String> flat = FlatJson.write(all);
            if (flat.isPresent()) {
                return flat.get();
            }
            try {
                return JSON.writeValueAsString(all);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("audit details cannot be written as JSON: " + e.getMessage(), e);
            }
        }

        /** PostgreSQL text and jsonb cannot hold U+0000; one stray NUL would fail a whole batch. */
        private static Object sanitized(Object value) {
            if (value instanceof String s) {
                return SensitiveText.mask(withoutNul(s));
            }
            if (value instanceof Map<?, ?> m) {
                Map<String, Object> copy = new LinkedHashMap<>();
                m.forEach((k, v) -> copy.put(SensitiveText.mask(withoutNul(String.valueOf(k))), sanitized(v)));
                return copy;
            }
            if (value instanceof Iterable<?> list) {
                List<Object> copy = new ArrayList<>();
                list.forEach(v -> copy.add(sanitized(v)));
                return copy;
            }
            return value;
        }

        private static String withoutNul(String s) {
            return s.indexOf('\u0000') < 0 ? s : s.replace('\u0000', '\uFFFD');
        }

        private String clip(String field, String value, int max) {
            truncated.remove(field);
            if (value == null) {
                return null;
            }
            // Masked before it is cut: a card number cut at the column width would leave its first digits in clear.
            value = SensitiveText.mask(withoutNul(value));
            if (value.length() <= max) {
                return value;
            }
            truncated.add(field);
            int end = max;
            if (Character.isHighSurrogate(value.charAt(end - 1))) {
                end--; // never split a surrogate pair: the database would reject the half character
            }
            return value.substring(0, end);
        }

        private static String abbreviate(String s) {
            return s.length() <= 60 ? s : s.substring(0, 60) + "...";
        }
    }
}
