package io.meshguard.dlp.content;

import io.meshguard.dlp.detect.JwkMembers;
import io.meshguard.dlp.scan.ScanRules;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The member keys of one JSON document, each decoded once: the objects of an array repeat the same few keys, and a
 * key's decoded form and its audit-location form are the same every time, so a key seen before is matched by its
 * bytes instead of being decoded and sanitized again. A small open-addressing table, emptied when it is three
 * quarters full (a document of ever new keys, such as ids used as keys, just decodes each one as before): a miss
 * costs what every key cost without the table, and a hit gives the very same strings. Each cached key also knows
 * whether its bytes, as a whole text, could hold a finding ({@link Key#quiet}), so a repeated unescaped key is
 * neither decoded nor tested again.
 */
final class MemberKeys {
    /**
     * A member key decoded ({@code member}), as audit locations show it ({@code location}, see {@link #location}),
     * and what it names in a JSON Web Key ({@link JwkMembers}): {@code kty}, a member that may be private, a member
     * of an {@code oth} entry.
     */
    record Key(
            String member,
            String location,
            boolean kty,
            boolean mayBePrivate,
            boolean otherPrimeMember,
            boolean quiet) {
        Key(String member, String location) {
            this(
                    member,
                    location,
                    member.equals("kty"),
                    JwkMembers.mayBePrivate(member),
                    JwkMembers.isOtherPrimeMember(member),
                    false);
        }

        /** This key, known to be a text no recognizer could find anything in ({@link ScanRules#mayFind} false). */
        Key asQuiet() {
            return new Key(member, location, kty, mayBePrivate, otherPrimeMember, true);
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
    private final ScanRules rules;

    MemberKeys(ScanRules rules) {
        this.rules = rules;
    }

    /** The key whose decoded bytes are {@code b[off, off + len)}. */
    Key of(byte[] b, int off, int len) {
        if (len > MAX_CACHED) {
            return decode(b, off, len);
        }
        int h = len;
        for (int i = off; i < off + len; i++) {
            h = 31 * h + b[i];
        }
        if (bytes == null) {
            bytes = new byte[SLOTS][];
            hashes = new int[SLOTS];
            keys = new Key[SLOTS];
        }
        int slot = (h * 0x9E3779B9) >>> 27; // the top five bits of a Fibonacci hash: one of 32 slots
        for (byte[] seen; (seen = bytes[slot]) != null; slot = (slot + 1) & (SLOTS - 1)) {
            if (hashes[slot] == h && same(seen, b, off, len)) {
                return keys[slot];
            }
        }
        Key k = decode(b, off, len);
        if (!rules.mayFind(b, off, len)) {
            k = k.asQuiet();
        }
        if (used == SLOTS * 3 / 4) {
            Arrays.fill(bytes, null);
            Arrays.fill(keys, null);
            used = 0;
            slot = (h * 0x9E3779B9) >>> 27;
        }
        bytes[slot] = Arrays.copyOfRange(b, off, off + len);
        hashes[slot] = h;
        keys[slot] = k;
        used++;
        return k;
    }

    /** Whether {@code seen} is {@code b[off, off + len)}: a plain loop, as keys are short. */
    private static boolean same(byte[] seen, byte[] b, int off, int len) {
        if (seen.length != len) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (seen[i] != b[off + i]) {
                return false;
            }
        }
        return true;
    }

    /** The key {@code b[off, off + len)} decoded afresh. */
    static Key decode(byte[] b, int off, int len) {
        String member = new String(b, off, len, StandardCharsets.UTF_8);
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
