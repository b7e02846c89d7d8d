package io.meshguard.dlp.content;

import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Push-style, constant-memory decoding of {@code gzip} and {@code deflate} bodies (java.util.zip, one pass, no
 * re-decompression from the start per chunk).
 */
final class ZipDecoder implements ContentDecoder {
    enum Format {
        GZIP,
        ZLIB_OR_RAW
    }

    private final Format format;
    private Inflater inflater;
    private final byte[] out = new byte[64 * 1024];
    private final CRC32 crc = new CRC32();
    // gzip member header/trailer parsing
    private final byte[] header = new byte[10];
    private int headerLen;
    private int state; // 0 header, 1 extra-len, 2 extra, 3 name, 4 comment, 5 hcrc, 6 body, 7 trailer
    private int flags;
    private int skip;
    private final byte[] trailer = new byte[8];
    private int trailerLen;
    private boolean sawAny;

    ZipDecoder(Format format) {
        this.format = format;
    }

    @Override
    public void decode(byte[] b, int off, int len, BodyTransformer sink) throws CorruptBodyException {
        int i = off;
        int end = off + len;
        try {
            while (i < end) {
                if (format == Format.ZLIB_OR_RAW) {
                    if (inflater == null) {
                        if (!sawAny) {
                            sawAny = true;
                            int cmf = b[i] & 0xff;
                            boolean zlib =
                                    (cmf & 0x0f) == 8 && i + 1 < end && ((cmf << 8) | (b[i + 1] & 0xff)) % 31 == 0;
                            inflater = new Inflater(!zlib);
                        }
                    }
                    i = inflate(b, i, end, sink);
                    if (inflater.finished() && i < end) {
                        throw new CorruptBodyException("data after the end of the deflate stream");
                    }
                    continue;
                }
                switch (state) {
                    case 0 -> {
                        header[headerLen++] = b[i++];
                        if (headerLen == 10) {
                            if ((header[0] & 0xff) != 0x1f || (header[1] & 0xff) != 0x8b || header[2] != 8) {
                                throw new CorruptBodyException("not a gzip member");
                            }
                            flags = header[3] & 0xff;
                            state = (flags & 4) != 0
                                    ? 1
                                    : (flags & 8) != 0 ? 3 : (flags & 16) != 0 ? 4 : (flags & 2) != 0 ? 5 : 6;
                            skip = 0;
                            headerLen = 0;
                        }
                    }
                    case 1 -> {
                        skip |= (b[i++] & 0xff) << (8 * headerLen++);
                        if (headerLen == 2) {
                            headerLen = 0;
                            state = 2;
                        }
                    }
                    case 2 -> {
                        int n = Math.min(skip, end - i);
                        i += n;
                        skip -= n;
                        if (skip == 0) {
                            state = (flags & 8) != 0 ? 3 : (flags & 16) != 0 ? 4 : (flags & 2) != 0 ? 5 : 6;
                        }
                    }
                    case 3, 4 -> {
                        if (b[i++] == 0) {
                            state = state == 3 && (flags & 16) != 0 ? 4 : (flags & 2) != 0 ? 5 : 6;
                        }
                    }
                    case 5 -> {
                        i++;
                        if (++skip == 2) {
                            state = 6;
                        }
                    }
                    case 6 -> {
                        if (inflater == null) {
                            inflater = new Inflater(true);
                            crc.reset();
                        }
                        i = inflate(b, i, end, sink);
                        if (inflater.finished()) {
                            inflater.end();
                            inflater = null;
                            state = 7;
                            trailerLen = 0;
                        }
                    }
                    default -> {
                        trailer[trailerLen++] = b[i++];
                        if (trailerLen == 8) {
                            long want = (trailer[0] & 0xffL)
                                    | (trailer[1] & 0xffL) << 8
                                    | (trailer[2] & 0xffL) << 16
                                    | (trailer[3] & 0xffL) << 24;
                            if (want != crc.getValue()) {
                                throw new CorruptBodyException("gzip CRC mismatch");
                            }
                            state = 0; // another member may follow
                        }
                    }
                }
            }
        } catch (DataFormatException e) {
            throw new CorruptBodyException("corrupt compressed data: " + e.getMessage());
        }
    }

    private int inflate(byte[] b, int i, int end, BodyTransformer sink) throws DataFormatException {
        inflater.setInput(b, i, end - i);
        while (!inflater.finished()) {
            int n = inflater.inflate(out);
            if (n > 0) {
                crc.update(out, 0, n);
                sink.write(out, 0, n);
            } else if (inflater.needsInput() || inflater.needsDictionary()) {
                break;
            }
        }
        return end - inflater.getRemaining();
    }

    @Override
    public void finish(BodyTransformer sink) throws CorruptBodyException {
        boolean complete =
                format == Format.GZIP ? state == 0 && headerLen == 0 : inflater == null || inflater.finished();
        if (inflater != null) {
            inflater.end();
        }
        if (!complete) {
            throw new CorruptBodyException("compressed body ends early");
        }
    }

    @Override
    public void close() {
        if (inflater != null) {
            inflater.end();
            inflater = null;
        }
    }
}
