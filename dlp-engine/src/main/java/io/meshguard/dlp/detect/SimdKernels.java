package io.meshguard.dlp.detect;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector forms of the scan's byte tests: each reads {@link #LANES} bytes from {@code b[i]} and answers with one
 * bit per byte (bit k for {@code b[i + k]}). Loaded only through {@link Simd}, when the incubator module is present.
 * Each kernel is a small method of its own so that the JIT inlines the whole of it and keeps the vectors in
 * registers; inlined into a large caller, a vector operation can be left as a call that boxes its operands.
 */
final class SimdKernels {
    private static final VectorSpecies<Byte> SPECIES =
            ByteVector.SPECIES_PREFERRED.length() >= 64 ? ByteVector.SPECIES_512 : ByteVector.SPECIES_256;
    static final int LANES = ByteVector.SPECIES_PREFERRED.length() >= 32 ? SPECIES.length() : 0;

    private SimdKernels() {}

    /**
     * Unsigned {@code lo <= x <= hi} on every byte: {@code x - lo}, with the sign bit flipped, below
     * {@code hi - lo + 1} as signed bytes. (One signed comparison; the unsigned ones are not in every JDK's API.)
     */
    private static long between(ByteVector x, int lo, int hi) {
        return x.sub((byte) lo)
                .lanewise(VectorOperators.XOR, (byte) 0x80)
                .compare(VectorOperators.LT, (byte) (hi - lo + 1 - 128))
                .toLong();
    }

    /** ASCII letters, either case. */
    static long asciiLetters(byte[] b, int i) {
        return between(ByteVector.fromArray(SPECIES, b, i).or((byte) 0x20), 'a', 'z');
    }

    /** UTF-8 lead bytes of multi-byte characters ({@code 0xC0-0xFF}). */
    static long leadBytes(byte[] b, int i) {
        ByteVector x = ByteVector.fromArray(SPECIES, b, i);
        return x.and((byte) 0xC0).eq((byte) 0xC0).toLong();
    }

    /** The bytes that are not {@link BuiltinRecognizer#QUIET} (as {@link BuiltinRecognizer#stops} defines them). */
    static long quietStops(byte[] b, int i) {
        ByteVector x = ByteVector.fromArray(SPECIES, b, i);
        return between(x, 0x2D, 0x3A)
                | between(x, 0x40, 0x5A)
                | x.eq((byte) '%').toLong()
                | x.eq((byte) '+').toLong()
                | x.eq((byte) '_').toLong()
                | x.eq((byte) '~').toLong();
    }

    /** {@code "} and {@code \}: where a JSON string's plain run ends. */
    static long quotesOrBackslashes(byte[] b, int i) {
        ByteVector x = ByteVector.fromArray(SPECIES, b, i);
        return x.eq((byte) '"').toLong() | x.eq((byte) '\\').toLong();
    }

    /** The bytes that start a character: not a UTF-8 continuation byte ({@code 10xxxxxx}). */
    static long charStarts(byte[] b, int i) {
        return ByteVector.fromArray(SPECIES, b, i)
                .and((byte) 0xC0)
                .compare(VectorOperators.NE, (byte) 0x80)
                .toLong();
    }

    /**
     * The bytes that may cut a context window: {@code \n \r ,} and {@code [ ] { }} (one bit, 0x20, apart: folded
     * together), as {@code WindowEdges.cutCandidates} defines them.
     */
    static long windowCuts(byte[] b, int i) {
        ByteVector x = ByteVector.fromArray(SPECIES, b, i);
        ByteVector folded = x.or((byte) 0x20);
        return x.eq((byte) '\n').toLong()
                | x.eq((byte) '\r').toLong()
                | x.eq((byte) ',').toLong()
                | folded.eq((byte) '{').toLong()
                | folded.eq((byte) '}').toLong();
    }

    /** The bytes equal to {@code v}. */
    static long equal(byte[] b, int i, byte v) {
        return ByteVector.fromArray(SPECIES, b, i).eq(v).toLong();
    }

    /** The bytes equal to one of {@code v0 v1 v2} once or-ed with {@code o0 o1 o2} (0x20 folds ASCII case). */
    static long anyOf(byte[] b, int i, byte o0, byte v0, byte o1, byte v1, byte o2, byte v2) {
        ByteVector x = ByteVector.fromArray(SPECIES, b, i);
        return x.or(o0).eq(v0).toLong()
                | x.or(o1).eq(v1).toLong()
                | x.or(o2).eq(v2).toLong();
    }

    /** {@code \n} and {@code \r}: where a line of an event stream ends. */
    static long lineEnds(byte[] b, int i) {
        ByteVector x = ByteVector.fromArray(SPECIES, b, i);
        return x.eq((byte) '\n').toLong() | x.eq((byte) '\r').toLong();
    }

    /**
     * {@link TriggerTable}'s candidate starts (see {@link TriggerNibbles}): the bytes whose start class is set, and the
     * bytes whose first class shares a bit with the next byte's second class (reads {@code b[i + LANES]}).
     */
    static long triggerStarts(byte[] b, int i, byte[] tables) {
        ByteVector x = ByteVector.fromArray(SPECIES, b, i);
        ByteVector y = ByteVector.fromArray(SPECIES, b, i + 1);
        ByteVector xLo = x.and((byte) 0x0F);
        ByteVector xHi = x.lanewise(VectorOperators.LSHR, 4);
        ByteVector start =
                lookup(tables, TriggerNibbles.START_LO, xLo).and(lookup(tables, TriggerNibbles.START_HI, xHi));
        ByteVector pair = lookup(tables, TriggerNibbles.FIRST_LO, xLo)
                .and(lookup(tables, TriggerNibbles.FIRST_HI, xHi))
                .and(lookup(tables, TriggerNibbles.SECOND_LO, y.and((byte) 0x0F)))
                .and(lookup(tables, TriggerNibbles.SECOND_HI, y.lanewise(VectorOperators.LSHR, 4)));
        return start.or(pair).compare(VectorOperators.NE, (byte) 0).toLong();
    }

    /** {@link TriggerTable}'s token bytes, as {@link TriggerNibbles}' token rectangles cover them. */
    static long triggerTokens(byte[] b, int i, byte[] tables) {
        ByteVector x = ByteVector.fromArray(SPECIES, b, i);
        return lookup(tables, TriggerNibbles.TOKEN_LO, x.and((byte) 0x0F))
                .and(lookup(tables, TriggerNibbles.TOKEN_HI, x.lanewise(VectorOperators.LSHR, 4)))
                .compare(VectorOperators.NE, (byte) 0)
                .toLong();
    }

    /** Each lane's entry of a 16-entry table ({@code nibbles} holds 0-15): one byte shuffle. */
    private static ByteVector lookup(byte[] tables, int table, ByteVector nibbles) {
        return nibbles.selectFrom(ByteVector.fromArray(SPECIES, tables, table * TriggerNibbles.TABLE));
    }
}
