package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keyed hashes of found values for one tenant: HMAC-SHA256 under a key derived from the deployment's master key and
 * the tenant id, so the same value gives the same token within a tenant and unrelated tokens across tenants.
 *
 * <p>Every finding is hashed for the audit log, so the hash is on the scan's hot path. HMAC is computed here as
 * RFC 2104 defines it, {@code H((K ^ opad) || H((K ^ ipad) || value))}, with the digests of the two 64-byte key
 * blocks computed once per tenant and copied per value: two SHA-256 blocks per short value instead of four.
 */
public final class ValueHasher {
    private static final int BLOCK = 64;
    private static final int DIGEST = 32;
    private static final HexFormat HEX = HexFormat.of();

    /** Whether {@link Batch} may hash in vector lanes: the JVM has the vector module and 512-bit vectors. */
    private static final boolean LANES_AVAILABLE = io.meshguard.dlp.detect.Simd.LANES >= 64;

    private final byte[] tenantKey;
    /** The key blocks' states for {@link HmacLanes}, made at the first round of lanes (a benign race). */
    private volatile HmacLanes.KeyStates laneKeys;
    private final MessageDigest innerStart;
    private final MessageDigest outerStart;

    private ValueHasher(byte[] tenantKey) {
        this.tenantKey = tenantKey;
        byte[] ipad = new byte[BLOCK];
        byte[] opad = new byte[BLOCK];
        for (int k = 0; k < BLOCK; k++) {
            byte kb = k < tenantKey.length ? tenantKey[k] : 0;
            ipad[k] = (byte) (kb ^ 0x36);
            opad[k] = (byte) (kb ^ 0x5c);
        }
        innerStart = sha256();
        innerStart.update(ipad);
        outerStart = sha256();
        outerStart.update(opad);
    }

    /** A hasher for {@code tenant} (empty string when the request carries no tenant). */
    public static ValueHasher forTenant(byte[] masterKey, String tenant) {
        return new ValueHasher(hmac(masterKey, ("meshguard-dlp-tenant:" + tenant).getBytes(StandardCharsets.UTF_8)));
    }

    /** A random master key, for processes started without one (tokens are then stable only until restart). */
    public static byte[] ephemeralMasterKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return key;
    }

    /** Full hex HMAC-SHA256 of the value. Safe to call from several threads. */
    public String hex(byte[] value, int off, int len) {
        // One array takes the inner digest, then the outer one: every finding is hashed, so no more garbage than
        // the two digest copies the precomputed key blocks need.
        byte[] d = new byte[DIGEST];
        MessageDigest inner = copy(innerStart);
        inner.update(value, off, len);
        digestInto(inner, d);
        MessageDigest outer = copy(outerStart);
        outer.update(d);
        digestInto(outer, d);
        return HEX.formatHex(d);
    }

    private HmacLanes.KeyStates laneKeys() {
        HmacLanes.KeyStates k = laneKeys;
        if (k == null) {
            k = HmacLanes.keyStates(tenantKey);
            laneKeys = k;
        }
        return k;
    }

    /** Hashes the values of one stream several at a time; one per stream scanner, not thread-safe. */
    public Batch newBatch() {
        return new Batch();
    }

    /**
     * Hex HMACs of several values at once: sixteen short values per round in the lanes of 512-bit vectors where the
     * JVM has them ({@link HmacLanes}), each value alone otherwise. The same answers either way.
     */
    public final class Batch {
        /** Fewer values than this are hashed one by one: a round of lanes costs about what four values alone do. */
        static final int MIN_LANES = 4;

        /** Made at the first round of lanes: most streams (small bodies) never need one. */
        private HmacLanes lanes;
        private final int[] laneOffs = new int[HmacLanes.LANES];
        private final int[] laneLens = new int[HmacLanes.LANES];
        private final int[] laneValue = new int[HmacLanes.LANES];
        private final String[] laneHex = new String[HmacLanes.LANES];

        private Batch() {}

        /** {@code out[k]} = {@link #hex} of {@code b[offs[k], offs[k] + lens[k])}, for {@code k < count}. */
        public void hex(byte[] b, int[] offs, int[] lens, int count, String[] out) {
            if (!LANES_AVAILABLE || count < MIN_LANES) {
                for (int k = 0; k < count; k++) {
                    out[k] = ValueHasher.this.hex(b, offs[k], lens[k]);
                }
                return;
            }
            int filled = 0;
            for (int k = 0; k < count; k++) {
                if (lens[k] > HmacLanes.MAX_VALUE) {
                    out[k] = ValueHasher.this.hex(b, offs[k], lens[k]); // a PEM key, a JWT: more blocks
                    continue;
                }
                laneOffs[filled] = offs[k];
                laneLens[filled] = lens[k];
                laneValue[filled++] = k;
                if (filled == HmacLanes.LANES) {
                    flush(b, filled, out);
                    filled = 0;
                }
            }
            if (filled > 0) {
                flush(b, filled, out);
            }
        }

        private void flush(byte[] b, int filled, String[] out) {
            if (lanes == null) {
                lanes = new HmacLanes(laneKeys());
            }
            lanes.hex(b, laneOffs, laneLens, filled, laneHex);
            for (int k = 0; k < filled; k++) {
                out[laneValue[k]] = laneHex[k];
            }
        }
    }

    private static void digestInto(MessageDigest md, byte[] out) {
        try {
            md.digest(out, 0, DIGEST);
        } catch (java.security.DigestException e) {
            throw new IllegalStateException("SHA-256 digest does not fit 32 bytes", e);
        }
    }

    private static MessageDigest copy(MessageDigest prototype) {
        try {
            return (MessageDigest) prototype.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 digest cannot be copied", e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
