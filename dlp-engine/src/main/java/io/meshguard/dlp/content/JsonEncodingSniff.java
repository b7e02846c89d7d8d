package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.Finding;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Function;

/**
 * JSON without a declared charset whose bytes are UTF-16 or UTF-32 anyway. RFC 4627 §3 told receivers to detect the
 * encoding from the first four bytes (the NUL pattern of two ASCII characters, or a byte-order mark), and Jackson —
 * behind Spring and most Java APIs — still does ({@code ByteSourceJsonBootstrapper}): a card number in such a body is
 * digits with NUL bytes between them to a UTF-8 scanner, and plain digits to the upstream. So the same four bytes
 * decide here: such a body is decoded, scanned as JSON, and written back in its own encoding (byte-order mark kept,
 * so the upstream reads what it would have read). Anything else is scanned as it is.
 */
public final class JsonEncodingSniff implements BodyTransformer {
    private final Function<ByteSink, BodyTransformer> json;
    private final ByteSink out;
    private final byte[] head = new byte[4];
    private int headLen;
    private BodyTransformer inner;
    /** For UTF-16/32: the JSON transformer's UTF-8 output, re-encoded into {@link #out}. */
    private ByteSink utf8;

    private BodyTransformer back;

    /** The JSON transformer for a UTF-8 body, made at once (at the headers, like every other body's). */
    private final BodyTransformer direct;

    /** @param json makes the JSON transformer, writing to the sink it is given */
    public JsonEncodingSniff(Function<ByteSink, BodyTransformer> json, ByteSink out) {
        this.json = json;
        this.out = out;
        this.direct = json.apply(out);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (inner == null) {
            int take = Math.min(len, 4 - headLen);
            System.arraycopy(b, off, head, headLen, take);
            headLen += take;
            off += take;
            len -= take;
            if (headLen < 4) {
                return;
            }
            decide();
        }
        feed(b, off, len);
    }

    private void feed(byte[] b, int off, int len) {
        if (len > 0) {
            inner.write(b, off, len);
            flushBack();
        }
    }

    private void decide() {
        int bom = 0;
        Charset cs = null;
        int b0 = headLen > 0 ? head[0] & 0xff : -1;
        int b1 = headLen > 1 ? head[1] & 0xff : -1;
        int b2 = headLen > 2 ? head[2] & 0xff : -1;
        int b3 = headLen > 3 ? head[3] & 0xff : -1;
        if (b0 == 0 && b1 == 0 && b2 == 0xFE && b3 == 0xFF) {
            cs = Charset.forName("UTF-32BE");
            bom = 4;
        } else if (b0 == 0xFF && b1 == 0xFE && b2 == 0 && b3 == 0) {
            cs = Charset.forName("UTF-32LE");
            bom = 4;
        } else if (b0 == 0xFE && b1 == 0xFF) {
            cs = StandardCharsets.UTF_16BE;
            bom = 2;
        } else if (b0 == 0xFF && b1 == 0xFE) {
            cs = StandardCharsets.UTF_16LE;
            bom = 2;
        } else if (headLen == 4 && b0 == 0 && b1 == 0 && b2 == 0 && b3 != 0) {
            cs = Charset.forName("UTF-32BE");
        } else if (headLen == 4 && b0 != 0 && b1 == 0 && b2 == 0 && b3 == 0) {
            cs = Charset.forName("UTF-32LE");
        } else if (headLen == 4 && b0 == 0 && b1 != 0 && b2 == 0 && b3 != 0) {
            cs = StandardCharsets.UTF_16BE;
        } else if (headLen == 4 && b0 != 0 && b1 == 0 && b2 != 0 && b3 == 0) {
            cs = StandardCharsets.UTF_16LE;
        }
        if (cs == null) {
            inner = direct;
            inner.write(head, 0, headLen);
            return;
        }
        out.write(head, 0, bom); // the byte-order mark goes on as it came
        utf8 = new ByteSink();
        back = new TranscodingTransformer(StandardCharsets.UTF_8, cs, new SinkWriter(out));
        inner = new TranscodingTransformer(cs, json.apply(utf8));
        inner.write(head, bom, headLen - bom);
        flushBack();
    }

    private void flushBack() {
        if (utf8 != null && utf8.size() > 0) {
            byte[] b = utf8.drain();
            back.write(b, 0, b.length);
        }
    }

    @Override
    public void finish() {
        if (inner == null) {
            decide();
        }
        inner.finish();
        flushBack();
        if (back != null) {
            back.finish();
        }
    }

    @Override
    public Optional<Finding> blockedBy() {
        return inner == null ? Optional.empty() : inner.blockedBy();
    }

    @Override
    public long heldBack() {
        return (inner == null ? headLen : inner.heldBack()) + (back == null ? 0 : back.heldBack());
    }

    /** The end of the chain: bytes into the sink. */
    private record SinkWriter(ByteSink out) implements BodyTransformer.Forwarding {
        @Override
        public void write(byte[] b, int off, int len) {
            out.write(b, off, len);
        }
    }
}
