package io.meshguard.audit;

import java.util.Locale;

/** How a batch reaches PostgreSQL. COPY measured faster at every batch size (docs/benchmarks.md, "Audit"). */
public enum BatchWriteMethod {
    /** {@code COPY audit_event FROM STDIN} (text format); replays go through a temp table + ON CONFLICT. */
    COPY,
    /** Multi-row {@code INSERT ... VALUES (...), (...)} with up to 1,000 rows per statement. */
    INSERT;

    public static BatchWriteMethod parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("audit write method must be copy or insert; got '" + text + "'", e);
        }
    }
}
