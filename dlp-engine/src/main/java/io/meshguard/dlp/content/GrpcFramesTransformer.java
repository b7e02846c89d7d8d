package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.Finding;
import java.util.Optional;

/**
 * gRPC and gRPC-Web bodies: a sequence of length-prefixed messages (1 flag byte, 4-byte big-endian length, the
 * message; grpc/grpc {@code doc/PROTOCOL-HTTP2.md} "Length-Prefixed-Message", {@code doc/PROTOCOL-WEB.md} for the
 * trailers frame, flag 0x80). Each message is collected whole and scanned as text: protobuf strings are plain UTF-8
 * bytes inside the message, so a card number in a string field is a run of ASCII digits. A finding whose action keeps
 * the length (masking digit by digit) is rewritten in place; one that would change the length (redact, hash) cannot
 * be, because protobuf length-prefixes every string: the body is refused ({@code grpc_rewrite}) rather than sent on
 * unscanned or corrupt. A compressed message (flag bit 0) in gzip or zlib ("deflate" in gRPC's
 * {@code doc/compression.md}), told apart by its magic bytes rather than by the {@code grpc-encoding} label, is
 * decompressed — at most {@link #MAX_MESSAGE} bytes, grpc-java's default receive limit
 * ({@code io.grpc.internal.GrpcUtil.DEFAULT_MAX_MESSAGE_SIZE}) — and scanned; it goes on as it came when nothing in it
 * needs rewriting, and is refused when something does ({@code grpc_rewrite}: it is not re-compressed). Other
 * compressed messages (snappy, zstd …) are refused under {@code unknown_encoding: block} ({@code grpc_compressed}),
 * passed unscanned otherwise.
 */
public final class GrpcFramesTransformer implements BodyTransformer {
    private final PartRules r;
    private final byte[] prefix = new byte[5];
    private int prefixLen;
    private byte[] message = new byte[0];
    private int messageLen;
    private int expected;
    private Finding blocked;

    public GrpcFramesTransformer(PartRules rules) {
        this.r = rules;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end && blocked == null) {
            if (prefixLen < 5) {
                prefix[prefixLen++] = b[i++];
                if (prefixLen == 5) {
                    long n = ((prefix[1] & 0xffL) << 24)
                            | ((prefix[2] & 0xff) << 16)
                            | ((prefix[3] & 0xff) << 8)
                            | (prefix[4] & 0xff);
                    if (n > Integer.MAX_VALUE - 8) {
                        throw new ContentRefused("grpc_malformed");
                    }
                    expected = (int) n;
                    messageLen = 0;
                    if (expected == 0) {
                        frameDone();
                    }
                }
                continue;
            }
            int take = Math.min(end - i, expected - messageLen);
            if (messageLen + take > message.length) {
                // grows with the bytes that came, never with the declared length (bounded by max_body_bytes)
                message = java.util.Arrays.copyOf(message, Math.max(messageLen + take, message.length * 2));
            }
            System.arraycopy(b, i, message, messageLen, take);
            messageLen += take;
            i += take;
            if (messageLen == expected) {
                frameDone();
            }
        }
    }

    private void frameDone() {
        boolean compressed = (prefix[0] & 0x01) != 0;
        if (compressed && decompressible()) {
            scanCompressed();
        } else if (compressed) {
            if (r.blockUnknownEncoding()) {
                throw new ContentRefused("grpc_compressed");
            }
            r.out().write(prefix, 0, 5);
            r.out().write(message, 0, messageLen);
            r.unscanned().passed("grpc_compressed", messageLen);
        } else {
            emitScanned(true);
        }
        prefixLen = 0;
        messageLen = 0;
        expected = 0;
    }

    /** Largest decompressed message scanned: grpc-java's default maximum inbound message size (4 MiB). */
    public static final int MAX_MESSAGE = 4 * 1024 * 1024;

    /** gzip (RFC 1952 magic 1f 8b) or zlib (RFC 1950: CM 8, header checksum). */
    private boolean decompressible() {
        if (messageLen < 2) {
            return false;
        }
        int b0 = message[0] & 0xff;
        int b1 = message[1] & 0xff;
        return (b0 == 0x1f && b1 == 0x8b) || ((b0 & 0x0f) == 8 && ((b0 << 8) | b1) % 31 == 0);
    }

    private void scanCompressed() {
        byte[] plain;
        try (java.io.InputStream in = (message[0] & 0xff) == 0x1f
                ? new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(message, 0, messageLen))
                : new java.util.zip.InflaterInputStream(new java.io.ByteArrayInputStream(message, 0, messageLen))) {
            plain = in.readNBytes(MAX_MESSAGE + 1);
        } catch (java.io.IOException e) {
            throw new ContentRefused("corrupt_encoding");
        }
        if (plain.length > MAX_MESSAGE) {
            throw new ContentRefused("oversize");
        }
        ByteSink scanned = new ByteSink(Math.max(16, plain.length));
        TextTransformer t = new TextTransformer(r.rules(), r.hasher(), scanned, r.listener(), "grpc_message");
        t.write(plain, 0, plain.length);
        t.finish();
        if (t.blockedBy().isPresent()) {
            blocked = t.blockedBy().get();
            return;
        }
        if (!scanned.contentEquals(plain, 0, plain.length)) {
            throw new ContentRefused("grpc_rewrite");
        }
        r.out().write(prefix, 0, 5);
        r.out().write(message, 0, messageLen);
    }

    /** Scans the collected message; writes it with its prefix when its length is unchanged. */
    private void emitScanned(boolean writePrefix) {
        ByteSink scanned = new ByteSink(Math.max(16, messageLen));
        TextTransformer t = new TextTransformer(r.rules(), r.hasher(), scanned, r.listener(), "grpc_message");
        t.write(message, 0, messageLen);
        t.finish();
        if (t.blockedBy().isPresent()) {
            blocked = t.blockedBy().get();
            return;
        }
        if (scanned.size() != messageLen) {
            throw new ContentRefused("grpc_rewrite");
        }
        if (writePrefix) {
            r.out().write(prefix, 0, 5);
        }
        r.out().write(scanned.array(), 0, scanned.size());
    }

    @Override
    public void finish() {
        if (blocked != null) {
            return;
        }
        // A body that ends inside a message (or was cut at the size limit): what came is still scanned.
        if (prefixLen > 0) {
            r.out().write(prefix, 0, prefixLen);
        }
        if (prefixLen == 5 && messageLen > 0) {
            emitScanned(false);
        }
        prefixLen = 0;
        messageLen = 0;
    }

    @Override
    public Optional<Finding> blockedBy() {
        return Optional.ofNullable(blocked);
    }

    @Override
    public long heldBack() {
        return prefixLen + messageLen;
    }
}
