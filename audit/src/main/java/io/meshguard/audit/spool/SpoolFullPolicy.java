package io.meshguard.audit.spool;

import java.util.Locale;

/** What happens when appending would take the spool past its disk cap. Either way a metric and a log say so. */
public enum SpoolFullPolicy {
    /** Delete the oldest segments (counting their events as dropped) to make room for the new events. */
    DROP_OLDEST,
    /** Keep what is spooled and drop the new events that do not fit. */
    REJECT;

    /** Parses {@code drop_oldest} or {@code reject}. */
    public static SpoolFullPolicy parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "audit spool full policy must be drop_oldest or reject; got '" + text + "'", e);
        }
    }
}
