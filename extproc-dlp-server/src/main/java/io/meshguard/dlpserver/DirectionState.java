package io.meshguard.dlpserver;

import com.google.protobuf.ByteString;
import io.meshguard.dlp.content.BodyTransformer;
import io.meshguard.dlp.content.ByteSink;
import io.meshguard.dlp.content.ContentDecoder;
import io.meshguard.dlp.content.FindingListener;
import io.meshguard.dlp.content.Transformers;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DirectionPolicy;
import io.meshguard.dlp.policy.MediaTypes;
import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ValueHasher;
import io.micrometer.core.instrument.Counter;
import java.util.Optional;

/**
 * One direction (request or response body) of one HTTP stream: decided at its headers from the policy, then fed
 * body bytes. Bodies are scanned, or passed unscanned only when the policy says so (and then counted and noted),
 * or refused; never half-scanned without a trace.
 */
final class DirectionState {
    enum Plan {
        NO_BODY_SCAN,
        SCAN,
        BLOCK
    }

    final Direction direction;
    final Optional<DirectionPolicy> policy;
    final MediaTypes.Kind kind;
    final boolean hadContentLength;
    private final DlpMetrics metrics;
    private Plan plan;
    private String note = "";
    private BlockDecision headerBlock;
    private ContentDecoder decoder;
    private final DecoderBudget decoders;
    private boolean holdsDecoderPermit;
    private BodyTransformer transformer;
    private java.util.function.Supplier<BodyTransformer> makeTransformer;
    private String transcodedContentType;
    private boolean passesOnceBinary;
    private final ByteSink out = new ByteSink();
    /** Messages up to this size are read through {@link #reused}; larger ones are copied once each. */
    private static final int MAX_REUSED = 64 * 1024;

    private static final byte[] NO_BYTES = new byte[0];
    private byte[] reused = NO_BYTES;
    private long scanned;
    private long received;
    private boolean truncated;
    private boolean finished;
    private boolean changed;
    /** This direction's scanned-bytes counter, looked up at its first use. */
    private Counter scannedBytes;

    private String unscannedReason;
    private Counter unscannedBytes;

