package io.meshguard.dlp.content;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON Web Keys in a whole JSON document read by {@link JsonTokens}: which scalars are private members, and the
 * private members of keys quoted as JSON text inside a string value — a prompt that pastes a key, {@code "content":
 * "{\"kty\":\"RSA\",…,\"d\":\"…\"}"}, which a JSON pass sees as one string.
 *
 * <p>Bounded: a string is read as JSON text only when its decoded value starts (after white space) with {@code {} or
 * {@code [} and holds at most {@value #MAX_BYTES} bytes, and strings inside such text are read again down to
 * {@value #MAX_NESTING} levels; longer or deeper text is left to the text scan of the string (PEM blocks and the
 * other detectors still see it).
 */
final class NestedJwks {
    /** Longest string value read as JSON text (decoded bytes): the output behind it is held while it is read. */
    static final int MAX_BYTES = 64 * 1024;
    /** JSON text in a string in JSON text in a string … read this many levels deep. */
    static final int MAX_NESTING = 3;

    /**
     * A private member found in JSON text: its decoded value, and how many string levels deep the text sits (1: in a
     * string of the body; its replacement is JSON-escaped once per level, then once more for the body).
     */
    record Found(byte[] value, int level) {}

    private NestedJwks() {}

    /** Whether a decoded byte opens JSON text (an object or an array). */
    static boolean opensJson(byte c) {
        return c == '{' || c == '[';
    }

    /** Whether decoded bytes read as JSON text to try: an object or array first, within {@value #MAX_BYTES}. */
    static boolean looksLikeJson(byte[] v, int off, int len) {
        if (len > MAX_BYTES) {
            return false;
        }
        for (int k = off; k < off + len; k++) {
            byte c = v[k];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return opensJson(c);
            }
        }
        return false;
    }

    /** The private JWK members of the JSON text {@code doc[0, len)} and of JSON text in its strings; empty when none. */
    static List<Found> inText(byte[] doc, int len) {
        List<Found> out = new ArrayList<>(0);
        collect(doc, len, 1, out);
        return out;
    }

    private static void collect(byte[] doc, int len, int level, List<Found> out) {
        JsonTokens tokens = new JsonTokens();
        if (!tokens.read(doc, 0, len)) {
            return;
        }
        List<JsonTokens.Scalar> scalars = tokens.scalars();
        boolean[] priv = privateMembers(doc, scalars);
        List<byte[]> deeper = List.of();
        for (int k = 0; k < scalars.size(); k++) {
            JsonTokens.Scalar s = scalars.get(k);
            if (!s.string()) {
                continue;
            }
            if (priv != null && priv[k]) {
                out.add(new Found(JsonStrings.decodeBytes(doc, s.start(), s.end()), level));
            } else if (level < MAX_NESTING && s.end() > s.start()) {
                byte[] v = JsonStrings.decodeBytes(doc, s.start(), s.end());
                if (looksLikeJson(v, 0, v.length)) {
                    deeper = deeper.isEmpty() ? new ArrayList<>(1) : deeper;
                    deeper.add(v);
                }
            }
        }
        // the reader's scalars are reused by the next read: go deeper only once this level is done
        for (byte[] v : deeper) {
            collect(v, v.length, level + 1, out);
        }
    }

    /**
     * Which scalars are private members of a JSON Web Key ({@link JwkMembers}): the whole document is here, so the
     * object's kty is known whatever the member order. Null when no object has a kty and no multi-prime {@code oth}
     * member is present (most documents).
     */
    static boolean[] privateMembers(byte[] d, List<JsonTokens.Scalar> scalars) {
        Map<List<Object>, String> kty = null;
        boolean otherPrimes = false;
        for (JsonTokens.Scalar s : scalars) {
            Object[] p = s.path();
            otherPrimes |= p.length >= 3 && "oth".equals(p[p.length - 3]);
            if (s.string() && p.length > 0 && "kty".equals(p[p.length - 1])) {
                if (kty == null) {
                    kty = new HashMap<>();
                }
                kty.put(Arrays.asList(p).subList(0, p.length - 1), JsonStrings.decode(d, s.start(), s.end()));
            }
        }
        if (kty == null && !otherPrimes) {
            return null;
        }
        boolean[] out = null;
        for (int k = 0; k < scalars.size(); k++) {
            JsonTokens.Scalar s = scalars.get(k);
            Object[] p = s.path();
            if (!s.string() || p.length == 0 || !(p[p.length - 1] instanceof String m)) {
                continue;
            }
            boolean candidate;
            if (p.length >= 3 && p[p.length - 2] instanceof Integer && "oth".equals(p[p.length - 3])
                    && JwkMembers.isOtherPrimeMember(m)) {
                candidate = true; // a multi-prime RSA key's other primes: private whatever the kty says
            } else if (kty != null && JwkMembers.mayBePrivate(m)) {
                String type = kty.get(Arrays.asList(p).subList(0, p.length - 1));
                candidate = type != null && JwkMembers.isPrivate(type, m);
            } else {
                candidate = false;
            }
            if (candidate) {
                byte[] v = JsonStrings.decodeBytes(d, s.start(), s.end());
                if (JwkMembers.keyMaterial(v, 0, v.length)) {
                    out = out == null ? new boolean[scalars.size()] : out;
                    out[k] = true;
                }
            }
        }
        return out;
    }
}
