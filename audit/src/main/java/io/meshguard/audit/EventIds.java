package io.meshguard.audit;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Time-ordered event ids: UUID version 7 (RFC 9562). The 48-bit millisecond timestamp comes from the event's own
 * time, and the 12 {@code rand_a} bits carry the sub-millisecond fraction (RFC 9562 §6.2 method 3), so ids sort
 * like {@code occurred_at} at microsecond-ish precision and new rows land at the end of the primary-key index.
 */
public final class EventIds {
    private EventIds() {}

    /** A new UUIDv7 for an event that occurred at {@code at}. */
    public static UUID forInstant(Instant at) {
        long millis = at.toEpochMilli();
        long nanosOfMilli = at.getNano() % 1_000_000L;
        long subMilli = (nanosOfMilli * 4096L) / 1_000_000L; // 12 bits
        long msb = (millis << 16) | (0x7L << 12) | (subMilli & 0xFFFL);
        long lsb = (ThreadLocalRandom.current().nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        return new UUID(msb, lsb);
    }

    /** The millisecond timestamp embedded in a version 7 id. */
    public static long epochMillis(UUID id) {
        if (id.version() != 7) {
            throw new IllegalArgumentException("not a UUIDv7: " + id);
        }
        return id.getMostSignificantBits() >>> 16;
    }
}
