package io.meshguard.audit.spool;

import java.util.List;

/**
 * What a scan of one segment found.
 *
 * @param records        the payloads whose CRC matched, in file order
 * @param skippedRecords torn or corrupted regions skipped (each counts as one lost record)
 * @param skippedBytes   bytes in those regions
 */
public record SegmentContents(List<byte[]> records, int skippedRecords, long skippedBytes) {
    public SegmentContents {
        records = List.copyOf(records);
    }
}
