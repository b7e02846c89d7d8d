package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keyed hashes of found values for one tenant: HMAC-SHA256 under a key derived from the deployment's master key and
 * the tenant id, so the same value gives the same token within a tenant and unrelated tokens across tenants.
 *
 * <p>Computed by the JDK's own {@code HmacSHA256} ({@link Mac}) only: a security product does not hand-roll its
 * cryptography. Every finding is hashed for the audit log, so a hasher keeps one {@code Mac} (looked up once, when
 * the stream's hasher is made) and reuses it for every value; {@code doFinal} resets it to the key.
 */
public final class ValueHasher {
    private static final String ALGORITHM = "HmacSHA256";
    private static final HexFormat HEX = HexFormat.of();

    /** Keyed with the tenant key; reused for every value (guarded by itself: one stream uses it at a time). */
    private final Mac mac;

    private ValueHasher(Mac mac) {
        this.mac = mac;
    }

    /** A hasher for {@code tenant} (empty string when the request carries no tenant). */
    public static ValueHasher forTenant(byte[] masterKey, String tenant) {
        try {
            // One provider lookup per hasher: the same Mac derives the tenant key, then is re-keyed with it.
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(masterKey, ALGORITHM));
            byte[] tenantKey = mac.doFinal(("meshguard-dlp-tenant:" + tenant).getBytes(StandardCharsets.UTF_8));
            mac.init(new SecretKeySpec(tenantKey, ALGORITHM));
            return new ValueHasher(mac);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** A random master key, for processes started without one (tokens are then stable only until restart). */
    public static byte[] ephemeralMasterKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return key;
    }

    /** Full hex HMAC-SHA256 of the value. Safe to call from several threads (they take turns). */
    public String hex(byte[] value, int off, int len) {
        synchronized (mac) {
            return hexOf(value, off, len);
        }
    }

    /**
     * {@link #hex}, the caller holding {@link #mac}'s lock. The JDK's HMAC returns a new array whatever we call:
     * {@code doFinal(out, off)} makes it, then also asks for the digest's length again and copies the array into
     * {@code out} (~12 ns of a ~210 ns HMAC), so the array {@code doFinal()} returns is formatted as it is.
     */
    private String hexOf(byte[] value, int off, int len) {
        mac.update(value, off, len);
        return HEX.formatHex(mac.doFinal());
    }

    /**
     * {@code out[k]} = {@link #hex} of {@code b[offs[k], offs[k] + lens[k])}, for {@code k < count}. Equal values in
     * one batch are hashed once (the HMAC is a function of the value, so they get the same answer, the same string):
     * dense text repeats the same card, account or key within a few kilobytes, and each HMAC is four SHA-256
     * compressions through the JDK's {@code Mac}. Nothing is remembered past the call.
     */
    public void hex(byte[] b, int[] offs, int[] lens, int count, String[] out) {
        if (count == 0) {
            return; // most scan rounds of JSON strings and numbers: no lock taken for nothing
        }
        synchronized (mac) {
            if (count < 3) {
                for (int k = 0; k < count; k++) {
                    out[k] = hexOf(b, offs[k], lens[k]);
                }
                return;
            }
            int size = Integer.highestOneBit(count * 2 - 1) << 1; // a power of two, at least twice count
            if (slots.length < size) {
                slots = new long[size];
            }
            int stamp = ++batch;
            if (stamp == 0) { // wrapped: forget every stamp
                java.util.Arrays.fill(slots, 0);
                stamp = batch = 1;
            }
            int mask = size - 1;
            for (int k = 0; k < count; k++) {
                int off = offs[k];
                int len = lens[k];
                int slot = mix(b, off, len) & mask;
                String same = null;
                for (long e; (int) ((e = slots[slot]) >>> 32) == stamp; slot = slot + 1 & mask) {
                    int j = (int) e;
                    if (lens[j] == len && sameBytes(b, offs[j], off, len)) {
                        same = out[j];
                        break;
                    }
                }
                if (same != null) {
                    out[k] = same;
                } else {
                    out[k] = hexOf(b, off, len);
                    slots[slot] = (long) stamp << 32 | k;
                }
            }
        }
    }

    /**
     * The batch table of {@link #hex(byte[], int[], int[], int, String[])}: per slot, its batch (high half) and the
     * value's index in it (low half), one read per probe.
     */
    private long[] slots = new long[0];

    private int batch;

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /**
     * For a value of 8 to 24 bytes, the offset of the word that with the first ({@code 0}) and the last ({@code len -
     * 8}) covers every byte: at most 8, and ending at or after {@code len - 8}. The short values' fixed three reads
     * ({@link #sameBytes}, {@link #mix}, {@code Finding.codePoints}, {@code Replacements.maskAscii}) all use it.
     */
    static int middleWord(int len) {
        return (len >>> 1) - 4;
    }

    /**
     * Whether {@code b[i, i + len)} and {@code b[j, j + len)} are equal: eight bytes a step, the last word
     * overlapping the one before it ({@code Arrays.equals} of two ranges checks both and calls out for values this
     * short, and most values of a dense batch are repeats compared once each).
     */
    static boolean sameBytes(byte[] b, int i, int j, int len) {
        if (len < 8) {
            for (int k = 0; k < len; k++) {
                if (b[i + k] != b[j + k]) {
                    return false;
                }
            }
            return true;
        }
        if (len <= 24) {
            // No loop whose round count changes with the kind of value from one value to the next.
            int m = middleWord(len);
            return ((long) LONGS.get(b, i) ^ (long) LONGS.get(b, j)
                            | (long) LONGS.get(b, i + m) ^ (long) LONGS.get(b, j + m)
                            | (long) LONGS.get(b, i + len - 8) ^ (long) LONGS.get(b, j + len - 8))
                    == 0;
        }
        long diff = 0;
        for (int k = 0; k < len - 8; k += 8) {
            diff |= (long) LONGS.get(b, i + k) ^ (long) LONGS.get(b, j + k);
        }
        return (diff | (long) LONGS.get(b, i + len - 8) ^ (long) LONGS.get(b, j + len - 8)) == 0;
    }

    /**
     * A table hash of all of {@code b[off, off + len)}, eight bytes a step (the last word overlapping the one before
     * it). Not only the ends: values of one kind share them ({@code kim.minsu123@bank.co.kr} and every other
     * address of that length), and a batch's equal-looking values then all fall in one probe chain, each new one
     * compared with all before it.
     */
    static int mix(byte[] b, int off, int len) {
        long h = len * 0x9E3779B97F4A7C15L;
        int end = off + len;
        if (len >= 8 && len <= 24) {
            h = Long.rotateLeft((h ^ (long) LONGS.get(b, off)) * 0x9E3779B97F4A7C15L, 29);
            h = Long.rotateLeft((h ^ (long) LONGS.get(b, off + middleWord(len))) * 0x9E3779B97F4A7C15L, 29);
            h ^= (long) LONGS.get(b, end - 8);
        } else if (len >= 8) {
            for (int i = off; i < end - 8; i += 8) {
                h = Long.rotateLeft((h ^ (long) LONGS.get(b, i)) * 0x9E3779B97F4A7C15L, 29);
            }
            h ^= (long) LONGS.get(b, end - 8);
        } else {
            for (int i = off; i < end; i++) {
                h = h << 8 | (b[i] & 0xff);
            }
        }
        h *= 0x9E3779B97F4A7C15L;
        return (int) (h ^ h >>> 29 ^ h >>> 43);
    }
}