    DirectionState(
            Direction direction,
            Optional<DirectionPolicy> policy,
            String contentType,
            String contentEncoding,
            boolean hadContentLength,
            ValueHasher hasher,
            FindingListener listener,
            DlpMetrics metrics,
            DecoderBudget decoders,
            Transformers.Factory transformers) {
        this.direction = direction;
        this.policy = policy;
        this.kind = MediaTypes.kind(contentType);
        this.hadContentLength = hadContentLength;
        this.metrics = metrics;
        this.decoders = decoders;
        if (policy.isEmpty() || policy.get().rules().isEmpty()) {
            plan = Plan.NO_BODY_SCAN;
            note = policy.isEmpty() ? "no_profile" : "";
            return;
        }
        DirectionPolicy p = policy.get();
        // What the body is, from its label; but the label is the sender's choice, so no label switches scanning off:
        // multipart is parsed part by part, gRPC frames are unpacked, other non-text labels are scanned as text while
        // the bytes are text, and a declared charset is decoded (or refused).
        Container container = Container.NONE;
        java.nio.charset.Charset charset = null;
        boolean grpc = MediaTypes.isGrpc(contentType);
        if (grpc) {
            if (p.grpc() == DirectionPolicy.Disposition.BLOCK) {
                plan = Plan.BLOCK;
                headerBlock = BlockDecision.because("grpc");
                return;
            }
            if (MediaTypes.essence(contentType).startsWith("application/grpc-web-text")) {
                // base64 of the frames: not decoded here
                cannotDecode(p, "grpc_web_text");
                return;
            }
            container = Container.GRPC;
        } else if (MediaTypes.isMultipart(contentType)) {
            Optional<String> boundary = MediaTypes.parameter(contentType, "boundary");
            container = boundary.isPresent()
                            && !boundary.get().isEmpty()
                            && boundary.get().length() <= 200
                    ? Container.MULTIPART
                    : Container.SNIFF;
        } else if (kind == MediaTypes.Kind.NON_TEXT) {
            if (p.nonText() == DirectionPolicy.Disposition.BLOCK) {
                plan = Plan.BLOCK;
                headerBlock = BlockDecision.because("non_text");
                return;
            }
            container = Container.SNIFF;
        }
        if (container != Container.MULTIPART && container != Container.GRPC) {
            Optional<String> declared = MediaTypes.parameter(contentType, "charset");
            if (declared.isPresent()) {
                Optional<java.nio.charset.Charset> c = io.meshguard.dlp.content.Charsets.lookup(declared.get());
                if (c.isEmpty()) {
                    cannotDecode(p, "unknown_charset");
                    return;
                }
                if (!io.meshguard.dlp.content.Charsets.isUtf8(c.get())) {
                    charset = c.get();
                    transcodedContentType = MediaTypes.withCharsetUtf8(contentType);
                }
            }
        }
        try {
            decoder = ContentDecoder.forEncoding(contentEncoding).orElse(null);
        } catch (ContentDecoder.UnsupportedEncoding e) {
            cannotDecode(p, "unknown_encoding");
            return;
        }
        if (decoder != null && decoder.largeWindow()) {
            if (!decoders.tryAcquire()) {
                decoder.close();
                decoder = null;
                metrics.decoderLimit(direction.id());
                cannotDecode(p, "decoder_limit");
                return;
            }
            holdsDecoderPermit = true;
        }
        plan = Plan.SCAN;
        io.meshguard.dlp.content.PartRules parts = new io.meshguard.dlp.content.PartRules(
                p.rules(),
                hasher,
                out,
                listener,
                p.nonText() == DirectionPolicy.Disposition.BLOCK,
                p.unknownEncoding() == DirectionPolicy.Disposition.BLOCK,
                (reason, bytes) -> {
                    note = reason;
                    unscanned(reason, bytes);
                });
        // A body sniffed as binary goes on as it came from the next message on (no copy, no scan): possible only
        // when the bytes handed out are the bytes that came (no decoding, no transcoding).
        passesOnceBinary = container == Container.SNIFF && decoder == null && charset == null;
        Container chosen = container;
        java.nio.charset.Charset decodeFrom = charset;
        // Made by bodyFollows() when the headers say a body comes, else never: a direction without a body (a GET,
        // request headers with end_of_stream) holds no scanner for its stream's life.
        makeTransformer = () -> transformer(chosen, decodeFrom, contentType, p, parts, hasher, listener, transformers);
    }

    private BodyTransformer transformer(
            Container container,
            java.nio.charset.Charset charset,
            String contentType,
            DirectionPolicy p,
            io.meshguard.dlp.content.PartRules parts,
            ValueHasher hasher,
            FindingListener listener,
            Transformers.Factory transformers) {
        BodyTransformer transformer =
                switch (container) {
                    case MULTIPART ->
                        new io.meshguard.dlp.content.MultipartTransformer(
                                MediaTypes.parameter(contentType, "boundary").get(), parts, 0);
                    case GRPC -> new io.meshguard.dlp.content.GrpcFramesTransformer(parts);
                    case SNIFF ->
                        new io.meshguard.dlp.content.TextOrBinaryTransformer(
                                p.rules(), hasher, out, listener, "body", parts.blockNonText(), parts.unscanned());
                    case NONE ->
                        kind == MediaTypes.Kind.JSON && charset == null
                                // JSON without a declared charset may still be UTF-16/32 (RFC 4627 §3 detection, as
                                // Jackson does)
                                ? new io.meshguard.dlp.content.JsonEncodingSniff(
                                        sink -> transformers.create(kind, p.rules(), hasher, sink, listener), out)
                                : transformers.create(kind, p.rules(), hasher, out, listener);
                };
        if (charset != null) {
            transformer = new io.meshguard.dlp.content.TranscodingTransformer(charset, transformer);
        }
        return transformer;
    }

    /**
     * A body follows the headers (they did not end the stream): the transformer is made now, in the headers phase and
     * under its deadline, as for every body; only a direction without a body keeps none.
     */
    void bodyFollows() {
        if (plan == Plan.SCAN) {
            transformer();
        }
    }

