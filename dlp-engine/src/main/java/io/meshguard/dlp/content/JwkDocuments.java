package io.meshguard.dlp.content;

import io.meshguard.dlp.detect.JwkMembers;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON Web Keys in a whole JSON document read by {@link JsonTokens} (an SSE event, a JSON line): which scalars are
 * private members. Keys quoted as JSON text inside a string value ({@code "content": "{\"kty\":…}"}) are found by the
 * text scan of that string ({@link io.meshguard.dlp.detect.JwkTextRecognizer}).
 */
final class JwkDocuments {
    private JwkDocuments() {}

    /**
     * Whether {@link #privateMembers} can find anything in a document with these scalars: a string member named
     * {@code kty} or a member under {@code oth}. It looks at paths and kinds only, so it holds for every document with
     * the same scalars' paths and kinds (an SSE event read by {@link JsonTokens#readLike}).
     */
    static boolean mayHavePrivateMembers(List<JsonTokens.Scalar> scalars) {
        for (JsonTokens.Scalar s : scalars) {
            Object[] p = s.path();
            if (p.length >= 3 && "oth".equals(p[p.length - 3])
                    || s.string() && p.length > 0 && "kty".equals(p[p.length - 1])) {
                return true;
            }
        }
        return false;
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
            if (p.length >= 3
                    && p[p.length - 2] instanceof Integer
                    && "oth".equals(p[p.length - 3])
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
