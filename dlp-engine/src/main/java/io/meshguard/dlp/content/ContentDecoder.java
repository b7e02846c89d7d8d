package io.meshguard.dlp.content;

import java.util.Locale;
import java.util.Optional;

/**
 * Push-style decoding of one compressed body ({@code content-encoding}): fed the body's bytes as Envoy delivers them,
 * hands decoded bytes to a sink as they become available, never re-decompressing from the start. {@code gzip},
 * {@code x-gzip} and {@code deflate} run on java.util.zip; {@code br} (org.brotli:dec) and {@code zstd}
 * (aircompressor) on pure-Java decoders, so nothing depends on a native library loading. Decoded output is handed
 * over in pieces of at most 64 KiB, so a small body that decodes to gigabytes (a decompression bomb) is counted by
 * the sink piece by piece and stopped at the size limit instead of filling memory.
 */
public interface ContentDecoder extends AutoCloseable {
    /** Largest piece of decoded output handed to the sink at once. */
    int PIECE = 64 * 1024;

    /** A body that cannot be decoded; scanning it is impossible, so the caller fails closed. */
    final class CorruptBodyException extends Exception {
        public CorruptBodyException(String message) {
            super(message);
        }
    }

    /** A coding meshguard does not decode ({@code compress}, unknown names, or several stacked codings). */
    final class UnsupportedEncoding extends Exception {
        public UnsupportedEncoding(String coding) {
            super(coding);
        }
    }

    /** A decoder for a content-encoding value; empty for identity; throws for codings meshguard cannot decode. */
    static Optional<ContentDecoder> forEncoding(String contentEncoding) throws UnsupportedEncoding {
        // A list (RFC 9110 §8.4, also what repeated header lines join to): identity entries mean nothing, one real
        // coding is decoded, several stacked codings are not.
        String e = "";
        for (String coding : (contentEncoding == null ? "" : contentEncoding).split(",")) {
            String c = coding.trim().toLowerCase(Locale.ROOT);
            if (c.isEmpty() || c.equals("identity")) {
                continue;
            }
            if (!e.isEmpty()) {
                throw new UnsupportedEncoding(e + ", " + c);
            }
            e = c;
        }
        return switch (e) {
            case "", "identity" -> Optional.empty();
            case "gzip", "x-gzip" -> Optional.of(new ZipDecoder(ZipDecoder.Format.GZIP));
            case "deflate" -> Optional.of(new ZipDecoder(ZipDecoder.Format.ZLIB_OR_RAW));
            case "br" ->
                Optional.of(new PullDecoder(
                        "br",
                        org.brotli.dec.BrotliInputStream::new,
                        PullDecoder.InputFilter.NONE)); // the brotli format caps its window at 16 MiB
            case "zstd" ->
                Optional.of(
                        new PullDecoder("zstd", io.airlift.compress.zstd.ZstdInputStream::new, new ZstdFrameGuard()));
            default -> throw new UnsupportedEncoding(e);
        };
    }

    /** Bodies being decoded right now on a decoder thread (br, zstd); lets tests prove none is left behind. */
    static int activeDecoderThreads() {
        return PullDecoder.live();
    }

    /** True for codings whose sender may demand a window of megabytes (br, zstd); gzip and deflate use 32 KiB. */
    default boolean largeWindow() {
        return false;
    }

    /** Decodes {@code b[off..off+len)} and hands the decoded bytes to {@code sink}. */
    void decode(byte[] b, int off, int len, BodyTransformer sink) throws CorruptBodyException;

    /** The body ended: hands over what is left and checks the compressed stream ended too. */
    void finish(BodyTransformer sink) throws CorruptBodyException;

    /** Releases what the decoder holds (also when the body is abandoned midway: cancel, block). Idempotent. */
    @Override
    void close();
}
