package io.meshguard.dlp.detect;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The private members of JSON Web Keys written in the syntaxes keys are pasted in that are not JSON: YAML (block
 * {@code kty: RSA} and {@code d: …} lines, flow {@code {kty: RSA, d: …}}), Python dict literals ({@code {'kty':
 * 'RSA', 'd': '…'}}) and JavaScript object literals with bare names ({@code {kty: "RSA", d: "…"}}).
 *
 * <p>A member is a name of {@link JwkMembers} or {@code kty}, bare or in quotes, right after the text's start, white
 * space, {@code {} or {@code ,}; then at most 2 spaces, {@code :}, white space and a value, bare or in {@code '} or
 * {@code "}, that ends at its quote or, bare, at white space, {@code ,}, <code>}</code>, {@code ;} or the text's
 * end. A name and a value both in double quotes are JSON, which {@link JwkText} reads. A private member's value is
 * reported when it is key material ({@link JwkMembers#keyMaterial}, at least {@value #MIN_VALUE} characters —
 * {@value #MIN_K} for an oct {@code k} — mixing at least two of upper case, lower case and digits or {@code -_+/}: no
 * word does) and the nearest
 * {@code kty} before it, or else the nearest after it, makes it private, standing within {@value #NEAR} input bytes
 * (the members between, such as an RSA-16384 key's {@code n}, or its {@code dp dq} in sorted order, fit). A member
 * with no such kty near is not a key — prose ("answer d: …") is not held long or changed — so here, unlike in JSON,
 * a lone private member does not fail towards a finding: without JSON's structure the kty is what says that the
 * text is a key.
 *
 * <p>Streaming and chunk-invariant: a member is read from its {@code :} when all its bytes are present (one cut by
 * the end of a round is read again in the next), and every decision compares offsets, never rounds.
 */
final class JwkLiteralText {
    /** Input bytes between a private member and the kty that makes it private. */
    static final int NEAR = 8 * 1024;
    /** Bytes before a {@code :} a name is looked for in (quote, 4 letters, quote, 2 spaces, the byte before). */
    static final int LOOK_BACK = 9;
    /** White space between {@code :} and a value. */
    private static final int MAX_SPACE = 16;

    private static final int MAX_KTY = 32;
    /** The shortest private value but an oct key's: a 256-bit EC or RSA-512 prime, 43 base64url characters. */
    static final int MIN_VALUE = 43;
    /** The shortest oct {@code k}: a 128-bit key. */
    static final int MIN_K = 22;

    private record Waiting(long start, long end, String member, byte[] value) {}

    /** The last kty read and the offset of its {@code :}. */
    private String lastKty = "";

    private long lastKtyAt = Long.MIN_VALUE / 2;
    /** Private members after which no kty has been read yet. */
    private final List<Waiting> waiting = new ArrayList<>();

    private long pos;

    void reset() {
        lastKty = "";
        lastKtyAt = Long.MIN_VALUE / 2;
        waiting.clear();
        pos = 0;
    }

    long position() {
        return pos;
    }

    /**
     * Reads {@code t}'s bytes from buffer index {@code from}, the text from offset {@link #position()} on; the search
     * for a {@code :} moves over the words the window's start map clears.
     */
    void feed(TextWindow t, int from, JwkText.Sink sink) {
        byte[] b = t.bytes();
        int to = t.length();
        long base = t.base();
        boolean complete = t.complete();
        int i = from;
        while (i < to) {
            int c = t.indexOf(i, (byte) ':', StartTable.COLONS);
            if (c == to) {
                i = to;
                break;
            }
            int next = member(b, c, to, base, complete, sink);
            if (next < 0) {
                i = c; // its value goes on in the next round: read this member again then
                break;
            }
            i = next;
        }
        pos = base + i;
        waiting.removeIf(w -> pos - w.end > NEAR); // no kty read from here on is near enough
    }

    /** The text ended: a member still waiting has no kty near and is no key. */
    void finish() {
        waiting.clear();
    }

    /** The smallest offset at which a finding not yet reported could start; {@code end} when none. */
    long frontier(long end) {
        long f = Math.min(end, pos);
        for (Waiting w : waiting) {
            f = Math.min(f, w.start);
        }
        return f;
    }

    /** The member whose {@code :} is {@code b[c]}, if it is one; where reading goes on, or -1 when undecided. */
    private int member(byte[] b, int c, int to, long base, boolean complete, JwkText.Sink sink) {
        int k = c - 1;
        for (int sp = 0; k >= 0 && sp < 2 && (b[k] == ' ' || b[k] == '\t'); sp++) {
            k--;
        }
        int q = k >= 0 && (b[k] == '\'' || b[k] == '"') ? b[k] : 0;
        if (q != 0) {
            k--;
        }
        int nameEnd = k + 1;
        while (k >= 0 && nameEnd - k <= 4 && b[k] >= 'a' && b[k] <= 'z') {
            k--;
        }
        int nameStart = k + 1;
        if (nameStart == nameEnd) {
            return c + 1;
        }
        if (q != 0) {
            if (k < 0 || b[k] != q) {
                return c + 1;
            }
            k--;
        }
        if (k >= 0 ? !boundary(b[k]) : base + k + 1 > 0) {
            return c + 1;
        }
        String name = new String(b, nameStart, nameEnd - nameStart, StandardCharsets.US_ASCII);
        boolean kty = name.equals("kty");
        if (!kty && !JwkMembers.mayBePrivate(name)) {
            return c + 1;
        }
        int v = c + 1;
        for (int sp = 0; v < to && sp < MAX_SPACE && (b[v] == ' ' || b[v] == '\t'); sp++) {
            v++;
        }
        if (v == to) {
            return complete ? c + 1 : -1;
        }
        int vq = b[v] == '\'' || b[v] == '"' ? b[v] : 0;
        if (vq != 0) {
            v++;
        }
        if (q == '"' && vq == '"') {
            return c + 1; // JSON: JwkText's
        }
        int start = v;
        int max = kty ? MAX_KTY : JwkMembers.MAX_VALUE;
        while (v < to && v - start <= max && valueByte(b[v])) {
            v++;
        }
        if (v - start > max) {
            return c + 1;
        }
        if (v == to && !complete) {
            return -1;
        }
        if (v == start) {
            return c + 1;
        }
        if (vq != 0 ? v == to || b[v] != vq : v < to && !end(b[v])) {
            return c + 1;
        }
        if (kty) {
            kty(new String(b, start, v - start, StandardCharsets.US_ASCII), base + c, sink);
        } else {
            privateMember(name, Arrays.copyOfRange(b, start, v), base + start, base + v, sink);
        }
        return v;
    }

    /** A kty: the members waiting are decided by it, the nearest after them. */
    private void kty(String type, long colon, JwkText.Sink sink) {
        lastKty = type;
        lastKtyAt = colon;
        for (Waiting w : waiting) {
            if (colon - w.end <= NEAR && JwkMembers.isPrivate(type, w.member)) {
                sink.found(w.start, w.end, w.value);
            }
        }
        waiting.clear();
    }

    private void privateMember(String name, byte[] value, long start, long end, JwkText.Sink sink) {
        if (value.length < (name.equals("k") ? MIN_K : MIN_VALUE)
                || !JwkMembers.keyMaterial(value, 0, value.length)
                || !mixed(value)) {
            return;
        }
        if (start - lastKtyAt <= NEAR && JwkMembers.isPrivate(lastKty, name)) {
            sink.found(start, end, value);
        } else {
            waiting.add(new Waiting(start, end, name, value));
        }
    }

    /** At least two of: upper case, lower case, digits and {@code -_+/}. */
    private static boolean mixed(byte[] v) {
        int upper = 0;
        int lower = 0;
        int other = 0;
        for (byte c : v) {
            if (c >= 'A' && c <= 'Z') {
                upper = 1;
            } else if (c >= 'a' && c <= 'z') {
                lower = 1;
            } else if (c != '=') {
                other = 1;
            }
        }
        return upper + lower + other >= 2;
    }

    private static boolean boundary(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '{' || c == ',';
    }

    private static boolean end(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '}' || c == ';';
    }

    private static boolean valueByte(byte c) {
        return (c >= 'A' && c <= 'Z')
                || (c >= 'a' && c <= 'z')
                || (c >= '0' && c <= '9')
                || c == '-'
                || c == '_'
                || c == '+'
                || c == '/'
                || c == '=';
    }
}
