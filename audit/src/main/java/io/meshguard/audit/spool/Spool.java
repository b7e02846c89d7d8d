package io.meshguard.audit.spool;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Append-only on-disk queue of records in numbered segment files ({@code 00000000000000000042.seg}).
 *
 * <p>Crash consistency, in the order things reach the disk:
 * <ol>
 *   <li>a new segment is created, its header written and forced, then the directory is forced, so a segment that
 *       exists after a crash is either header-only (ignored and removed) or has a valid header;</li>
 *   <li>records are only ever appended; each carries its length and a CRC32C, so a write torn by a crash is
 *       detected on the next read, skipped and counted;</li>
 *   <li>records are forced according to {@link FsyncPolicy};</li>
 *   <li>a segment is deleted (and the directory forced) only after the caller has committed its records
 *       elsewhere; a crash in between leaves the segment to be replayed again, so the consumer must be idempotent.</li>
 * </ol>
 * On start every existing segment, including the one that was being appended when the process died, is treated as
 * sealed; new records always go to a new segment.
 *
 * <p>Thread-safe. One consumer at a time claims the oldest segment with {@link #claimOldest()}.
 */
public final class Spool implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Spool.class);
    private static final String SUFFIX = ".seg";

    private final SpoolSettings settings;
    private final ReentrantLock lock = new ReentrantLock();
    private final Deque<Segment> sealed = new ArrayDeque<>();
    private Segment active;
    private FileChannel activeChannel;
    private Segment claimed;
    private long nextSequence;
    private long totalBytes;
    private long lastForceNanos = System.nanoTime();
    private boolean unforced;
    private boolean closed;
    private volatile boolean empty;
    private volatile long bytesSnapshot;
    private volatile int segmentsSnapshot;

    private Spool(SpoolSettings settings) {
        this.settings = settings;
    }

    /** Opens (creating if needed) the spool directory and takes over the segments left there. */
    public static Spool open(SpoolSettings settings) throws IOException {
        Spool spool = new Spool(settings);
        spool.load();
        return spool;
    }

    private void load() throws IOException {
        Files.createDirectories(settings.directory());
        List<Segment> found = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(settings.directory(), "*" + SUFFIX)) {
            for (Path file : dir) {
                String name = file.getFileName().toString();
                String digits = name.substring(0, name.length() - SUFFIX.length());
                long sequence;
                try {
                    sequence = Long.parseLong(digits);
                } catch (NumberFormatException e) {
                    log.warn("ignoring unexpected file in the audit spool directory: {}", file);
                    continue;
                }
                found.add(new Segment(sequence, file, Files.size(file), -1));
            }
        }
        found.sort((a, b) -> Long.compare(a.sequence, b.sequence));
        long maxSeq = 0;
        for (Segment s : found) {
            maxSeq = Math.max(maxSeq, s.sequence);
            if (s.size <= SegmentFormat.HEADER.length
                    && SegmentScanner.scan(s.file).skippedRecords() == 0) {
                Files.deleteIfExists(s.file); // created, never appended to
                continue;
            }
            sealed.addLast(s);
            totalBytes += s.size;
        }
        nextSequence = maxSeq + 1;
        if (!sealed.isEmpty()) {
            log.info(
                    "audit spool {} holds {} segment(s), {} bytes, left from an earlier run: they will be replayed",
                    settings.directory(),
                    sealed.size(),
                    totalBytes);
        }
        forceDirectory();
        refreshSnapshots();
    }

    /**
     * Appends records (in order) and forces them to disk per the fsync policy. At the cap, applies the full
     * policy; the result says how many records were stored, rejected or dropped.
     */
    public AppendResult append(List<byte[]> records) throws IOException {
        lock.lock();
        try {
            ensureOpen();
            long need = 0;
            for (byte[] r : records) {
                need += SegmentFormat.recordSize(r);
            }
            long dropped = 0;
            if (settings.whenFull() == SpoolFullPolicy.DROP_OLDEST) {
                while (totalBytes + need + headerReserve() > settings.maxBytes()) {
                    long n = dropOldest();
                    if (n < 0) {
                        break; // nothing left that may be dropped
                    }
                    dropped += n;
                }
            }
            if (settings.whenFull() == SpoolFullPolicy.DROP_OLDEST) {
                // Nothing older left to drop: the oldest records of this very batch give way to its newest.
                int first = records.size();
                long keptBytes = 0;
                while (first > 0) {
                    long size = SegmentFormat.recordSize(records.get(first - 1));
                    if (totalBytes + keptBytes + size + headerReserve() > settings.maxBytes()) {
                        break;
                    }
                    keptBytes += size;
                    first--;
                }
                write(records.subList(first, records.size()));
                return new AppendResult(records.size() - first, 0, dropped + first);
            }
            int accepted = 0;
            long acceptedBytes = 0;
            for (byte[] r : records) {
                long size = SegmentFormat.recordSize(r);
                if (totalBytes + acceptedBytes + size + headerReserve() > settings.maxBytes()) {
                    break;
                }
                acceptedBytes += size;
                accepted++;
            }
            write(records.subList(0, accepted));
            return new AppendResult(accepted, records.size() - accepted, dropped);
        } finally {
            refreshSnapshots();
            lock.unlock();
        }
    }

    /** Room for the header of the next segment, which a rotation may need. */
    private long headerReserve() {
        return SegmentFormat.HEADER.length;
    }

    private void write(List<byte[]> records) throws IOException {
        int i = 0;
        while (i < records.size()) {
            if (active == null
                    || (active.size + SegmentFormat.recordSize(records.get(i)) > settings.segmentBytes()
                            && active.records > 0)) {
                rotate();
            }
            // Fill the active segment up to its size limit in one write call.
            long room = settings.segmentBytes() - active.size;
            int end = i;
            long bytes = 0;
            while (end < records.size()) {
                long size = SegmentFormat.recordSize(records.get(end));
                if (bytes + size > room && !(end == i && active.records == 0)) {
                    break;
                }
                bytes += size;
                end++;
                if (bytes >= room) {
                    break;
                }
            }
            ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(bytes));
            for (int k = i; k < end; k++) {
                SegmentFormat.putRecord(buf, records.get(k));
            }
            buf.flip();
            long before = active.size;
            try {
                while (buf.hasRemaining()) {
                    activeChannel.write(buf);
                }
            } catch (IOException e) {
                abandonActiveAfterFailedWrite(before);
                throw e;
            }
            active.size += bytes;
            active.records += end - i;
            totalBytes += bytes;
            unforced = true;
            i = end;
        }
        if (!records.isEmpty()) {
            forcePerPolicy();
        }
    }

    private void abandonActiveAfterFailedWrite(long sizeBefore) {
        // Cut the partial write off so the segment holds only whole records, then seal it: later appends go to a
        // fresh segment and never sit behind garbage.
        try {
            activeChannel.truncate(sizeBefore);
            activeChannel.force(false);
        } catch (IOException ignored) {
            log.warn(
                    "audit spool: could not truncate {} after a failed write; the reader will skip the torn tail",
                    active.file);
        }
        try {
            activeChannel.close();
        } catch (IOException ignored) {
            // closing after a failure; the file is sealed either way
        }
        sealed.addLast(active);
        active = null;
        activeChannel = null;
    }

    private void forcePerPolicy() throws IOException {
        switch (settings.fsync()) {
            case EVERY_BATCH -> force();
            case INTERVAL -> {
                if (System.nanoTime() - lastForceNanos
                        >= settings.fsyncInterval().toNanos()) {
                    force();
                }
            }
            case NONE -> {}
        }
    }

    /** For {@link FsyncPolicy#INTERVAL}: forces unforced appends once the interval has passed. */
    public void syncIfDue() throws IOException {
        lock.lock();
        try {
            if (!closed
                    && unforced
                    && settings.fsync() == FsyncPolicy.INTERVAL
                    && System.nanoTime() - lastForceNanos
                            >= settings.fsyncInterval().toNanos()) {
                force();
            }
        } finally {
            lock.unlock();
        }
    }

    private void force() throws IOException {
        if (activeChannel != null && unforced) {
            activeChannel.force(false);
        }
        unforced = false;
        lastForceNanos = System.nanoTime();
    }

    private void rotate() throws IOException {
        sealActive();
        long seq = nextSequence++;
        Path file = settings.directory().resolve(String.format("%020d%s", seq, SUFFIX));
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            channel.write(ByteBuffer.wrap(SegmentFormat.HEADER));
            channel.force(true);
            forceDirectory();
        } catch (IOException e) {
            channel.close();
            Files.deleteIfExists(file);
            throw e;
        }
        active = new Segment(seq, file, SegmentFormat.HEADER.length, 0);
        activeChannel = channel;
        totalBytes += SegmentFormat.HEADER.length;
    }

    private void sealActive() throws IOException {
        if (active == null) {
            return;
        }
        if (settings.fsync() != FsyncPolicy.NONE) {
            force();
        }
        activeChannel.close();
        if (active.records == 0) {
            Files.deleteIfExists(active.file);
            totalBytes -= active.size;
        } else {
            sealed.addLast(active);
        }
        active = null;
        activeChannel = null;
    }

    /** Deletes the oldest unclaimed segment; returns how many records it held, or -1 if none could go. */
    private long dropOldest() throws IOException {
        Segment victim = null;
        for (Segment s : sealed) {
            if (s != claimed) {
                victim = s;
                break;
            }
        }
        if (victim == null && active != null && active.records > 0) {
            sealActive();
            victim = sealed.peekLast();
        }
        if (victim == null || victim == claimed) {
            return -1;
        }
        long count = victim.records >= 0 ? victim.records : countRecords(victim);
        sealed.remove(victim);
        Files.deleteIfExists(victim.file);
        totalBytes -= victim.size;
        forceDirectory();
        return count;
    }

    private static long countRecords(Segment s) {
        try {
            SegmentContents c = SegmentScanner.scan(s.file);
            return c.records().size() + c.skippedRecords();
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Claims the oldest segment for replay, sealing the active one if it is the only one with records.
     * Only one segment may be claimed at a time.
     */
    public Optional<SpoolSegment> claimOldest() throws IOException {
        lock.lock();
        try {
            ensureOpen();
            if (claimed != null) {
                throw new IllegalStateException("segment " + claimed.file + " is already claimed");
            }
            if (sealed.isEmpty()) {
                sealActive();
            }
            Segment oldest = sealed.peekFirst();
            if (oldest == null) {
                return Optional.empty();
            }
            claimed = oldest;
            return Optional.of(new SpoolSegment(oldest.sequence, oldest.file));
        } finally {
            refreshSnapshots();
            lock.unlock();
        }
    }

    /** Reads a claimed segment's records (valid ones only) and what was skipped. */
    public SegmentContents read(SpoolSegment segment) throws IOException {
        return SegmentScanner.scan(segment.file());
    }

    /** Deletes a claimed segment: call only after its records are committed elsewhere. */
    public void delete(SpoolSegment segment) throws IOException {
        lock.lock();
        try {
            Segment s = requireClaimed(segment);
            sealed.remove(s);
            Files.deleteIfExists(s.file);
            totalBytes -= s.size;
            claimed = null;
            forceDirectory();
        } finally {
            refreshSnapshots();
            lock.unlock();
        }
    }

    /** Gives a claimed segment back untouched (replay failed; it stays first in line). */
    public void release(SpoolSegment segment) {
        lock.lock();
        try {
            requireClaimed(segment);
            claimed = null;
        } finally {
            lock.unlock();
        }
    }

    private Segment requireClaimed(SpoolSegment segment) {
        if (claimed == null || claimed.sequence != segment.sequence()) {
            throw new IllegalStateException("segment " + segment.file() + " is not the claimed one");
        }
        return claimed;
    }

    /** True when no segment holds records. */
    public boolean isEmpty() {
        return empty;
    }

    /** Bytes on disk over all segments. */
    public long bytes() {
        return bytesSnapshot;
    }

    /** Segment files on disk (sealed and active). */
    public int segmentCount() {
        return segmentsSnapshot;
    }

    public SpoolSettings settings() {
        return settings;
    }

    /** Forces and closes the active segment; what is spooled stays for the next run. */
    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (active != null && unforced) {
                activeChannel.force(false);
            }
            if (activeChannel != null) {
                activeChannel.close();
            }
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the audit spool is closed");
        }
    }

    private void refreshSnapshots() {
        empty = sealed.isEmpty() && (active == null || active.records == 0);
        bytesSnapshot = totalBytes;
        segmentsSnapshot = sealed.size() + (active == null ? 0 : 1);
    }

    private void forceDirectory() throws IOException {
        // Makes file creations and deletions durable (POSIX: fsync on the directory).
        try (FileChannel dir = FileChannel.open(settings.directory(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            if (!System.getProperty("os.name", "").toLowerCase().contains("win")) {
                throw e;
            }
        }
    }

    private static final class Segment {
        final long sequence;
        final Path file;
        long size;
        /** Known for segments written by this process; -1 for segments found on start. */
        long records;

        Segment(long sequence, Path file, long size, long records) {
            this.sequence = sequence;
            this.file = file;
            this.size = size;
            this.records = records;
        }
    }
}
