package io.meshguard.dlp.scan;

import java.util.Locale;
import java.util.Optional;

/** What happens to a finding's bytes. */
public enum ActionKind {
    /** Replace letters and digits with a mask character, keeping the last few and every separator. */
    MASK,
    /** Replace the value with a label such as {@code [REDACTED:card]}. */
    REDACT,
    /** Replace the value with a keyed hash token, stable per tenant (HMAC-SHA256). */
    HASH,
    /** Refuse the whole message. */
    BLOCK,
    /** Leave the value in place; audit only. */
    ALERT;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<ActionKind> parse(String s) {
        for (ActionKind a : values()) {
            if (a.id().equals(s)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
