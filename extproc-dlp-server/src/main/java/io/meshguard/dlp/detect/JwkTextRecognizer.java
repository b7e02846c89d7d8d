package io.meshguard.dlp.detect;

import java.util.function.Consumer;

/**
 * The {@code private_key} detector's JSON Web Keys in text ({@link JwkText}): a private member of a JWK written
 * anywhere in a text stream is a candidate over its value, confidence 1. The JSON body pass finds the keys of a JSON
 * document itself; this one finds those pasted into prose, chat messages, streamed text deltas, form fields and log
 * lines, and in JSON strings (a key quoted in a prompt's {@code content}).
 */
public final class JwkTextRecognizer implements Recognizer {
    private final int detector;
    private final JwkText text = new JwkText(1);

    /** @param detector the rule index of the {@code private_key} detector */
    public JwkTextRecognizer(int detector) {
        this.detector = detector;
    }

    @Override
    public long scan(TextWindow t, Consumer<Candidate> out) {
        JwkText.Sink sink = (s, e, v) -> out.accept(new Candidate(detector, s, e, 1.0));
        long end = t.base() + t.length();
        text.feed(t.bytes(), t.index(text.position()), t.length(), t.base(), sink);
        if (t.complete()) {
            text.finish(sink);
        }
        return text.frontier(end);
    }

    @Override
    public Recognizer newStream() {
        return new JwkTextRecognizer(detector);
    }

    @Override
    public void reset() {
        text.reset();
    }

    /** A key needs a {@code {}. */
    @Override
    public boolean mayFind(byte[] b, int off, int len) {
        return Simd.indexOf(b, off, off + len, (byte) '{') < off + len;
    }

    @Override
    public boolean describeStarts(TriggerTable table) {
        boolean[] brace = new boolean[256];
        brace['{'] = true;
        table.single(brace);
        return true;
    }
}
