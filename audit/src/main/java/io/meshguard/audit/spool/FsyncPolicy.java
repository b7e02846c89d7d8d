package io.meshguard.audit.spool;

import java.util.Locale;

/** When appended spool records are forced to disk. */
public enum FsyncPolicy {
    /** After every appended batch, before the append returns: a crash loses nothing that was spooled. */
    EVERY_BATCH,
    /** At most once per configured interval: a crash can lose up to that much spooled data. */
    INTERVAL,
    /** Never explicitly: the OS decides (a machine crash can lose spooled data; a process crash cannot). */
    NONE;

    /** Parses {@code every_batch}, {@code interval} or {@code none}. */
    public static FsyncPolicy parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "audit spool fsync must be one of every_batch, interval, none; got '" + text + "'", e);
        }
    }
}
