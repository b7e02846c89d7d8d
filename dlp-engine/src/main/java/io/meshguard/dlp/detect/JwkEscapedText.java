package io.meshguard.dlp.detect;

import java.util.Arrays;

/**
 * JSON Web Keys written as escaped JSON in a text: {@code msg="{\"kty\":\"RSA\",\"d\":\"…\"}"} in a log line, a key
 * quoted as a string in prose or in a streamed answer, or escaped twice ({@code {\\\"kty\\\":…}}, a JSON string
 * value holding such a log line). The text is unescaped {@code levels} times as JSON string contents (RFC 8259 §7)
 * and read by a {@link JwkText} with the same members, bounds and failing towards a finding.
 *
 * <p>Reading starts only at an object whose first byte after {@code {} and white space is a backslash, which the
 * JSON reader of the same text reports ({@link JwkText.Openings}): text without {@code {\} costs nothing here. An
 * unescaped {@code "} ends the string the escaped JSON is written in, so the text stops being JSON there, as it does
 * for a backslash run longer than {@value #MAX_RUN}. Each escape is fed at the offset of its last byte, so a private
 * value (base64url: no escapes) is reported over exactly its bytes as written. Chunk-invariant: an escape cut by the
 * end of a round is read again in the next; every decision depends on the bytes alone.
 */
final class JwkEscapedText {
    /** Longest backslash run read as an escape (two levels need 7 for an escaped quote inside a string). */
    static final int MAX_RUN = 16;

    private final int levels;
    private final JwkText json;
    /** Offset of the next byte to read. */
    private long pos;

    /** @param levels how many times the JSON was escaped: 1 or 2 */
    JwkEscapedText(int levels) {
        this.levels = levels;
        this.json = JwkText.escaped(levels);
    }

    void reset() {
        json.reset();
        pos = 0;
    }

    long position() {
        return pos;
    }

    /** Whether no escaped object is open: reading waits for the next opening. */
    boolean idle() {
        return json.idle();
    }

    /**
     * Reads {@code b[from, to)}, the text from offset {@link #position()} on ({@code b[0]} is offset {@code base}).
     * {@code openings} holds {@code count} pairs (offset of {@code {}, offset of the backslash after it) in increasing
     * order, for this round's bytes.
     */
    void feed(byte[] b, int from, int to, long base, long[] openings, int count, boolean complete, JwkText.Sink sink) {
        int i = from;
        int o = 0;
        while (i < to) {
            if (json.idle()) {
                long at = base + i;
                while (o < count && openings[2 * o + 1] < at) {
                    o++;
                }
                if (o == count) {
                    i = to;
                    break;
                }
                json.open(openings[2 * o], openings[2 * o + 1]);
                i = (int) (openings[2 * o + 1] - base);
                o++;
                continue;
            }
            int j = Simd.quoteOrBackslash(b, i, to);
            if (j > i) {
                json.feed(b, i, j, base, sink);
                if (json.idle()) {
                    i = (int) (json.position() - base);
                    continue;
                }
            }
            if (j == to) {
                i = to;
                break;
            }
            if (b[j] == '"') {
                json.interrupt(sink); // the string this JSON is written in ends here
                i = j + 1;
                continue;
            }
            int k = j;
            while (k < to && b[k] == '\\' && k - j <= MAX_RUN) {
                k++;
            }
            if (k - j > MAX_RUN) {
                json.interrupt(sink);
                i = k;
                continue;
            }
            int end = k + 1;
            if (k < to && b[k] == 'u') {
                end = Math.min(to, k + 5);
            }
            if (k == to || (end < k + 5 && b[k] == 'u' && !complete)) {
                i = j; // the escape goes on in the next round: read it again then
                break;
            }
            byte[] decoded = unescape(b, j, end);
            if (decoded == null) {
                json.interrupt(sink);
                i = end;
                continue;
            }
            long last = base + end - 1;
            for (int x = 0; x < decoded.length && !json.idle(); x++) {
                json.feed(decoded, x, x + 1, last - x, sink);
            }
            i = end;
        }
        pos = base + i;
    }

    /** The text ended: what is still waiting is a key. */
    void finish(JwkText.Sink sink) {
        json.finish(sink);
    }

    /** The smallest offset at which a finding not yet reported could start; {@code end} when none. */
    long frontier(long end) {
        return json.idle() ? end : Math.min(end, json.frontier(pos));
    }

    /** {@code b[from, to)} unescaped {@link #levels} times; null when a level holds an unescaped quote. */
    private byte[] unescape(byte[] b, int from, int to) {
        byte[] s = Arrays.copyOfRange(b, from, to);
        for (int l = 0; l < levels && s != null; l++) {
            s = once(s);
        }
        return s;
    }

    /** One level of JSON string escapes undone (as {@link JwkText#decode}); null at an unescaped {@code "}. */
    private static byte[] once(byte[] s) {
        for (int i = 0; i < s.length; i++) {
            if (s[i] == '\\') {
                i++;
            } else if (s[i] == '"') {
                return null;
            }
        }
        return JwkText.decode(s, s.length);
    }
}
