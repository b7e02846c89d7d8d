package io.meshguard.dlp.content;

import io.meshguard.dlp.detect.JwkMembers;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The member keys of one JSON document, each decoded once: the objects of an array repeat the same few keys, and a
 * key's decoded form and its audit-location form are the same every time, so a key seen before is matched by its
 * bytes instead of being decoded and sanitized again. A small open-addressing table, emptied when it is three
 * quarters full (a document of ever new keys, such as ids used as keys, just decodes each one as before): a miss
 * costs what every key cost without the table, and a hit gives the very same strings.
 */
final class MemberKeys {
    /**
     * A member key decoded ({@code member}), as audit locations show it ({@code location}, see {@link #location}),
     * and what it names in a JSON Web Key ({@link JwkMembers}): {@code kty}, a member that may be private, a member
     * of an {@code oth} entry.
     */
    record Key(String member, String location, boolean kty, boolean mayBePrivate, boolean otherPrimeMember) {
        Key(String member, String location) {
            this(member, location, member.equals("kty"), JwkMembers.mayBePrivate(member),
                    JwkMembers.isOtherPrimeMember(member));
        }
    }

    /** No member read yet. */
    static final Key NONE = new Key("", "");
    /** A key longer than {@link io.meshguard.dlp.scan.KeyContext#MAX_KEY_BYTES}: no context, no JWK member. */
    static final Key TOO_LONG = new Key("", "*");

    private static final int SLOTS = 32;
    /** Longer keys are rare and decoded every time: the table stays small. */
    private static final int MAX_CACHED = 48;

    private byte[][] bytes;
    private int[] hashes;
    private Key[] keys;
    private int used;

    /** The key whose decoded bytes are {@code b[0, len)}. */
    Key of(byte[] b, int len) {
        if (len > MAX_CACHED) {
            return decode(b, len);
        }
        int h = len;
        for (int i = 0; i < len; i++) {
            h = 31 * h + b[i];
        }
        if (bytes == null) {
            bytes = new byte[SLOTS][];
            hashes = new int[SLOTS];
            keys = new Key[SLOTS];
        }
        int slot = (h * 0x9E3779B9) >>> 27; // the top five bits of a Fibonacci hash: one of 32 slots
        for (byte[] seen; (seen = bytes[slot]) != null; slot = (slot + 1) & (SLOTS - 1)) {
            if (hashes[slot] == h && same(seen, b, len)) {
                return keys[slot];
            }
        }
        Key k = decode(b, len);
        if (used == SLOTS * 3 / 4) {
            Arrays.fill(bytes, null);
            Arrays.fill(keys, null);
            used = 0;
            slot = (h * 0x9E3779B9) >>> 27;
        }
        bytes[slot] = Arrays.copyOf(b, len);
        hashes[slot] = h;
        keys[slot] = k;
        used++;
        return k;
    }

    /** Whether {@code seen} is {@code b[0, len)}: a plain loop, as keys are short. */
    private static boolean same(byte[] seen, byte[] b, int len) {
        if (seen.length != len) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (seen[i] != b[i]) {
                return false;
            }
        }
        return true;
    }

    /** The key {@code b[0, len)} decoded afresh. */
    static Key decode(byte[] b, int len) {
        String member = new String(b, 0, len, StandardCharsets.UTF_8);
        return new Key(member, location(member));
    }

    /** Keys go into audit locations; a key that could itself be sensitive (long, digit-heavy) is replaced by *. */
    static String location(String key) {
        if (!Locations.safeName(key)) {
            return "*";
        }
        return key.replace("~", "~0").replace("/", "~1");
    }
}
