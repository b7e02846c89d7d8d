package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * HMAC-SHA256 of up to sixteen short values at once, one value in each 32-bit lane of 512-bit vectors: SHA-256 as
 * FIPS 180-4 section 6.2 defines it, around it HMAC as RFC 2104 does. A value of up to {@link #MAX_VALUE} bytes
 * takes one block after the key block, and the outer hash one more, so a batch is two block compressions of sixteen
 * lanes, about what the JDK spends (with SHA-NI) on two values one at a time. Loaded only through
 * {@link ValueHasher} when the JVM has the vector module and 512-bit vectors; the tests compare every answer with
 * the JDK's {@code HmacSHA256}.
 *
 * <p>Not thread-safe: one per stream scanner, with its tenant's {@link KeyStates}.
 */
final class HmacLanes {
    static final int LANES = 16;
    /** The longest value that fits one block with its padding (64 bytes less the 0x80 byte and the bit length). */
    static final int MAX_VALUE = 55;

    private static final VectorSpecies<Integer> SPECIES = IntVector.SPECIES_512;
    private static final int[] IV = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    private static final int[] K = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /**
     * SHA-256's states after the ipad and after the opad key block, each word repeated in all lanes (row k holds
     * word k): computed once per key, shared read-only by the scanners of its streams.
     */
    record KeyStates(int[] inner, int[] outer) {}

    private final KeyStates keys;
    /** The message schedule, row t holding word t of every lane's block. */
    private final int[] w = new int[64 * LANES];
    private final int[] state = new int[8 * LANES];
    private final byte[] hex = new byte[64];

    HmacLanes(KeyStates keys) {
        this.keys = keys;
    }

    /** @param key the HMAC key, at most one block (64 bytes) */
    static KeyStates keyStates(byte[] key) {
        if (key.length > 64) {
            throw new IllegalArgumentException("an HMAC key over one block is hashed first; this one was not");
        }
        HmacLanes scratch = new HmacLanes(null);
        return new KeyStates(scratch.keyState(key, 0x36), scratch.keyState(key, 0x5c));
    }

    /** SHA-256's state after the one block {@code key ^ pad} (in every lane alike). */
    private int[] keyState(byte[] key, int pad) {
        for (int t = 0; t < 16; t++) {
            int word = 0;
            for (int k = 4 * t; k < 4 * t + 4; k++) {
                word = word << 8 | ((k < key.length ? key[k] : 0) ^ pad) & 0xff;
            }
            java.util.Arrays.fill(w, t * LANES, (t + 1) * LANES, word);
        }
        for (int k = 0; k < 8; k++) {
            java.util.Arrays.fill(state, k * LANES, (k + 1) * LANES, IV[k]);
        }
        compress();
        return state.clone();
    }

    /**
     * The hex HMACs of {@code count <= 16} values {@code b[offs[k], offs[k] + lens[k])}, each at most
     * {@link #MAX_VALUE} bytes, into {@code out[0, count)}.
     */
    void hex(byte[] b, int[] offs, int[] lens, int count, String[] out) {
        for (int lane = 0; lane < LANES; lane++) {
            // Lanes past count hash an empty value, and their answers are dropped.
            block(b, lane < count ? offs[lane] : 0, lane < count ? lens[lane] : 0, lane);
        }
        System.arraycopy(keys.inner(), 0, state, 0, state.length);
        compress();
        // The outer block: the inner digest (its state words are the digest, big-endian), then the padding of a
        // 32-byte message after one key block: 0x80, zeros, the bit length 8 * (64 + 32).
        System.arraycopy(state, 0, w, 0, 8 * LANES);
        java.util.Arrays.fill(w, 8 * LANES, 9 * LANES, 0x80000000);
        java.util.Arrays.fill(w, 9 * LANES, 15 * LANES, 0);
        java.util.Arrays.fill(w, 15 * LANES, 16 * LANES, 8 * (64 + 32));
        System.arraycopy(keys.outer(), 0, state, 0, state.length);
        compress();
        for (int lane = 0; lane < count; lane++) {
            for (int k = 0; k < 8; k++) {
                int word = state[k * LANES + lane];
                for (int d = 0; d < 8; d++) {
                    hex[8 * k + d] = HEX[word >>> (28 - 4 * d) & 0xf];
                }
            }
            out[lane] = new String(hex, StandardCharsets.ISO_8859_1);
        }
    }

    /** Writes the padded block of a value after one key block into column {@code lane} of the schedule. */
    private void block(byte[] b, int off, int len, int lane) {
        int full = len >>> 2;
        for (int t = 0; t < full; t++) {
            int p = off + 4 * t;
            w[t * LANES + lane] = (b[p] & 0xff) << 24 | (b[p + 1] & 0xff) << 16 | (b[p + 2] & 0xff) << 8
                    | b[p + 3] & 0xff;
        }
        int last = 0x80 << 24 - 8 * (len & 3); // the 0x80 byte after the value's last bytes
        for (int k = 0; k < (len & 3); k++) {
            last |= (b[off + 4 * full + k] & 0xff) << 24 - 8 * k;
        }
        w[full * LANES + lane] = last;
        for (int t = full + 1; t < 15; t++) {
            w[t * LANES + lane] = 0;
        }
        w[15 * LANES + lane] = 8 * (64 + len);
    }

    /** One SHA-256 block compression in every lane: {@link #state} updated with schedule rows 0-15. */
    private void compress() {
        final int[] w = this.w;
        for (int t = 16; t < 64; t++) {
            IntVector w2 = IntVector.fromArray(SPECIES, w, (t - 2) * LANES);
            IntVector w15 = IntVector.fromArray(SPECIES, w, (t - 15) * LANES);
            IntVector s1 = w2.lanewise(VectorOperators.ROR, 17).lanewise(VectorOperators.XOR,
                    w2.lanewise(VectorOperators.ROR, 19)).lanewise(VectorOperators.XOR,
                    w2.lanewise(VectorOperators.LSHR, 10));
            IntVector s0 = w15.lanewise(VectorOperators.ROR, 7).lanewise(VectorOperators.XOR,
                    w15.lanewise(VectorOperators.ROR, 18)).lanewise(VectorOperators.XOR,
                    w15.lanewise(VectorOperators.LSHR, 3));
            s1.add(IntVector.fromArray(SPECIES, w, (t - 7) * LANES)).add(s0)
                    .add(IntVector.fromArray(SPECIES, w, (t - 16) * LANES)).intoArray(w, t * LANES);
        }
        final int[] st = state;
        IntVector a = IntVector.fromArray(SPECIES, st, 0);
        IntVector b = IntVector.fromArray(SPECIES, st, LANES);
        IntVector c = IntVector.fromArray(SPECIES, st, 2 * LANES);
        IntVector d = IntVector.fromArray(SPECIES, st, 3 * LANES);
        IntVector e = IntVector.fromArray(SPECIES, st, 4 * LANES);
        IntVector f = IntVector.fromArray(SPECIES, st, 5 * LANES);
        IntVector g = IntVector.fromArray(SPECIES, st, 6 * LANES);
        IntVector h = IntVector.fromArray(SPECIES, st, 7 * LANES);
        for (int t = 0; t < 64; t++) {
            IntVector bigSigma1 = e.lanewise(VectorOperators.ROR, 6).lanewise(VectorOperators.XOR,
                    e.lanewise(VectorOperators.ROR, 11)).lanewise(VectorOperators.XOR,
                    e.lanewise(VectorOperators.ROR, 25));
            IntVector ch = e.and(f).lanewise(VectorOperators.XOR, g.lanewise(VectorOperators.AND_NOT, e));
            IntVector t1 = h.add(bigSigma1).add(ch).add(K[t]).add(IntVector.fromArray(SPECIES, w, t * LANES));
            IntVector bigSigma0 = a.lanewise(VectorOperators.ROR, 2).lanewise(VectorOperators.XOR,
                    a.lanewise(VectorOperators.ROR, 13)).lanewise(VectorOperators.XOR,
                    a.lanewise(VectorOperators.ROR, 22));
            IntVector maj = a.and(b).lanewise(VectorOperators.XOR, a.and(c)).lanewise(VectorOperators.XOR, b.and(c));
            h = g;
            g = f;
            f = e;
            e = d.add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.add(bigSigma0.add(maj));
        }
        a.add(IntVector.fromArray(SPECIES, st, 0)).intoArray(st, 0);
        b.add(IntVector.fromArray(SPECIES, st, LANES)).intoArray(st, LANES);
        c.add(IntVector.fromArray(SPECIES, st, 2 * LANES)).intoArray(st, 2 * LANES);
        d.add(IntVector.fromArray(SPECIES, st, 3 * LANES)).intoArray(st, 3 * LANES);
        e.add(IntVector.fromArray(SPECIES, st, 4 * LANES)).intoArray(st, 4 * LANES);
        f.add(IntVector.fromArray(SPECIES, st, 5 * LANES)).intoArray(st, 5 * LANES);
        g.add(IntVector.fromArray(SPECIES, st, 6 * LANES)).intoArray(st, 6 * LANES);
        h.add(IntVector.fromArray(SPECIES, st, 7 * LANES)).intoArray(st, 7 * LANES);
    }
}
