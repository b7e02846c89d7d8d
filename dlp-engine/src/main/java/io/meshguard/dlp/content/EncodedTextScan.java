package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ScanOutput;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.StreamScanner;
import io.meshguard.dlp.scan.ValueHasher;
import java.util.Arrays;

/**
 * Scans text that travels encoded (a JSON string with escapes, a percent-encoded form field) while keeping the
 * original encoding of everything that is not replaced. The scanner sees decoded bytes; each decoded byte remembers
 * where its source starts in the raw bytes ({@code rawAt[d]} = raw start for the first byte a source piece decodes
 * to, raw end for the others), so a decoded range maps to a raw range exactly and untouched text is copied verbatim.
 * Replacements are encoded with the {@link Encoder} of the format.
 */
final class EncodedTextScan {
    /** Encodes replacement bytes for the surrounding format. */
    interface Encoder {
        void encode(byte[] replacement, ByteSink out);
    }

    private final StreamScanner scanner;
    private final ByteSink out;
    private final Encoder encoder;
    private final FindingListener listener;

    private byte[] raw = new byte[256];
    private int rawLen;
    private long rawBase; // raw offset of raw[0]
    private int[] rawAt = new int[256]; // relative to rawBase, for decoded bytes from decodedBase on
    private int mapped; // number of entries in rawAt
    private long decodedBase;
    private long decodedEmitted;
    private byte[] one = new byte[8];
    private java.util.function.Supplier<String> location = () -> "";
    private Finding blocked;

    EncodedTextScan(ScanRules rules, ValueHasher hasher, ByteSink out, Encoder encoder, FindingListener listener) {
        this.out = out;
        this.encoder = encoder;
        this.listener = listener;
        this.scanner = new StreamScanner(rules, hasher, new ScanOutput() {
            @Override
            public void pass(byte[] b, int off, int len) {
                emitRaw(decodedEmitted, decodedEmitted + len);
                decodedEmitted += len;
            }

            @Override
            public void replace(Finding f, byte[] replacement) {
                listener.onFinding(f, location.get());
                decodedEmitted = f.end();
                encoder.encode(replacement, out);
            }

            @Override
            public void block(Finding f) {
                listener.onFinding(f, location.get());
                blocked = f;
            }

            @Override
            public void alert(Finding f) {
                listener.onFinding(f, location.get());
            }
        });
    }

    /** Starts a new text (a new JSON string or form field). */
    void start(java.util.function.Supplier<String> location) {
        start(location, "");
    }

    /** Starts a new text that is the value of {@code key} (context for its findings; empty for none). */
    void start(java.util.function.Supplier<String> location, String key) {
        this.location = location;
        scanner.reset();
        scanner.context(key);
        rawLen = 0;
        rawBase = 0;
        mapped = 0;
        decodedBase = 0;
        decodedEmitted = 0;
    }

    /** Raw bytes that decode to themselves. */
    void literal(byte[] b, int off, int len) {
        appendRaw(b, off, len);
        ensureMap(len);
        int r = rawLen - len;
        for (int k = 0; k < len; k++) {
            rawAt[mapped++] = r + k;
        }
        scanner.feed(b, off, len);
        compact();
    }

    /** One raw piece (an escape) that decodes to {@code decoded[0..dLen)}. */
    void escaped(byte[] rawPiece, int rawOff, int rawPieceLen, byte[] decoded, int dLen) {
        int r0 = rawLen;
        appendRaw(rawPiece, rawOff, rawPieceLen);
        ensureMap(dLen);
        rawAt[mapped++] = r0;
        for (int k = 1; k < dLen; k++) {
            rawAt[mapped++] = rawLen;
        }
        if (one.length < dLen) {
            one = new byte[dLen];
        }
        System.arraycopy(decoded, 0, one, 0, dLen);
        scanner.feed(one, 0, dLen);
        compact();
    }

    /** The text ended: flushes everything. */
    void finish() {
        scanner.finish();
        rawLen = 0;
        mapped = 0;
    }

    java.util.Optional<Finding> blockedBy() {
        return java.util.Optional.ofNullable(blocked);
    }

    long heldBack() {
        return rawLen;
    }

    private int rawIndexOf(long decoded) {
        int d = (int) (decoded - decodedBase);
        return d < mapped ? rawAt[d] : rawLen;
    }

    private void emitRaw(long from, long to) {
        int r0 = rawIndexOf(from);
        int r1 = rawIndexOf(to);
        if (r1 > r0) {
            out.write(raw, r0, r1 - r0);
        }
    }

    /** Drops raw bytes and map entries that are emitted. */
    private void compact() {
        int d = (int) (decodedEmitted - decodedBase);
        if (d < 4096 || d < mapped / 2) {
            return;
        }
        int r = d < mapped ? rawAt[d] : rawLen;
        System.arraycopy(raw, r, raw, 0, rawLen - r);
        rawLen -= r;
        rawBase += r;
        for (int k = d; k < mapped; k++) {
            rawAt[k - d] = rawAt[k] - r;
        }
        mapped -= d;
        decodedBase += d;
    }

    private void appendRaw(byte[] b, int off, int len) {
        if (rawLen + len > raw.length) {
            raw = Arrays.copyOf(raw, Math.max(rawLen + len, raw.length * 2));
        }
        System.arraycopy(b, off, raw, rawLen, len);
        rawLen += len;
    }

    private void ensureMap(int more) {
        if (mapped + more > rawAt.length) {
            rawAt = Arrays.copyOf(rawAt, Math.max(mapped + more, rawAt.length * 2));
        }
    }
}
