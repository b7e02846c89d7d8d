package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.Finding;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A body declared in a charset other than UTF-8 ({@code charset=utf-16}, {@code utf-32}, {@code iso-8859-1} …) is
 * decoded from that charset and handed on as UTF-8: the scanners read UTF-8, and a UTF-16 card number is digits
 * with NUL bytes between them that no detector sees. The body goes on as UTF-8 too (the server rewrites the
 * {@code charset} parameter to match), as RFC 8259 §8.1 wants JSON anyway. A sequence split across chunks is kept
 * until it is whole. Malformed input is refused ({@link ContentRefused} {@code corrupt_charset}): what cannot be
 * decoded cannot be scanned, and an upstream's lenient decoder might read characters into it.
 */
public final class TranscodingTransformer implements BodyTransformer {
    private final CharsetDecoder decoder;
    private final Charset target;
    private final BodyTransformer next;
    private ByteBuffer carry = ByteBuffer.allocate(0);
    private final CharBuffer chars = CharBuffer.allocate(8192);

    public TranscodingTransformer(Charset charset, BodyTransformer next) {
        this(charset, StandardCharsets.UTF_8, next);
    }

    /** From {@code charset} to {@code target} (a charset that writes no byte-order mark: UTF-16LE, not UTF-16). */
    public TranscodingTransformer(Charset charset, Charset target, BodyTransformer next) {
        this.decoder = charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        this.target = target;
        this.next = next;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        ByteBuffer in;
        if (carry.hasRemaining()) {
            in = ByteBuffer.allocate(carry.remaining() + len);
            in.put(carry).put(b, off, len).flip();
        } else {
            in = ByteBuffer.wrap(b, off, len);
        }
        decode(in, false);
        // the unread rest is an incomplete sequence (a few bytes): kept for the next chunk
        carry = ByteBuffer.allocate(in.remaining()).put(in).flip();
    }

    private void decode(ByteBuffer in, boolean end) {
        while (true) {
            CoderResult r = decoder.decode(in, chars, end);
            if (r.isError()) {
                throw new ContentRefused("corrupt_charset");
            }
            drainChars();
            if (r.isUnderflow()) {
                return;
            }
        }
    }

    private void drainChars() {
        chars.flip();
        if (chars.hasRemaining()) {
            // a surrogate pair split by the buffer end stays for the next round
            int n = chars.remaining();
            if (Character.isHighSurrogate(chars.get(chars.limit() - 1))) {
                n--;
            }
            byte[] utf8 = chars.subSequence(0, n).toString().getBytes(target);
            chars.position(chars.position() + n);
            next.write(utf8, 0, utf8.length);
        }
        chars.compact();
    }

    @Override
    public void finish() {
        decode(carry, true);
        carry = ByteBuffer.allocate(0);
        CoderResult r = decoder.flush(chars);
        if (r.isError()) {
            throw new ContentRefused("corrupt_charset");
        }
        chars.flip();
        if (chars.hasRemaining()) {
            if (Character.isHighSurrogate(chars.get(chars.limit() - 1))) {
                throw new ContentRefused("corrupt_charset");
            }
            byte[] utf8 = chars.toString().getBytes(target);
            next.write(utf8, 0, utf8.length);
        }
        chars.clear();
        next.finish();
    }

    @Override
    public Optional<Finding> blockedBy() {
        return next.blockedBy();
    }

    @Override
    public long heldBack() {
        return carry.remaining() + chars.position() + next.heldBack();
    }
}