    /** This direction's transformer, made at its first use. */
    private BodyTransformer transformer() {
        if (transformer == null) {
            transformer = makeTransformer.get();
        }
        return transformer;
    }

    /** How a body's bytes are taken apart before the scanners see them. */
    private enum Container {
        NONE,
        MULTIPART,
        GRPC,
        SNIFF
    }

    /** The content-type the body goes on with when it is transcoded to UTF-8 (empty: unchanged). */
    Optional<String> rewrittenContentType() {
        return Optional.ofNullable(transcodedContentType);
    }

    /** A direction whose bytes are not a body at all (WebSocket frames after a 101): passed and counted. */
    private DirectionState(Direction direction, String reason, DlpMetrics metrics, DecoderBudget decoders) {
        this.direction = direction;
        this.policy = Optional.empty();
        this.kind = MediaTypes.Kind.NON_TEXT;
        this.hadContentLength = false;
        this.metrics = metrics;
        this.decoders = decoders;
        this.plan = Plan.NO_BODY_SCAN;
        this.note = reason;
    }

    static DirectionState passing(Direction direction, String reason, DlpMetrics metrics, DecoderBudget decoders) {
        return new DirectionState(direction, reason, metrics, decoders);
    }

    /** A body that cannot be decoded now or ever: the profile's unknown_encoding disposition decides. */
    private void cannotDecode(DirectionPolicy p, String reason) {
        if (p.unknownEncoding() == DirectionPolicy.Disposition.BLOCK) {
            plan = Plan.BLOCK;
            headerBlock = BlockDecision.because(reason);
        } else {
            plan = Plan.NO_BODY_SCAN;
            note = reason;
        }
    }

    Plan plan() {
        return plan;
    }

    Optional<BlockDecision> headerBlock() {
        return Optional.ofNullable(headerBlock);
    }

    /** True when the body is rewritten from a decoded form, so content-encoding must go. */
    boolean decodes() {
        return decoder != null;
    }

    boolean scans() {
        return plan == Plan.SCAN;
    }

    String note() {
        return note;
    }

    long received() {
        return received;
    }

    boolean finished() {
        return finished;
    }

    /** True once the bytes handed out differ from what came in. */
    boolean changed() {
        return changed;
    }

    /** Bytes held back for a decision. */
    long heldBack() {
        return transformer == null || truncated ? 0 : transformer.heldBack();
    }

    /**
     * Feeds one body message and returns the bytes that may go on now (a new array, never changed afterwards).
     *
     * @throws BlockedException when the body must be refused
     */
    byte[] body(byte[] data, boolean end) throws BlockedException {
        if (plan != Plan.SCAN || finished) {
            return pass(data, end);
        }
        return scan(data, 0, data.length, end);
    }

    /**
     * The same for a message as it came off the wire: a body that is scanned as it is (no content-encoding) is read
     * through a buffer this direction keeps, instead of a new copy per message.
     */
    byte[] body(ByteString data, boolean end) throws BlockedException {
        if (plan != Plan.SCAN || finished || decoder != null || data.size() > MAX_REUSED) {
            return body(data.toByteArray(), end);
        }
        int n = data.size();
        if (reused.length < n) {
            reused = new byte[Math.max(n, Math.min(MAX_REUSED, reused.length * 2))];
        }
        data.copyTo(reused, 0);
        return scan(reused, 0, n, end);
    }

    private byte[] pass(byte[] data, boolean end) {
        passed(data.length, end);
        return data;
    }

    /**
     * Counts a message that goes on as it came (this direction is not scanned): its size only, nothing is read or
     * copied.
     */
    void passed(int bytes, boolean end) {
        received += bytes;
        if (end) {
            finished = true;
        }
        if (plan == Plan.NO_BODY_SCAN && bytes > 0) {
            unscanned(note.isEmpty() ? "no_rules" : note, bytes);
        }
    }

