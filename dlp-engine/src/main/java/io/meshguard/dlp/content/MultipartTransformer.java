package io.meshguard.dlp.content;

import io.meshguard.dlp.policy.MediaTypes;
import io.meshguard.dlp.scan.Finding;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code multipart/*} (form-data, mixed, related …): parsed part by part as it streams, each part scanned by its own
 * {@code Content-Type} exactly as a whole body of that type would be (JSON, form, text, and unknown or binary labels
 * through {@link TextOrBinaryTransformer}), nested multipart parsed in turn up to {@link #MAX_DEPTH} levels. Part
 * headers, the preamble and the epilogue are scanned as text (a card in a file name is still a card). Delimiter lines
 * go on as they came; the body keeps its structure, only scanned content changes.
 *
 * <p>Delimiters follow RFC 2046 §5.1.1 ({@code CRLF "--" boundary}), but a bare LF is accepted too, as lenient
 * parsers (busboy, Python's {@code email} package) accept it: a delimiter this parser missed would let a part hide
 * inside the previous one under that part's label. A delimiter split across chunks is held back until it is whole,
 * so the outcome does not depend on how the body is split. Bounds: {@link #MAX_HEADER_BYTES} of headers per part,
 * {@link #MAX_PARTS} parts; the body as a whole is bounded by the profile's {@code max_body_bytes} like any body.
 * Transfer encodings other than 7bit/8bit/binary (RFC 7578 §4.7 deprecates them for form-data) and charsets whose
 * digits are not ASCII (UTF-16, UTF-32 …) cannot be scanned in place: refused under {@code unknown_encoding: block},
 * scanned as they are otherwise.
 */
public final class MultipartTransformer implements BodyTransformer {
    public static final int MAX_DEPTH = 4;
    public static final int MAX_HEADER_BYTES = 16 * 1024;
    public static final int MAX_PARTS = 10_000;
    /** Longest delimiter line tail ("--", transport padding) before it counts as malformed. */
    private static final int MAX_DELIMITER_LINE = 1024;

    private enum State {
        PREAMBLE,
        DELIMITER_LINE,
        HEADERS,
        BODY,
        EPILOGUE
    }

    private final PartRules r;
    private final int depth;
    private final byte[] delimiter;
    private State state = State.PREAMBLE;
    /** Bytes not yet handed on: a possible delimiter, an incomplete line. */
    private byte[] pending = new byte[256];

    private int pendingLen;
    /** Leading bytes of {@link #pending} that are not part of the body (the virtual LF before the first delimiter). */
    private int skip;

    private BodyTransformer part;
    /** The current part's header section, raw (for parsing) and through a text scan (for output). */
    private final ByteSink rawHeaders = new ByteSink(256);

    private TextTransformer headerScan;
    private int parts;
    private Finding blocked;

