package io.meshguard.audit.spool;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the spool uses the disk.
 *
 * @param directory     where segment files live (created if missing; one writer per directory)
 * @param maxBytes      disk cap over all segments
 * @param segmentBytes  a segment is sealed once it reaches this size
 * @param fsync         when appends are forced to disk
 * @param fsyncInterval for {@link FsyncPolicy#INTERVAL}
 * @param whenFull      what to do at the cap
 */
public record SpoolSettings(
        Path directory,
        long maxBytes,
        long segmentBytes,
        FsyncPolicy fsync,
        Duration fsyncInterval,
        SpoolFullPolicy whenFull) {

    public static final long DEFAULT_MAX_BYTES = 1024L * 1024 * 1024;
    public static final long DEFAULT_SEGMENT_BYTES = 16L * 1024 * 1024;

    public SpoolSettings {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(fsync, "fsync");
        Objects.requireNonNull(fsyncInterval, "fsyncInterval");
        Objects.requireNonNull(whenFull, "whenFull");
        if (segmentBytes < 1024) {
            throw new IllegalArgumentException("audit spool segment size must be at least 1024 bytes");
        }
        if (maxBytes < segmentBytes) {
            throw new IllegalArgumentException("audit spool cap (" + maxBytes + " bytes) must be at least one segment ("
                    + segmentBytes + " bytes)");
        }
    }

    /** Defaults: 1 GiB cap, 16 MiB segments, fsync every batch, reject when full. */
    public static SpoolSettings defaults(Path directory) {
        return new SpoolSettings(
                directory,
                DEFAULT_MAX_BYTES,
                DEFAULT_SEGMENT_BYTES,
                FsyncPolicy.EVERY_BATCH,
                Duration.ofSeconds(1),
                SpoolFullPolicy.REJECT);
    }

    public SpoolSettings withMaxBytes(long bytes) {
        return new SpoolSettings(directory, bytes, segmentBytes, fsync, fsyncInterval, whenFull);
    }

    public SpoolSettings withSegmentBytes(long bytes) {
        return new SpoolSettings(directory, maxBytes, bytes, fsync, fsyncInterval, whenFull);
    }

    public SpoolSettings withFsync(FsyncPolicy policy) {
        return new SpoolSettings(directory, maxBytes, segmentBytes, policy, fsyncInterval, whenFull);
    }

    public SpoolSettings withWhenFull(SpoolFullPolicy policy) {
        return new SpoolSettings(directory, maxBytes, segmentBytes, fsync, fsyncInterval, policy);
    }
}
