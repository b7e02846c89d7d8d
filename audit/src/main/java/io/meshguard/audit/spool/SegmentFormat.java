package io.meshguard.audit.spool;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Layout of one spool segment file.
 *
 * <pre>
 * header : 8 bytes  "MGSPOOL1"
 * record : u32 marker 0x4D475231 ("MGR1") | u32 length | u32 CRC32C(length ‖ payload) | payload
 * </pre>
 *
 * The CRC covers the length too, so a torn length field cannot make the reader trust a wrong record size. The
 * marker lets the reader find the next record after a corrupted one.
 */
final class SegmentFormat {
    static final byte[] HEADER = "MGSPOOL1".getBytes(StandardCharsets.US_ASCII);
    static final int MARKER = 0x4D475231;
    static final int RECORD_OVERHEAD = 12;
    /** No event comes near this; a larger length field is corruption. */
    static final int MAX_PAYLOAD = 16 * 1024 * 1024;

    private SegmentFormat() {}

    static int crc(int length, byte[] payload, int offset) {
        CRC32C crc = new CRC32C();
        crc.update(length >>> 24);
        crc.update(length >>> 16);
        crc.update(length >>> 8);
        crc.update(length);
        crc.update(payload, offset, length);
        return (int) crc.getValue();
    }

    static void putRecord(ByteBuffer out, byte[] payload) {
        out.putInt(MARKER);
        out.putInt(payload.length);
        out.putInt(crc(payload.length, payload, 0));
        out.put(payload);
    }

    static long recordSize(byte[] payload) {
        return (long) RECORD_OVERHEAD + payload.length;
    }
}