    private byte[] scan(byte[] data, int off, int len, boolean end) throws BlockedException {
        received += len;
        try {
            if (decoder != null) {
                decoder.decode(data, off, len, sink);
                if (end) {
                    decoder.finish(sink);
                }
            } else {
                sink.write(data, off, len);
            }
        } catch (ContentDecoder.CorruptBodyException e) {
            close();
            metrics.malformed(direction.id(), "encoding");
            throw new BlockedException(BlockDecision.because("corrupt_encoding"));
        } catch (OversizeBlock e) {
            close(); // a decompression bomb stops here: nothing more is decoded
            throw new BlockedException(BlockDecision.because("oversize"));
        } catch (io.meshguard.dlp.content.ContentRefused e) {
            close();
            throw new BlockedException(BlockDecision.because(e.reason()));
        }
        if (end) {
            finished = true;
            reused = NO_BYTES; // a request body's buffer is not held for the minutes its streamed response may take
            // The decoder (and its permit) goes back now, not when the whole exchange ends: a compressed request
            // must not hold a large window for the minutes its streamed response may take.
            close();
            if (!truncated) {
                try {
                    transformer().finish();
                } catch (io.meshguard.dlp.content.ContentRefused e) {
                    throw new BlockedException(BlockDecision.because(e.reason()));
                }
            }
        }
        Optional<Finding> blocked = transformer().blockedBy();
        if (blocked.isPresent()) {
            throw new BlockedException(BlockDecision.of(blocked.get()));
        }
        if (passesOnceBinary && note.equals("non_text")) {
            // this message's output is still the caller's to send; later messages pass as they come
            plan = Plan.NO_BODY_SCAN;
        }
        byte[] result = out.drain();
        if (decoder != null || !java.util.Arrays.equals(result, 0, result.length, data, off, off + len)) {
            changed = true;
        }
        return result;
    }

    /**
     * Envoy will not send the rest of this body (BUFFERED_PARTIAL over its buffer limit): the rest is refused when
     * the policy blocks oversize bodies or the body is being decoded (compressed bytes cannot follow the decoded
     * ones), else it passes unscanned and is noted.
     */
    Optional<BlockDecision> cutByEnvoy() {
        if (plan != Plan.SCAN) {
            return Optional.empty();
        }
        if (decoder != null || policy.get().oversize() == DirectionPolicy.Disposition.BLOCK) {
            return Optional.of(BlockDecision.because("oversize"));
        }
        note = "oversize";
        return Optional.empty();
    }

    private void scanned(long bytes) {
        if (scannedBytes == null) {
            scannedBytes = metrics.scannedBytes(direction.id(), kind.name().toLowerCase(java.util.Locale.ROOT));
        }
        scannedBytes.increment(bytes);
    }

    private void unscanned(String reason, long bytes) {
        if (!reason.equals(unscannedReason)) {
            unscannedBytes = metrics.unscannedBytes(direction.id(), reason);
            unscannedReason = reason;
        }
        unscannedBytes.increment(bytes);
    }

    /** Releases the decoder (its thread, its inflater) when the body ends, is refused or is abandoned. */
    void close() {
        if (decoder != null) {
            decoder.close();
        }
        if (holdsDecoderPermit) {
            holdsDecoderPermit = false;
            decoders.release();
        }
    }

    /** Raised inside the counting sink when the size limit is crossed and the policy blocks. */
    private static final class OversizeBlock extends RuntimeException {
        OversizeBlock() {
            super(null, null, false, false);
        }
    }

    /** Counts decoded bytes against the limit on their way to the transformer. */
    private final BodyTransformer sink = new BodyTransformer.Forwarding() {
        @Override
        public void write(byte[] b, int off, int len) {
            if (truncated) {
                out.write(b, off, len);
                unscanned("oversize", len);
                return;
            }
            DirectionPolicy p = policy.get();
            long room = p.maxBodyBytes() - scanned;
            if (len > room) {
                if (p.oversize() == DirectionPolicy.Disposition.BLOCK) {
                    throw new OversizeBlock();
                }
                // Pass: everything up to the limit is scanned and decided, the rest passes unscanned (noted).
                int fit = (int) Math.max(0, room);
                transformer().write(b, off, fit);
                scanned += fit;
                transformer().finish();
                truncated = true;
                note = "oversize";
                scanned(fit);
                out.write(b, off + fit, len - fit);
                unscanned("oversize", len - fit);
                return;
            }
            transformer().write(b, off, len);
            scanned += len;
            scanned(len);
        }
    };
}