    public MultipartTransformer(String boundary, PartRules rules, int depth) {
        this.r = rules;
        this.depth = depth;
        this.delimiter = ("\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        // The body may open with the delimiter itself: a virtual LF in front lets one search find it.
        pending[0] = '\n';
        pendingLen = 1;
        skip = 1;
        part = text("multipart_preamble");
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (blocked != null || len == 0) {
            return;
        }
        if (pendingLen + len > pending.length) {
            pending = java.util.Arrays.copyOf(pending, Math.max(pendingLen + len, pending.length * 2));
        }
        System.arraycopy(b, off, pending, pendingLen, len);
        pendingLen += len;
        int used = process(false);
        compact(used);
    }

    @Override
    public void finish() {
        if (blocked != null) {
            return;
        }
        int used = process(true);
        // What is left cannot be completed any more: a part or preamble without its closing delimiter, an incomplete
        // delimiter line or header section. It is decided as what it would have been.
        if (used < pendingLen) {
            switch (state) {
                case PREAMBLE, BODY, EPILOGUE -> content(used, pendingLen);
                case HEADERS -> headerBytes(used, pendingLen);
                case DELIMITER_LINE -> raw(used, pendingLen);
            }
        }
        compact(pendingLen);
        if (state == State.HEADERS) {
            headerScan.finish();
        } else if (part != null) {
            part.finish();
            noteBlock(part);
        }
    }

    /** Handles what {@link #pending} allows; returns how many of its bytes were used. */
    private int process(boolean last) {
        int pos = 0;
        while (blocked == null) {
            switch (state) {
                case EPILOGUE -> {
                    content(pos, pendingLen);
                    return pendingLen;
                }
                case PREAMBLE, BODY -> {
                    int j = indexOfDelimiter(pos);
                    if (j < 0) {
                        int keep = last ? pendingLen : holdFrom(pos);
                        content(pos, keep);
                        return keep;
                    }
                    int contentEnd = j > pos && pending[j - 1] == '\r' ? j - 1 : j;
                    content(pos, contentEnd);
                    if (blocked != null) {
                        return pendingLen;
                    }
                    part.finish();
                    noteBlock(part);
                    part = null;
                    raw(contentEnd, j + delimiter.length);
                    pos = j + delimiter.length;
                    state = State.DELIMITER_LINE;
                }
                case DELIMITER_LINE -> {
                    int nl = indexOf((byte) '\n', pos);
                    if (nl < 0) {
                        if (pendingLen - pos > MAX_DELIMITER_LINE) {
                            throw new ContentRefused("multipart_malformed");
                        }
                        if (!last || pos >= pendingLen) {
                            return pos;
                        }
                        nl = pendingLen - 1;
                    }
                    boolean close =
                            nl - pos >= 1 && pending[pos] == '-' && pos + 1 < pendingLen && pending[pos + 1] == '-';
                    raw(pos, nl + 1);
                    pos = nl + 1;
                    if (close) {
                        state = State.EPILOGUE;
                        part = text("multipart_epilogue");
                    } else {
                        if (++parts > MAX_PARTS) {
                            throw new ContentRefused("multipart_parts");
                        }
                        state = State.HEADERS;
                        rawHeaders.reset();
                        headerScan = text("multipart_headers");
                    }
                }
                case HEADERS -> {
                    int nl = indexOf((byte) '\n', pos);
                    if (nl < 0) {
                        if (rawHeaders.size() + pendingLen - pos > MAX_HEADER_BYTES) {
                            throw new ContentRefused("multipart_headers");
                        }
                        return pos;
                    }
                    boolean blank = nl == pos || (nl == pos + 1 && pending[pos] == '\r');
                    headerBytes(pos, nl + 1);
                    if (rawHeaders.size() > MAX_HEADER_BYTES) {
                        throw new ContentRefused("multipart_headers");
                    }
                    pos = nl + 1;
                    if (blank) {
                        headerScan.finish();
                        noteBlock(headerScan);
                        headerScan = null;
                        part = partTransformer(
                                new String(rawHeaders.array(), 0, rawHeaders.size(), StandardCharsets.ISO_8859_1));
                        state = State.BODY;
                    }
                }
            }
        }
        return pendingLen;
    }

    /** Where the held-back tail starts: a suffix that may begin a delimiter (with the CR before it). */
    private int holdFrom(int pos) {
        int from = Math.max(pos, pendingLen - (delimiter.length - 1));
        for (int i = from; i < pendingLen; i++) {
            if (pending[i] == '\n' && java.util.Arrays.equals(pending, i, pendingLen, delimiter, 0, pendingLen - i)) {
                return i > pos && pending[i - 1] == '\r' ? i - 1 : i;
            }
        }
        return pendingLen > pos && pending[pendingLen - 1] == '\r' ? pendingLen - 1 : pendingLen;
    }

    private int indexOfDelimiter(int from) {
        int last = pendingLen - delimiter.length;
        for (int i = from; i <= last; i++) {
            if (pending[i] == '\n'
                    && java.util.Arrays.equals(pending, i, i + delimiter.length, delimiter, 0, delimiter.length)) {
                return i;
            }
        }
        return -1;
    }

    private int indexOf(byte c, int from) {
        for (int i = from; i < pendingLen; i++) {
            if (pending[i] == c) {
                return i;
            }
        }
        return -1;
    }

    /** Part content (or preamble, epilogue) to the current part's transformer. */
    private void content(int from, int to) {
        from = Math.max(from, skip);
        if (to > from) {
            part.write(pending, from, to - from);
            noteBlock(part);
        }
    }

    private void headerBytes(int from, int to) {
        from = Math.max(from, skip);
        if (to > from) {
            rawHeaders.write(pending, from, to - from);
            headerScan.write(pending, from, to - from);
            noteBlock(headerScan);
        }
    }

    /** Delimiter lines: on as they came. */
    private void raw(int from, int to) {
        from = Math.max(from, skip);
        if (to > from) {
            r.out().write(pending, from, to - from);
        }
    }

    private void compact(int used) {
        System.arraycopy(pending, used, pending, 0, pendingLen - used);
        pendingLen -= used;
        skip = Math.max(0, skip - used);
    }

    private void noteBlock(BodyTransformer t) {
        if (blocked == null) {
            t.blockedBy().ifPresent(f -> blocked = f);
        }
    }

    private TextTransformer text(String location) {
        return new TextTransformer(r.rules(), r.hasher(), r.out(), r.listener(), location);
    }

    /** The transformer for a part, from its header section. */
    private BodyTransformer partTransformer(String headerSection) {
        String contentType = null;
        boolean ambiguous = false;
        String transferEncoding = "";
        for (String line : headerSection.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (name.equals("content-type")) {
                ambiguous |= contentType != null && !contentType.equalsIgnoreCase(value);
                contentType = value;
            } else if (name.equals("content-transfer-encoding")) {
                transferEncoding = value.toLowerCase(Locale.ROOT);
            }
        }
        if (!transferEncoding.isEmpty()
                && !transferEncoding.equals("7bit")
                && !transferEncoding.equals("8bit")
                && !transferEncoding.equals("binary")) {
            return unreadable("unknown_transfer_encoding");
        }
        if (contentType == null || ambiguous) {
            // RFC 7578 §4.4: a part without a type is text/plain; two disagreeing types are believed neither way.
            return contentType == null ? text("multipart") : sniffed();
        }
        if (MediaTypes.isMultipart(contentType)) {
            Optional<String> boundary = MediaTypes.parameter(contentType, "boundary");
            if (boundary.isEmpty() || boundary.get().isEmpty()) {
                return sniffed();
            }
            if (depth + 1 >= MAX_DEPTH) {
                throw new ContentRefused("multipart_depth");
            }
            return new MultipartTransformer(boundary.get(), r, depth + 1);
        }
        Optional<String> charset = MediaTypes.parameter(contentType, "charset");
        if (charset.isPresent() && !Charsets.asciiCompatible(charset.get())) {
            return unreadable("unknown_charset");
        }
        MediaTypes.Kind kind = MediaTypes.kind(contentType);
        return switch (kind) {
            case NON_TEXT -> sniffed();
            case TEXT -> text("multipart");
            default -> Transformers.forKind(kind, r.rules(), r.hasher(), r.out(), r.listener());
        };
    }

    private BodyTransformer sniffed() {
        return new TextOrBinaryTransformer(
                r.rules(), r.hasher(), r.out(), r.listener(), "multipart", r.blockNonText(), r.unscanned());
    }

    private BodyTransformer unreadable(String reason) {
        if (r.blockUnknownEncoding()) {
            throw new ContentRefused(reason);
        }
        return sniffed();
    }

    @Override
    public Optional<Finding> blockedBy() {
        return Optional.ofNullable(blocked);
    }

    @Override
    public long heldBack() {
        long inner = state == State.HEADERS || part == null ? 0 : part.heldBack();
        return Math.max(0, pendingLen - skip) + inner;
    }
}
