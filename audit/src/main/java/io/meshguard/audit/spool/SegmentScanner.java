package io.meshguard.audit.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reads a segment file back, trusting only records whose marker, length and CRC all check out. */
final class SegmentScanner {
    private SegmentScanner() {}

    static SegmentContents scan(Path file) throws IOException {
        byte[] data = Files.readAllBytes(file);
        return scan(data);
    }

    static SegmentContents scan(byte[] data) {
        List<byte[]> records = new ArrayList<>();
        if (data.length < SegmentFormat.HEADER.length) {
            // A crash while the header was being written: nothing was ever appended. Only a prefix of the header
            // is harmless; anything else is a file we did not write.
            boolean headerPrefix = Arrays.equals(data, 0, data.length, SegmentFormat.HEADER, 0, data.length);
            return new SegmentContents(records, headerPrefix ? 0 : 1, headerPrefix ? 0 : data.length);
        }
        if (!Arrays.equals(
                data, 0, SegmentFormat.HEADER.length, SegmentFormat.HEADER, 0, SegmentFormat.HEADER.length)) {
            return new SegmentContents(records, 1, data.length);
        }
        ByteBuffer buf = ByteBuffer.wrap(data);
        int pos = SegmentFormat.HEADER.length;
        int skipped = 0;
        long skippedBytes = 0;
        while (pos < data.length) {
            int length = validRecordAt(buf, data, pos);
            if (length >= 0) {
                records.add(Arrays.copyOfRange(
                        data, pos + SegmentFormat.RECORD_OVERHEAD, pos + SegmentFormat.RECORD_OVERHEAD + length));
                pos += SegmentFormat.RECORD_OVERHEAD + length;
                continue;
            }
            // Torn tail or corruption: resynchronise on the next record that validates completely.
            int next = nextValidRecord(buf, data, pos + 1);
            skipped++;
            skippedBytes += next - pos;
            pos = next;
        }
        return new SegmentContents(records, skipped, skippedBytes);
    }

    /** Payload length of a complete, valid record at {@code pos}, or -1. */
    private static int validRecordAt(ByteBuffer buf, byte[] data, int pos) {
        if (data.length - pos < SegmentFormat.RECORD_OVERHEAD) {
            return -1;
        }
        if (buf.getInt(pos) != SegmentFormat.MARKER) {
            return -1;
        }
        int length = buf.getInt(pos + 4);
        if (length < 0
                || length > SegmentFormat.MAX_PAYLOAD
                || (long) pos + SegmentFormat.RECORD_OVERHEAD + length > data.length) {
            return -1;
        }
        int crc = buf.getInt(pos + 8);
        if (SegmentFormat.crc(length, data, pos + SegmentFormat.RECORD_OVERHEAD) != crc) {
            return -1;
        }
        return length;
    }

    private static int nextValidRecord(ByteBuffer buf, byte[] data, int from) {
        for (int p = from; p <= data.length - SegmentFormat.RECORD_OVERHEAD; p++) {
            if (buf.getInt(p) == SegmentFormat.MARKER && validRecordAt(buf, data, p) >= 0) {
                return p;
            }
        }
        return data.length;
    }
}
