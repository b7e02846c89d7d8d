package io.meshguard.audit;

import java.util.Objects;

/**
 * What the audit log keeps about one DLP hit: which detector, in which direction and where, how long the value
 * was and its keyed hash. There is deliberately no field for the value itself.
 *
 * @param detector  detector name from the DLP policy ({@code pan}, {@code iban}, ...)
 * @param direction request or response body
 * @param location  where in the body: a JSON pointer, form field name or SSE event index
 * @param length    length of the matched value in characters
 * @param valueHmac HMAC-SHA256 of the value under the configured key (hex)
 * @param keyId     which key produced {@code valueHmac}
 */
public record DlpFinding(
        String detector, Direction direction, String location, int length, String valueHmac, String keyId) {

    /** Which body the finding was in. */
    public enum Direction {
        REQUEST,
        RESPONSE;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public DlpFinding {
        Objects.requireNonNull(detector, "detector");
        Objects.requireNonNull(direction, "direction");
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(valueHmac, "valueHmac");
        Objects.requireNonNull(keyId, "keyId");
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0");
        }
    }

    /** Hashes {@code value} right away; the returned finding holds no reference to it. */
    public static DlpFinding of(
            String detector, Direction direction, String location, CharSequence value, FindingHasher hasher) {
        return new DlpFinding(detector, direction, location, value.length(), hasher.hmac(value), hasher.keyId());
    }

    /** Writes this finding into the details of a {@code dlp_finding} event. */
    public AuditEvent.Builder applyTo(AuditEvent.Builder event) {
        return event.detail("detector", detector)
                .detail("direction", direction.wireName())
                .detail("location", location)
                .detail("length", length)
                .detail("value_hmac", valueHmac)
                .detail("hmac_key_id", keyId);
    }

    /** A {@code dlp_finding} event builder carrying this finding; add request id, tenant etc. before build(). */
    public AuditEvent.Builder toEvent() {
        return applyTo(AuditEvent.builder(AuditKind.DLP_FINDING));
    }
}
