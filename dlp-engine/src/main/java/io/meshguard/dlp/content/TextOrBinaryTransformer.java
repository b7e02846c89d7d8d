package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.ValueHasher;
import java.util.Optional;

/**
 * A body (or multipart part) whose label says nothing about text: {@code application/octet-stream}, an unknown or
 * binary type. The label is the sender's choice, so it does not decide: as long as the bytes are text (well-formed
 * UTF-8 without the control bytes that mark binary data), they are scanned as text, and as JSON when the first byte
 * that is not white space opens a JSON object or array (frameworks such as FastAPI's {@code request.json()} parse a
 * body whatever its label). The first byte that is not text ends the scan: where the profile blocks non-text bodies
 * the body is refused ({@link ContentRefused} {@code non_text}); otherwise what was scanned so far is decided and the
 * rest goes on unscanned, reported to {@link Unscanned}.
 *
 * <p>"Binary data byte" is WHATWG MIME Sniffing §3: 0x00–0x08, 0x0B, 0x0E–0x1A, 0x1C–0x1F. UTF-8 well-formedness is
 * RFC 3629 §4 (no overlong forms, surrogates or code points past U+10FFFF). Both are checked across chunk boundaries,
 * so the outcome does not depend on how the body is split.
 */
public final class TextOrBinaryTransformer implements BodyTransformer {
    private static final boolean[] BINARY = new boolean[256];
    /** White space held before deciding JSON or text; past it, the body is text (nothing held back for long). */
    private static final int MAX_LEADING_SPACE = 4096;

    static {
        for (int c = 0; c <= 0x1F; c++) {
            BINARY[c] = !(c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x1B);
        }
    }

    private final ScanRules rules;
    private final ValueHasher hasher;
    private final ByteSink out;
    private final FindingListener listener;
    private final String location;
    private final boolean blockBinary;
    private final Unscanned unscanned;
    /** Leading white space seen before the kind (JSON or text) is known. */
    private final ByteSink leading = new ByteSink(64);

    private BodyTransformer inner;
    private boolean binary;
    /** UTF-8 continuation bytes still expected, and the range the next one must fall in. */
    private int need;

    private int lo = 0x80;
    private int hi = 0xBF;

    public TextOrBinaryTransformer(
            ScanRules rules,
            ValueHasher hasher,
            ByteSink out,
            FindingListener listener,
            String location,
            boolean blockBinary,
            Unscanned unscanned) {
        this.rules = rules;
        this.hasher = hasher;
        this.out = out;
        this.listener = listener;
        this.location = location;
        this.blockBinary = blockBinary;
        this.unscanned = unscanned;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (binary) {
            out.write(b, off, len);
            unscanned.passed("non_text", len);
            return;
        }
        int end = off + len;
        int firstBinary = firstNonText(b, off, end);
        int textEnd = firstBinary < 0 ? end : firstBinary;
        feed(b, off, textEnd - off);
        if (firstBinary >= 0) {
            if (blockBinary) {
                throw new ContentRefused("non_text");
            }
            binary = true;
            finishText();
            out.write(b, firstBinary, end - firstBinary);
            unscanned.passed("non_text", end - firstBinary);
        }
    }

    /** The position of the first byte that makes the body binary, or -1. */
    private int firstNonText(byte[] b, int off, int end) {
        for (int i = off; i < end; i++) {
            int c = b[i] & 0xff;
            if (need > 0) {
                if (c < lo || c > hi) {
                    return i;
                }
                need--;
                lo = 0x80;
                hi = 0xBF;
                continue;
            }
            if (c < 0x80) {
                if (BINARY[c]) {
                    return i;
                }
            } else if (c >= 0xC2 && c <= 0xDF) {
                need = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                need = 2;
                lo = c == 0xE0 ? 0xA0 : 0x80;
                hi = c == 0xED ? 0x9F : 0xBF;
            } else if (c >= 0xF0 && c <= 0xF4) {
                need = 3;
                lo = c == 0xF0 ? 0x90 : 0x80;
                hi = c == 0xF4 ? 0x8F : 0xBF;
            } else {
                return i;
            }
        }
        return -1;
    }

    private void feed(byte[] b, int off, int len) {
        if (len == 0) {
            return;
        }
        if (inner != null) {
            inner.write(b, off, len);
            return;
        }
        int i = off;
        int end = off + len;
        while (i < end && isSpace(b[i])) {
            i++;
        }
        // the decision depends on where the first other byte is in the body, never on the chunking
        boolean withinLead = leading.size() + (i - off) <= MAX_LEADING_SPACE;
        if (i == end && withinLead) {
            leading.write(b, off, len); // only white space so far: the kind is not known yet
            return;
        }
        inner = i < end && withinLead && (b[i] == '{' || b[i] == '[')
                ? new JsonTransformer(rules, hasher, out, listener)
                : new TextTransformer(rules, hasher, out, listener, location);
        if (leading.size() > 0) {
            byte[] ws = leading.drain();
            inner.write(ws, 0, ws.length);
        }
        inner.write(b, off, len);
    }

    private static boolean isSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    private void finishText() {
        if (inner == null) {
            inner = new TextTransformer(rules, hasher, out, listener, location);
            if (leading.size() > 0) {
                byte[] ws = leading.drain();
                inner.write(ws, 0, ws.length);
            }
        }
        inner.finish();
    }

    @Override
    public void finish() {
        if (!binary) {
            finishText();
        }
    }

    @Override
    public Optional<Finding> blockedBy() {
        return inner == null ? Optional.empty() : inner.blockedBy();
    }

    @Override
    public long heldBack() {
        return leading.size() + (inner == null || binary ? 0 : inner.heldBack());
    }
}
