package io.meshguard.dlp.content;

/**
 * Walks the frame structure of a zstd body as it streams past (headers and block sizes only, nothing decoded),
 * drops skippable frames (RFC 8878 §3.1.2: metadata any decoder must skip; the pure-Java decoder would reject them),
 * and refuses a frame whose window is larger than 8 MiB. RFC 9659 limits the window of the {@code zstd} content coding
 * to 8 MiB so that receivers need bounded memory; a frame declaring more (up to 2 GiB, or a single-segment frame
 * declaring a huge content size) is either a broken encoder or an attempt to make us allocate it.
 */
final class ZstdFrameGuard implements PullDecoder.InputFilter {
    static final long MAX_WINDOW = 8L * 1024 * 1024;
    private static final int MAGIC = 0xFD2FB528;

    private enum Part {
        MAGIC,
        DESCRIPTOR,
        HEADER_REST,
        BLOCK_HEADER,
        SKIP,
        SKIPPABLE_SIZE
    }

    private Part part = Part.MAGIC;
    private long acc;
    private int need = 4;
    private int got;
    // current frame
    private int descriptor;
    private boolean lastBlock;
    private Part afterSkip;
    private boolean inSkippable;
    private final java.io.ByteArrayOutputStream kept = new java.io.ByteArrayOutputStream();

    /** Checks {@code b[off..off+len)}, the next bytes of the body; returns them without skippable frames. */
    @Override
    public byte[] apply(byte[] b, int off, int len) throws ContentDecoder.CorruptBodyException {
        kept.reset();
        int i = off;
        int end = off + len;
        while (i < end) {
            if (part == Part.SKIP) {
                int n = (int) Math.min(acc, end - i);
                if (!inSkippable) {
                    kept.write(b, i, n);
                }
                i += n;
                acc -= n;
                if (acc == 0) {
                    startPart(afterSkip);
                }
                continue;
            }
            if (part == Part.HEADER_REST) {
                // Window descriptor (when not single-segment), dictionary id, frame content size: kept whole.
                kept.write(b[i]);
                header[got++] = b[i++];
                if (got == need) {
                    frameHeader();
                }
                continue;
            }
            if (part == Part.DESCRIPTOR || part == Part.BLOCK_HEADER) {
                kept.write(b[i]);
            }
            acc |= (long) (b[i++] & 0xff) << (8 * got);
            if (++got < need) {
                continue;
            }
            switch (part) {
                case MAGIC -> {
                    int magic = (int) acc;
                    if (magic == MAGIC) {
                        kept.write(new byte[] {0x28, (byte) 0xB5, 0x2F, (byte) 0xFD}, 0, 4);
                        inSkippable = false;
                        startPart(Part.DESCRIPTOR);
                    } else if ((magic & 0xFFFFFFF0) == 0x184D2A50) {
                        inSkippable = true;
                        startPart(Part.SKIPPABLE_SIZE);
                    } else {
                        throw new ContentDecoder.CorruptBodyException("not a zstd frame");
                    }
                }
                case SKIPPABLE_SIZE -> {
                    skip(acc & 0xFFFFFFFFL, Part.MAGIC);
                }
                case DESCRIPTOR -> {
                    descriptor = (int) acc;
                    if ((descriptor & 0x08) != 0) {
                        throw new ContentDecoder.CorruptBodyException("zstd frame header: reserved bit set");
                    }
                    boolean single = (descriptor & 0x20) != 0;
                    int fcsFlag = descriptor >>> 6;
                    int fcsBytes = fcsFlag == 0 ? (single ? 1 : 0) : 1 << fcsFlag;
                    int dictBytes = new int[] {0, 1, 2, 4}[descriptor & 3];
                    int rest = (single ? 0 : 1) + dictBytes + fcsBytes;
                    if (rest == 0) {
                        frameHeader();
                    } else {
                        part = Part.HEADER_REST;
                        need = rest;
                        got = 0;
                    }
                }
                case BLOCK_HEADER -> {
                    lastBlock = (acc & 1) != 0;
                    int type = (int) (acc >>> 1) & 3;
                    long size = acc >>> 3;
                    if (type == 3) {
                        throw new ContentDecoder.CorruptBodyException("zstd block of reserved type");
                    }
                    long content = type == 1 ? 1 : size;
                    if (!lastBlock) {
                        skip(content, Part.BLOCK_HEADER);
                    } else {
                        // the last block's content, then the optional 4-byte checksum, then the next frame
                        skip(content + ((descriptor & 0x04) != 0 ? 4 : 0), Part.MAGIC);
                    }
                }
                default -> throw new IllegalStateException(part.name());
            }
        }
        return kept.toByteArray();
    }

    private final byte[] header = new byte[1 + 4 + 8];

    private void frameHeader() throws ContentDecoder.CorruptBodyException {
        boolean single = (descriptor & 0x20) != 0;
        int at = 0;
        long window;
        if (!single) {
            int windowDescriptor = header[at++] & 0xff;
            int exponent = windowDescriptor >>> 3;
            int mantissa = windowDescriptor & 7;
            long base = 1L << (10 + exponent);
            window = base + (base / 8) * mantissa;
        } else {
            window = -1;
        }
        int dictBytes = new int[] {0, 1, 2, 4}[descriptor & 3];
        at += dictBytes;
        int fcsFlag = descriptor >>> 6;
        int fcsBytes = fcsFlag == 0 ? (single ? 1 : 0) : 1 << fcsFlag;
        if (single) {
            long fcs = 0;
            for (int k = 0; k < fcsBytes; k++) {
                fcs |= (long) (header[at + k] & 0xff) << (8 * k);
            }
            if (fcsBytes == 2) {
                fcs += 256;
            }
            window = fcs < 0 ? Long.MAX_VALUE : fcs;
        }
        if (window > MAX_WINDOW) {
            throw new ContentDecoder.CorruptBodyException("zstd frame window of " + window
                    + " bytes exceeds the 8 MiB the zstd content coding allows (RFC 9659)");
        }
        startPart(Part.BLOCK_HEADER);
    }

    private void skip(long bytes, Part then) {
        if (bytes == 0) {
            startPart(then);
            return;
        }
        part = Part.SKIP;
        acc = bytes;
        afterSkip = then;
    }

    private void startPart(Part p) {
        part = p;
        acc = 0;
        got = 0;
        need = switch (p) {
            case MAGIC, SKIPPABLE_SIZE -> 4;
            case DESCRIPTOR -> 1;
            case BLOCK_HEADER -> 3;
            default -> 0;
        };
    }
}
