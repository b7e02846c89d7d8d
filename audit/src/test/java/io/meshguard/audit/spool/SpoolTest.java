package io.meshguard.audit.spool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {
    @TempDir
    Path dir;

    private static List<byte[]> records(int from, int count) {
        return IntStream.range(from, from + count)
                .mapToObj(i -> ("record-" + i + "-" + "x".repeat(i % 50)).getBytes(StandardCharsets.UTF_8))
                .toList();
    }

    private static List<String> strings(List<byte[]> payloads) {
        return payloads.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    }

    private List<String> drainAll(Spool spool) throws IOException {
        List<String> out = new ArrayList<>();
        while (true) {
            var seg = spool.claimOldest();
            if (seg.isEmpty()) {
                return out;
            }
            out.addAll(strings(spool.read(seg.get()).records()));
            spool.delete(seg.get());
        }
    }

    @Test
    void append_thenClaimAndRead_returnsRecordsInOrderAcrossSegments() throws IOException {
        try (Spool spool = Spool.open(SpoolSettings.defaults(dir).withSegmentBytes(2048))) {
            spool.append(records(0, 100));
            spool.append(records(100, 100));
            assertThat(spool.isEmpty()).isFalse();
            assertThat(spool.segmentCount()).isGreaterThan(3);

            assertThat(drainAll(spool)).isEqualTo(strings(records(0, 200)));
            assertThat(spool.isEmpty()).isTrue();
            assertThat(spool.bytes()).isZero();
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void reopen_afterProcessStop_replaysExistingSegmentsAndAppendsToNewOnes() throws IOException {
        try (Spool spool = Spool.open(SpoolSettings.defaults(dir).withSegmentBytes(4096))) {
            spool.append(records(0, 50));
        }
        try (Spool spool = Spool.open(SpoolSettings.defaults(dir).withSegmentBytes(4096))) {
            assertThat(spool.isEmpty()).isFalse();
            spool.append(records(50, 50));
            assertThat(drainAll(spool)).isEqualTo(strings(records(0, 100)));
        }
    }

    @Test
    void release_keepsSegmentFirstInLine() throws IOException {
        try (Spool spool = Spool.open(SpoolSettings.defaults(dir))) {
            spool.append(records(0, 3));
            SpoolSegment first = spool.claimOldest().orElseThrow();
            assertThatThrownBy(spool::claimOldest).isInstanceOf(IllegalStateException.class);
            spool.release(first);
            spool.append(records(3, 3));
            SpoolSegment again = spool.claimOldest().orElseThrow();
            assertThat(again).isEqualTo(first);
            assertThat(strings(spool.read(again).records())).isEqualTo(strings(records(0, 3)));
        }
    }

    @Test
    void tornTail_isSkippedAndCounted_earlierRecordsSurvive() throws IOException {
        Path segment;
        try (Spool spool = Spool.open(SpoolSettings.defaults(dir))) {
            spool.append(records(0, 10));
            segment = spool.claimOldest().orElseThrow().file();
        }
        long size = Files.size(segment);
        // A crash in the middle of the last record's write: its tail never reached the disk.
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.setLength(size - 5);
        }
        try (Spool spool = Spool.open(SpoolSettings.defaults(dir))) {
            SegmentContents contents = spool.read(spool.claimOldest().orElseThrow());
            assertThat(strings(contents.records())).isEqualTo(strings(records(0, 9)));
            assertThat(contents.skippedRecords()).isEqualTo(1);
            assertThat(contents.skippedBytes()).isPositive();
        }
    }

    @Test
    void corruptedRecordInTheMiddle_isSkippedAndCounted_followingRecordsSurvive() throws IOException {
        Path segment;
        try (Spool spool = Spool.open(SpoolSettings.defaults(dir))) {
            spool.append(records(0, 10));
            segment = spool.claimOldest().orElseThrow().file();
        }
        byte[] data = Files.readAllBytes(segment);
        // Flip a byte inside the payload of record 4: its CRC no longer matches.
        int pos = SegmentFormat.HEADER.length;
        for (int i = 0; i < 4; i++) {
            pos += SegmentFormat.RECORD_OVERHEAD + records(i, 1).get(0).length;
        }
        data[pos + SegmentFormat.RECORD_OVERHEAD + 2] ^= 0x40;
        Files.write(segment, data);

        SegmentContents contents = SegmentScanner.scan(segment);
        List<String> expected = new ArrayList<>(strings(records(0, 10)));
        expected.remove(4);
        assertThat(strings(contents.records())).isEqualTo(expected);
        assertThat(contents.skippedRecords()).isEqualTo(1);
    }

    @Test
    void garbageAfterLastRecord_isSkippedAsOneRegion() throws IOException {
        Path segment;
        try (Spool spool = Spool.open(SpoolSettings.defaults(dir))) {
            spool.append(records(0, 3));
            segment = spool.claimOldest().orElseThrow().file();
        }
        Files.write(segment, new byte[4096], java.nio.file.StandardOpenOption.APPEND);
        SegmentContents contents = SegmentScanner.scan(segment);
        assertThat(contents.records()).hasSize(3);
        assertThat(contents.skippedRecords()).isEqualTo(1);
        assertThat(contents.skippedBytes()).isEqualTo(4096);
    }

    @Test
    void segmentWithOnlyAHeaderPrefix_isRemovedOnOpen_withoutCountingLoss() throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("00000000000000000007.seg"), new byte[] {'M', 'G', 'S'});
        try (Spool spool = Spool.open(SpoolSettings.defaults(dir))) {
            assertThat(spool.isEmpty()).isTrue();
            spool.append(records(0, 1));
            assertThat(spool.claimOldest().orElseThrow().sequence()).isEqualTo(8);
        }
        assertThat(dir.resolve("00000000000000000007.seg")).doesNotExist();
    }

    @Test
    void fileWithForeignHeader_isCountedAsSkipped() throws IOException {
        Files.write(dir.resolve("00000000000000000001.seg"), "definitely not a spool".getBytes(StandardCharsets.UTF_8));
        try (Spool spool = Spool.open(SpoolSettings.defaults(dir))) {
            SegmentContents contents = spool.read(spool.claimOldest().orElseThrow());
            assertThat(contents.records()).isEmpty();
            assertThat(contents.skippedRecords()).isEqualTo(1);
        }
    }

    @Test
    void atCap_rejectPolicy_keepsOldRecordsAndRejectsNewOnes() throws IOException {
        SpoolSettings settings = SpoolSettings.defaults(dir)
                .withSegmentBytes(1024)
                .withMaxBytes(4096)
                .withWhenFull(SpoolFullPolicy.REJECT);
        try (Spool spool = Spool.open(settings)) {
            int stored = 0;
            int rejected = 0;
            for (int i = 0; i < 20; i++) {
                AppendResult r = spool.append(records(i * 10, 10));
                stored += r.appended();
                rejected += r.rejected();
                assertThat(r.droppedOldest()).isZero();
            }
            assertThat(stored + rejected).isEqualTo(200);
            assertThat(rejected).isPositive();
            assertThat(spool.bytes()).isLessThanOrEqualTo(4096);
            assertThat(drainAll(spool)).isEqualTo(strings(records(0, stored)));
        }
    }

    @Test
    void atCap_dropOldestPolicy_keepsNewestRecordsAndCountsDropped() throws IOException {
        SpoolSettings settings = SpoolSettings.defaults(dir)
                .withSegmentBytes(1024)
                .withMaxBytes(4096)
                .withWhenFull(SpoolFullPolicy.DROP_OLDEST);
        try (Spool spool = Spool.open(settings)) {
            long dropped = 0;
            for (int i = 0; i < 20; i++) {
                AppendResult r = spool.append(records(i * 10, 10));
                assertThat(r.rejected()).isZero();
                dropped += r.droppedOldest();
            }
            assertThat(spool.bytes()).isLessThanOrEqualTo(4096);
            List<String> kept = drainAll(spool);
            assertThat(dropped).isPositive();
            assertThat(kept.size() + dropped).isEqualTo(200);
            // What survives is the newest, contiguous tail.
            assertThat(kept).isEqualTo(strings(records(200 - kept.size(), kept.size())));
        }
    }

    @Test
    void dropOldest_batchLargerThanTheCap_keepsItsNewestRecords() throws IOException {
        SpoolSettings settings = SpoolSettings.defaults(dir)
                .withSegmentBytes(1024)
                .withMaxBytes(2048)
                .withWhenFull(SpoolFullPolicy.DROP_OLDEST);
        try (Spool spool = Spool.open(settings)) {
            AppendResult r = spool.append(records(0, 100));
            assertThat(r.rejected()).isZero();
            assertThat(r.appended() + r.droppedOldest()).isEqualTo(100);
            assertThat(drainAll(spool)).isEqualTo(strings(records(100 - r.appended(), r.appended())));
        }
    }

    @Test
    void dropOldest_neverDeletesTheSegmentBeingReplayed() throws IOException {
        SpoolSettings settings = SpoolSettings.defaults(dir)
                .withSegmentBytes(1024)
                .withMaxBytes(4096)
                .withWhenFull(SpoolFullPolicy.DROP_OLDEST);
        try (Spool spool = Spool.open(settings)) {
            spool.append(records(0, 10));
            SpoolSegment inReplay = spool.claimOldest().orElseThrow();
            for (int i = 1; i < 20; i++) {
                spool.append(records(i * 10, 10));
            }
            assertThat(inReplay.file()).exists();
            assertThat(strings(spool.read(inReplay).records())).isEqualTo(strings(records(0, 10)));
            spool.delete(inReplay);
        }
    }

    @Test
    void fsyncPolicies_parseFromConfigText_andRejectUnknown() {
        assertThat(FsyncPolicy.parse("every_batch")).isEqualTo(FsyncPolicy.EVERY_BATCH);
        assertThat(FsyncPolicy.parse("interval")).isEqualTo(FsyncPolicy.INTERVAL);
        assertThat(SpoolFullPolicy.parse("drop-oldest")).isEqualTo(SpoolFullPolicy.DROP_OLDEST);
        assertThatThrownBy(() -> FsyncPolicy.parse("sometimes")).hasMessageContaining("every_batch, interval, none");
        assertThatThrownBy(() -> SpoolFullPolicy.parse("panic")).hasMessageContaining("drop_oldest or reject");
    }

    @Test
    void settings_capSmallerThanASegment_isRejectedWithClearMessage() {
        assertThatThrownBy(() -> SpoolSettings.defaults(dir).withMaxBytes(10))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one segment");
    }
}
