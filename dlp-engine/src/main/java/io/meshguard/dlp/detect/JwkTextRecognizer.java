package io.meshguard.dlp.detect;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The {@code private_key} detector's JSON Web Keys in text ({@link JwkText}): a private member of a JWK written
 * anywhere in a text stream is a candidate over its value, confidence 1. The JSON body pass finds the keys of a JSON
 * document itself; this one finds those pasted into prose, chat messages, streamed text deltas, form fields and log
 * lines, and in JSON strings (a key quoted in a prompt's {@code content}); also written as escaped JSON, once or twice
 * ({@code msg="{\"kty\":…}"}, {@link JwkEscapedText}), and as YAML, Python or JavaScript literals
 * ({@link JwkLiteralText}).
 */
public final class JwkTextRecognizer implements Recognizer {
    private final int detector;
    /** Where this round's JSON met {@code {\}: pairs of offsets, for the escaped readers. */
    private long[] openings = new long[8];

    private int openingCount;
    private final JwkText text = new JwkText((brace, backslash) -> {
        if (2 * openingCount + 2 > openings.length) {
            openings = Arrays.copyOf(openings, openings.length * 2);
        }
        openings[2 * openingCount] = brace;
        openings[2 * openingCount + 1] = backslash;
        openingCount++;
    });
    /** Escaped once and twice. */
    private final JwkEscapedText[] escaped = {new JwkEscapedText(1), new JwkEscapedText(2)};

    private final JwkLiteralText literal = new JwkLiteralText();

    /** @param detector the rule index of the {@code private_key} detector */
    public JwkTextRecognizer(int detector) {
        this.detector = detector;
    }

    @Override
    public long scan(TextWindow t, Consumer<Candidate> out) {
        JwkText.Sink sink = (s, e, v) -> out.accept(new Candidate(detector, s, e, 1.0));
        long end = t.base() + t.length();
        openingCount = 0;
        text.feed(t.bytes(), t.index(text.position()), t.length(), t.base(), t, sink);
        if (t.complete()) {
            text.finish(sink);
        }
        long frontier = text.frontier(end);
        for (JwkEscapedText e : escaped) {
            if (openingCount == 0 && e.idle()) {
                continue; // it starts only at an opening: nothing to read, nothing held (almost every text)
            }
            // idle, it starts only at this round's openings: its old position may be before the window
            e.feed(
                    t.bytes(),
                    t.index(Math.max(e.position(), t.base())),
                    t.length(),
                    t.base(),
                    openings,
                    openingCount,
                    t.complete(),
                    sink);
            if (t.complete()) {
                e.finish(sink);
            }
            frontier = Math.min(frontier, e.frontier(end));
        }
        literal.feed(t, t.index(Math.max(literal.position(), t.base())), sink);
        if (t.complete()) {
            literal.finish();
        }
        return Math.min(frontier, literal.frontier(end));
    }

    /** The searches for a JSON object's {@code {} and for a member's {@code :} outside JSON. */
    @Override
    public void describeSearches(StartTable table) {
        boolean[] brace = new boolean[256];
        brace['{'] = true;
        table.add(StartTable.BRACES, brace, null);
        boolean[] colon = new boolean[256];
        colon[':'] = true;
        table.add(StartTable.COLONS, colon, null);
    }

    @Override
    public Recognizer newStream() {
        return new JwkTextRecognizer(detector);
    }

    @Override
    public void reset() {
        text.reset();
        for (JwkEscapedText e : escaped) {
            e.reset();
        }
        literal.reset();
        openingCount = 0;
    }

    /** A key in JSON needs a {@code {}; one in YAML, Python or JavaScript its {@code kty}. */
    @Override
    public boolean mayFind(byte[] b, int off, int len) {
        int end = off + len;
        if (Simd.indexOf(b, off, end, (byte) '{') < end) {
            return true;
        }
        for (int k = Simd.indexOf(b, off, end, (byte) 'k'); k < end; k = Simd.indexOf(b, k + 1, end, (byte) 'k')) {
            if (k + 1 == end || b[k + 1] == 't') {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean describeStarts(TriggerTable table) {
        boolean[] brace = new boolean[256];
        brace['{'] = true;
        table.single(brace);
        boolean[] k = new boolean[256];
        k['k'] = true;
        boolean[] t = new boolean[256];
        t['t'] = true;
        table.pair(k, t);
        return true;
    }

    /** {@link JwkLiteralText} looks for a member's name before its {@code :}. */
    @Override
    public int lookBehind() {
        return JwkLiteralText.LOOK_BACK + 8;
    }
}
