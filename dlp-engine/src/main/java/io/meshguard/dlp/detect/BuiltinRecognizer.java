package io.meshguard.dlp.detect;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One pass over the bytes for every built-in detector. A 256-entry class table keeps clean prose on a fast path; work
 * happens only at digit groups, token starts and ends, {@code @}, {@code ::} and PEM headers. Every attempt reads
 * through {@link TextWindow#at(int)}, so an attempt that needs bytes not yet received stops the round (the pass
 * resumes exactly there next round) and decisions never depend on chunk boundaries.
 */
public final class BuiltinRecognizer implements Recognizer {
    /** Tokens longer than this cannot hold a token-level secret or e-mail (bounds the hold-back). */
    static final int MAX_TOKEN = 8192;

    static final int MAX_PEM = 16384;
    private static final int MIN_SECRET_TOKEN = 16;
    /** The shortest IBAN (Norway). */
    private static final int MIN_IBAN = 15;

    private static final byte ALNUM = 1;
    private static final byte DIGIT = 2;
    private static final byte TOKEN = 4;
    static final byte AT = 8;
    private static final byte HEX = 16;
    private static final byte UPPER = 32;
    private static final byte NOTHEX = 64;
    private static final byte[] CLASS = new byte[256];

    static {
        for (int c = '0'; c <= '9'; c++) {
            CLASS[c] = ALNUM | DIGIT | TOKEN | HEX;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            CLASS[c] = ALNUM | TOKEN;
        }
        for (int c = 'A'; c <= 'Z'; c++) {
            CLASS[c] = ALNUM | TOKEN | UPPER;
        }
        for (int c = 'a'; c <= 'f'; c++) {
            CLASS[c] |= HEX;
            CLASS[c - 32] |= HEX;
        }
        for (char c : "._%+-/~".toCharArray()) {
            CLASS[c] = TOKEN;
        }
        CLASS['@'] = TOKEN | AT;
        for (int c = 0; c < 256; c++) {
            if ((CLASS[c] & TOKEN) != 0 && (CLASS[c] & HEX) == 0) {
                CLASS[c] |= NOTHEX;
            }
        }
    }

    /** Lower-case ASCII letters: the bulk of prose, skipped in a tight loop inside a word. */
    private static final boolean[] LOWER = new boolean[256];

    /**
     * Bytes the pass skips while no token with anything but lower-case letters is open: lower-case letters, and
     * bytes that neither belong to a token nor are {@code ':'} (spaces, most punctuation, every non-ASCII byte). A
     * word of lower-case letters alone cannot be, or end, any built-in finding (each needs a digit, an upper-case
     * letter, {@code @}, {@code _} or {@code -}), so the pass only stops at the other bytes and rebuilds the token it
     * is in from the letters just before.
     */
    static final boolean[] QUIET = new boolean[256];

    static {
        for (int c = 'a'; c <= 'z'; c++) {
            LOWER[c] = true;
        }
        for (int c = 0; c < 256; c++) {
            QUIET[c] = LOWER[c] || ((CLASS[c] & TOKEN) == 0 && c != ':');
        }
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    // hasbetween's upper bounds, ONES * (127 + 0x3B) and ONES * (127 + 0x60), written out: the products overflow a
    // signed long (the bits are what counts), which Error Prone's ConstantOverflow rightly flags in an expression
    private static final long UPTO_3A = 0xBABABABABABABABAL;
    private static final long UPTO_5F = 0xDFDFDFDFDFDFDFDFL;

    /**
     * The first index from {@code i} whose byte is not {@link #QUIET}, or {@code n}: a vector of bytes a step where
     * {@link Simd} allows, then eight.
     */
    static int skipQuiet(byte[] b, int i, int n) {
        // The vector loop in a method called only where a vector fits, for the reason ByteFinder.next gives: short
        // ranges calling it for nothing made its kernel call look cold to C2 in a JVM that also scans JSON.
        return Simd.LANES > 0 && i + Simd.LANES <= n ? skipQuietByVectors(b, i, n) : skipQuietByWords(b, i, n);
    }

    private static int skipQuietByVectors(byte[] b, int i, int n) {
        final int lanes = Simd.LANES;
        for (; i + lanes <= n; i += lanes) {
            long stops = SimdKernels.quietStops(b, i);
            if (stops != 0) {
                return i + Long.numberOfTrailingZeros(stops);
            }
        }
        return skipQuietByWords(b, i, n);
    }

    /**
     * {@link #skipQuiet} in the window {@code t} from buffer index {@code i}: where the window's start map is there
     * ({@link TextWindow#mapStarts}), over the words it clears of stops and eight bytes a step through the others.
     */
    static int skipQuiet(TextWindow t, int i) {
        return t.mapped() ? skipQuietMapped(t, i) : skipQuiet(t.bytes(), i, t.length());
    }

    private static int skipQuietMapped(TextWindow t, int i) {
        byte[] b = t.bytes();
        int n = t.length();
        while (true) {
            i = t.skip(i, StartTable.QUIET_STOPS);
            if (i + 8 > n) {
                return skipQuietByWords(b, i, n);
            }
            long stop = stops((long) LONGS.get(b, i));
            if (stop != 0) {
                return i + (Long.numberOfTrailingZeros(stop) >>> 3);
            }
            i += 8;
        }
    }

    /**
     * {@link #skipQuiet} eight bytes at a time while none of them can be a stop: every stop byte is in
     * {@code 0x25-0x3A}, {@code 0x40-0x5F} or is {@code ~}, and a word with none of those (exact range tests on 7-bit
     * bytes; bytes from 0x80 are never in them) is all quiet. Those ranges also hold quiet punctuation
     * ({@code , ' ( ) & * [ ] ^ \\}); a word that passes the cheap test is tested exactly ({@link #stops}) and the
     * pass jumps to its first stop, or on past it when there is none.
     */
    static int skipQuietByWords(byte[] b, int i, int n) {
        while (i + 8 <= n) {
            long x = (long) LONGS.get(b, i);
            long low = x & LOW7;
            long notHigh = ~x;
            // Bytes c with 0x24 < c < 0x3B, 0x3F < c < 0x60, or c == '~' (Bit Twiddling Hacks: hasbetween).
            long r1 = (UPTO_3A - low) & notHigh & (low + ONES * (127 - 0x24));
            long r2 = (UPTO_5F - low) & notHigh & (low + ONES * (127 - 0x3F));
            long t = x ^ (ONES * '~');
            long r3 = (t - ONES) & ~t;
            if (((r1 | r2 | r3) & HIGHS) != 0) {
                long stop = stops(x);
                if (stop != 0) {
                    return i + (Long.numberOfTrailingZeros(stop) >>> 3);
                }
            }
            i += 8;
        }
        while (i < n && QUIET[b[i] & 0xff]) {
            i++;
        }
        return i;
    }

    /**
     * High bit set in exactly the bytes of {@code x} that are not {@link #QUIET}: {@code 0x2D-0x3A} ({@code - . /},
     * digits, {@code :}), {@code 0x40-0x5A} ({@code @}, upper case), and {@code % + _ ~}. Per byte and without
     * carries between bytes: a 7-bit value plus at most 0x80 stays below 0x100.
     */
    static long stops(long x) {
        long low = x & LOW7;
        long ranges = ((low + ONES * (0x80 - 0x2D)) & ~(low + ONES * (0x7F - 0x3A)))
                | ((low + ONES * (0x80 - 0x40)) & ~(low + ONES * (0x7F - 0x5A)));
        long y1 = x ^ (ONES * '%');
        long y2 = x ^ (ONES * '+');
        long y3 = x ^ (ONES * '_');
        long y4 = x ^ (ONES * '~');
        // A byte of y is zero iff ((y & 0x7F) + 0x7F) | y has its high bit clear.
        long nonzero = (((y1 & LOW7) + LOW7) | y1)
                & (((y2 & LOW7) + LOW7) | y2)
                & (((y3 & LOW7) + LOW7) | y3)
                & (((y4 & LOW7) + LOW7) | y4);
        return (ranges | ~nonzero) & ~x & HIGHS;
    }

    /** No token open. */
    private static final int NONE = Integer.MIN_VALUE;

    private static final long NO_TOKEN = Long.MIN_VALUE;

    /** Per built-in detector, its rule index, or -1 when the policy does not enable it. */
    private final int[] index;

    private final long[] lastEnd = new long[BuiltinDetector.values().length];
    private final boolean numeric;
    private final boolean tokenLevel;
    private final boolean byShape;
    private final boolean skipRuns;
    /**
     * The fewest ASCII digits a complete text needs for any enabled number-based detector to report in it ({@link
     * #minDigits}); {@link Integer#MAX_VALUE} when none is enabled.
     */
    private final int minDigits;
    /** Numbers in full-width digits or with other separators or invisible characters; null without numeric ones. */
    private final DisguisedNumberRecognizer disguised;

    // Pass state carried between rounds.
    private long pos;
    private long tokenStart = NO_TOKEN;
    private int tokenFlags;

    private final char[] digits = new char[40];
    /** Made at the first secret candidate: a held stream that never meets one keeps no 1 KiB of counts. */
    private int[] entropyCounts;

    /** Scratch counts for {@link Checksums#entropyBelow}, one per stream. */
    int[] entropyCounts() {
        int[] counts = entropyCounts;
        if (counts == null) {
            counts = new int[256];
            entropyCounts = counts;
        }
        return counts;
    }

    /** @param enabled built-in detectors to report, mapped to their index in the compiled rule set */
    public BuiltinRecognizer(Map<BuiltinDetector, Integer> enabled) {
        this(enabled, true);
    }

    /**
     * @param shortcuts whether the pass takes its shortcuts: a number tried only by the validators its first digit
     *     run can match (see {@link #onNumericStart}), the card validator not inside a card already found, and a run
     *     of letters and digits inside a token skipped in one go; false tries every enabled validator at every digit
     *     run and visits every byte of a token, the plain version the tests check this one against
     */
    BuiltinRecognizer(Map<BuiltinDetector, Integer> enabled, boolean shortcuts) {
        this(enabled, shortcuts, true);
    }

    /**
     * @param disguises whether the pass also looks for numbers in disguise ({@link DisguisedNumberRecognizer}, which
     *     runs one without)
     */
    BuiltinRecognizer(Map<BuiltinDetector, Integer> enabled, boolean shortcuts, boolean disguises) {
        index = new int[BuiltinDetector.values().length];
        Arrays.fill(index, -1);
        enabled.forEach((d, i) -> index[d.ordinal()] = i);
        this.byShape = shortcuts && on(BuiltinDetector.CARD);
        this.skipRuns = shortcuts;
        this.minDigits = minDigits(enabled.keySet());
        numeric = on(BuiltinDetector.CARD)
                || on(BuiltinDetector.KR_RRN)
                || on(BuiltinDetector.KR_FRN)
                || on(BuiltinDetector.KR_PHONE)
                || on(BuiltinDetector.KR_BRN)
                || on(BuiltinDetector.IPV4);
        tokenLevel = on(BuiltinDetector.EMAIL)
                || on(BuiltinDetector.AWS_ACCESS_KEY)
                || on(BuiltinDetector.GCP_API_KEY)
                || on(BuiltinDetector.GITHUB_TOKEN)
                || on(BuiltinDetector.SLACK_TOKEN)
                || on(BuiltinDetector.STRIPE_KEY)
                || on(BuiltinDetector.JWT)
                || on(BuiltinDetector.SECRET);
        // Part of this pass rather than a recognizer of its own: the scanner's calls to its recognizers are hot,
        // and one more kind of recognizer there cost JSON documents (many short texts) 14 % instead of 8 %.
        disguised = disguises ? DisguisedNumberRecognizer.forDetectors(enabled).orElse(null) : null;
    }

    private BuiltinRecognizer(BuiltinRecognizer compiled) {
        index = compiled.index;
        numeric = compiled.numeric;
        tokenLevel = compiled.tokenLevel;
        byShape = compiled.byShape;
        skipRuns = compiled.skipRuns;
        minDigits = compiled.minDigits;
        disguised = compiled.disguised == null ? null : compiled.disguised.newStream();
    }

    @Override
    public BuiltinRecognizer newStream() {
        return new BuiltinRecognizer(this);
    }

    @Override
    public void reset() {
        pos = 0;
        tokenStart = NO_TOKEN;
        tokenFlags = 0;
        Arrays.fill(lastEnd, 0);
        walkStart = NO_WALK;
        if (disguised != null) {
            disguised.reset();
        }
    }

    /**
     * What a complete text needs before any built-in detector can report in it: a digit (every number-based
     * detector and IBAN), {@code @} (e-mail), {@code :} (IPv6), {@code +} (phone), a token of at least
     * {@value #MIN_SECRET_TOKEN} bytes (every credential and secret), or {@code -----} (PEM). Lower-case prose,
     * short words and Korean text have none of these. Digits count only from the fewest the enabled number-based
     * detectors need ({@link #minDigits}: 4 with IPv4, else 9 with phone numbers…) unless the text is long enough
     * for an IBAN.
     */
    @Override
    public boolean mayFind(byte[] b, int off, int len) {
        int digits = 0;
        int run = 0;
        int dashes = 0;
        for (int k = off; k < off + len; k++) {
            int m = MAY[b[k] & 0xff];
            if ((m & MAY_NOW) != 0) {
                return true;
            }
            digits += m & MAY_DIGIT;
            run = (run + 1) * ((m & MAY_TOKEN) >> 1); // tokens and dash runs restart at other bytes
            dashes = (dashes + 1) * ((m & MAY_DASH) >> 2);
            if (run >= MIN_SECRET_TOKEN | dashes >= 5) {
                return true;
            }
        }
        return digits >= minDigits
                || (digits > 0 && len >= MIN_IBAN)
                || (disguised != null && disguised.mayFind(b, off, len));
    }

    /**
     * The fewest ASCII digits any of {@code enabled}'s number-based detectors reads before it reports: IPv4 4 (one per
     * octet), a phone number 9 ({@link #areaLength}: a Seoul number, 02-123-4567), a business number 10
     * ({@link #BRN_SHAPE}), a card 12 (no brand is shorter, {@link Checksums#cardBrandLengths}), a registration
     * number 13. A text with fewer (a JSON id, a price, a year) gives none of them a candidate, so it is not scanned
     * for them: most numbers in API payloads are that short. IBANs, e-mail, IPv6 and tokens have their own tests.
     */
    static int minDigits(java.util.Set<BuiltinDetector> enabled) {
        int min = Integer.MAX_VALUE;
        if (enabled.contains(BuiltinDetector.IPV4)) {
            min = Math.min(min, 4);
        }
        if (enabled.contains(BuiltinDetector.KR_PHONE)) {
            min = Math.min(min, 9);
        }
        if (enabled.contains(BuiltinDetector.KR_BRN)) {
            min = Math.min(min, BRN_SHAPE[0] + BRN_SHAPE[1] + BRN_SHAPE[2]);
        }
        if (enabled.contains(BuiltinDetector.CARD)) {
            min = Math.min(min, 12);
        }
        if (enabled.contains(BuiltinDetector.KR_RRN) || enabled.contains(BuiltinDetector.KR_FRN)) {
            min = Math.min(min, 13);
        }
        return min;
    }

    /**
     * What {@link #mayFind} says true on, as bytes and a run: a digit, {@code @ : + -} (a dash counts alone, as
     * five dashes need one), a token run of {@value #MIN_SECRET_TOKEN} bytes, and the disguised digits' lead bytes.
     */
    @Override
    public boolean describeStarts(TriggerTable table) {
        boolean[] single = new boolean[256];
        boolean[] token = new boolean[256];
        for (int c = 0; c < 256; c++) {
            single[c] = (MAY[c] & (MAY_DIGIT | MAY_DASH | MAY_NOW)) != 0;
            token[c] = (MAY[c] & MAY_TOKEN) != 0;
        }
        table.single(single);
        table.run(token, MIN_SECRET_TOKEN);
        return disguised == null || disguised.describeStarts(table);
    }

    /** The quiet-byte skip, and the disguised numbers' search. */
    @Override
    public void describeSearches(StartTable table) {
        boolean[] stops = new boolean[256];
        for (int c = 0; c < 256; c++) {
            stops[c] = !QUIET[c];
        }
        table.add(StartTable.QUIET_STOPS, stops, null);
        if (disguised != null) {
            disguised.describeSearches(table);
        }
    }

    private static final int MAY_DIGIT = 1;
    private static final int MAY_TOKEN = 2;
    private static final int MAY_DASH = 4;
    private static final int MAY_NOW = 8;
    /** Per byte, for {@link #mayFind}: digit, token byte, dash, or a byte that alone may start a finding. */
    private static final byte[] MAY = new byte[256];

    static {
        for (int c = 0; c < 256; c++) {
            MAY[c] = (byte) (((CLASS[c] & DIGIT) != 0 ? MAY_DIGIT : 0)
                    | ((CLASS[c] & TOKEN) != 0 ? MAY_TOKEN : 0)
                    | (c == '-' ? MAY_DASH : 0)
                    | (c == '@' || c == ':' || c == '+' ? MAY_NOW : 0));
        }
    }

    boolean on(BuiltinDetector d) {
        return index[d.ordinal()] >= 0;
    }

    @Override
    public long scan(TextWindow t, Consumer<Candidate> out) {
        final byte[] b = t.bytes();
        final int n = t.length();
        final long base = t.base();
        int i = t.index(pos);
        // A token that started before the retained bytes is longer than MAX_TOKEN: any index that far back will do.
        int ts = tokenStart == NO_TOKEN ? NONE : (int) Math.max(tokenStart - base, -(MAX_TOKEN + 1));
        int flags = tokenFlags;
        int snapTs = ts;
        int snapFlags = flags;
        try {
            while (i < n) {
                if (ts == NONE && QUIET[b[i] & 0xff]) {
                    // Fast path. No token is open, so b[i - 1] is not a token byte and a word found below starts
                    // at or after i. (Where b[i] itself is not quiet, as at a digit group after a space, there is
                    // nothing to skip and skipQuiet's word load would be wasted.)
                    int j = skipQuiet(t, i);
                    if (j > i) {
                        int e = skipRuns ? afterWordEnd(b, n, i, j) : -1;
                        if (e >= 0) {
                            i = e;
                            continue;
                        }
                        int floor = Math.max(i, j - MAX_TOKEN - 1);
                        int k = j;
                        int acc = 0;
                        while (k > floor && LOWER[b[k - 1] & 0xff]) {
                            k--;
                            acc |= CLASS[b[k] & 0xff];
                        }
                        if (k < j) {
                            ts = k;
                            flags = acc;
                        }
                        i = j;
                        continue;
                    }
                }
                int c = b[i] & 0xff;
                int cls = CLASS[c];
                snapTs = ts;
                snapFlags = flags;
                if (skipRuns && ts == NONE && (cls & UPPER) != 0) {
                    int e = c != 'P' ? afterCapitalisedWord(b, n, i) : -1;
                    if (e < 0) {
                        e = afterShortCapitalToken(t, i, c, cls, out);
                    }
                    if (e >= 0) {
                        i = e;
                        continue;
                    }
                }
                if (skipRuns
                        && ts != NONE
                        && (cls & ALNUM) != 0
                        && ((cls & DIGIT) == 0 || i > 0 && (CLASS[b[i - 1] & 0xff] & ALNUM) != 0)) {
                    // Inside a token, a letter starts nothing (token starts are handled already), nor does a digit
                    // right after a letter or digit (a number starts only after a byte that is neither). Every byte
                    // of the run of letters and digits from here comes after a letter or digit, so the whole run (a
                    // word, a digit group, "AKIAIOSFODNN7EXAMPLE") only adds to the flags and is skipped in one go.
                    // A digit at index 0 takes the general path below, which looks before the array.
                    int acc = cls;
                    int j = i + 1;
                    while (j < n) {
                        int x = b[j] & 0xff;
                        if ((CLASS[x] & ALNUM) == 0) {
                            break;
                        }
                        acc |= CLASS[x];
                        j++;
                    }
                    flags |= acc;
                    i = j;
                    continue;
                }
                if ((cls & TOKEN) != 0) {
                    if (ts == NONE) {
                        ts = i;
                        flags = 0;
                        onTokenStart(t, i, c, cls, out);
                    }
                    flags |= cls;
                    if (numeric
                            && ((cls & DIGIT) != 0 || c == '+')
                            && (i == 0 ? !alnum(t.at(i - 1)) : (CLASS[b[i - 1] & 0xff] & ALNUM) == 0)) {
                        // The digits after this one each come after a digit: the token-run skip above would only
                        // add their class, this digit's, to the flags again. Passed over as onNumericStart measured.
                        int e = i + onNumericStart(t, i, out);
                        while (skipRuns && e + 1 < n && (CLASS[b[e + 1] & 0xff] & DIGIT) != 0) {
                            int sep = CLASS[b[e] & 0xff];
                            if ((sep & (TOKEN | ALNUM)) == TOKEN) {
                                // A token byte that is no letter or digit ("010-1234-5678", "960121-1021413",
                                // "192.168.0.1"), visited, only adds its class to the flags (no number starts at a
                                // '+' after a digit), and the digit after it starts a number: straight on, the token
                                // left open.
                                snapTs = ts;
                                snapFlags = flags | sep;
                                flags = snapFlags | CLASS[b[e + 1] & 0xff];
                            } else if (b[e] == ' ' && ts == i && (cls & DIGIT) != 0 && e - i < MIN_SECRET_TOKEN) {
                                // A token of digits alone ended by a space before the next group ("5105 1051", an
                                // IBAN's groups) reports nothing where it ends (no '@', too short for a key or a
                                // secret, no ':'), and the next digit, after a space, starts a token and a number.
                                snapTs = NONE;
                                snapFlags = 0;
                                ts = e + 1;
                                flags = cls;
                            } else {
                                break;
                            }
                            i = e + 1;
                            e = i + onNumericStart(t, i, out);
                        }
                        i = e;
                        continue;
                    }
                    i++;
                    continue;
                }
                int endedStart = ts;
                int endedFlags = flags;
                if (ts != NONE) {
                    onTokenEnd(t, ts, i, flags, out);
                    ts = NONE;
                    flags = 0;
                }
                if (c == ':' && on(BuiltinDetector.IPV6)) {
                    // IPv6 is tried where its first ':' is: from the hex group before it, or from "::".
                    if (endedStart != NONE
                            && (endedFlags & NOTHEX) == 0
                            && i - endedStart <= 4
                            && t.at(endedStart - 1) != ':') {
                        TokenStartDetectors.ipv6(this, t, endedStart, out);
                    } else if (endedStart == NONE && t.at(i - 1) != ':' && t.at(i + 1) == ':') {
                        TokenStartDetectors.ipv6(this, t, i, out);
                    }
                }
                i++;
            }
            if (t.complete() && ts != NONE) {
                onTokenEnd(t, ts, n, flags, out);
                ts = NONE;
            }
        } catch (NeedMore e) {
            ts = snapTs;
            flags = snapFlags;
        }
        pos = base + i;
        tokenStart = ts == NONE ? NO_TOKEN : base + ts;
        tokenFlags = flags;
        long frontier = base + i;
        if (ts != NONE && i - ts <= MAX_TOKEN) {
            frontier = Math.min(frontier, base + ts);
        }
        return disguised == null ? frontier : Math.min(frontier, disguised.scan(t, out));
    }

    /**
     * Bytes that end a token and start nothing: neither token bytes nor {@code :} (the quiet bytes but lower-case
     * letters). A token of letters, or of lower-case letters and a {@code .}, ended by one of these and shorter than
     * {@link #MIN_SECRET_TOKEN} reports nothing where it ends: no digit, {@code @} or {@code +} in it, no IPv6 (no
     * {@code :}), and only an e-mail (which needs {@code @}) is looked for in a token that short.
     */
    private static final boolean[] ENDS = new boolean[256];

    static {
        for (int c = 0; c < 256; c++) {
            ENDS[c] = QUIET[c] && !LOWER[c];
        }
    }

    /**
     * Where the pass goes on when the quiet-byte skip from {@code i} stopped at {@code j} at the end of a word: "word."
     * or "wordA" and then a byte of {@link #ENDS}. Such a token of letters and its last byte, shorter than any
     * token-level secret and with no {@code @}, ends at {@code j + 1} reporting nothing, so it is passed over with its
     * end byte, as the general path would end it: {@code j + 2}; -1 when the shape does not hold.
     */
    private static int afterWordEnd(byte[] b, int n, int i, int j) {
        // The byte after first: it is no ENDS byte at nearly every stop in PII-dense text (a digit group, a capital
        // token, "kim.minsu"), whatever the stop byte is, so the first test decides and is well predicted.
        return j + 1 < n
                        && ENDS[b[j + 1] & 0xff]
                        && endsWord(b[j])
                        && j + 1 - lowerRunBefore(b, i, j) < MIN_SECRET_TOKEN
                ? j + 2
                : -1;
    }

    /**
     * Where the pass goes on after the capital at {@code i} (not {@code P}) that starts a word of lower-case letters
     * ("Thank "), no token being open: no IBAN (its second letter is not a capital), no PEM or PuTTY header, so when
     * the word is shorter than any token-level secret and a byte of {@link #ENDS} ends it, past that byte; -1 when
     * the shape does not hold.
     */
    private static int afterCapitalisedWord(byte[] b, int n, int i) {
        int m = lowerRunAfter(b, i + 1, Math.min(n, i + MIN_SECRET_TOKEN));
        return m < n && m - i < MIN_SECRET_TOKEN && ENDS[b[m] & 0xff] ? m + 1 : -1;
    }

    /**
     * Where the pass goes on after the capital at {@code i} that opens a token of letters and digits ("IBAN ", "DE89 ",
     * "ID2 "), no token being open: the token start's detectors (IBAN, PEM, PuTTY) are tried there as the general
     * path tries them, a digit after a letter or digit starts no number, and a byte of {@link #ENDS} ends the token
     * shorter than any token-level secret and with no {@code @}, reporting nothing; so past that byte, or -1 when the
     * shape does not hold (nothing tried then).
     */
    private int afterShortCapitalToken(TextWindow t, int i, int c, int cls, Consumer<Candidate> out) {
        byte[] b = t.bytes();
        int stop = Math.min(t.length(), i + MIN_SECRET_TOKEN);
        int m = i + 1;
        while (m < stop && (CLASS[b[m] & 0xff] & ALNUM) != 0) {
            m++;
        }
        if (m == stop || !ENDS[b[m] & 0xff]) {
            return -1;
        }
        onTokenStart(t, i, c, cls, out);
        return m + 1;
    }

    /** Whether a token of lower-case letters may end in {@code c} and stay a word: a letter or a {@code .}. */
    private static boolean endsWord(byte c) {
        return c == '.' || (CLASS[c & 0xff] & (ALNUM | DIGIT)) == ALNUM;
    }

    /** High bit set in exactly the bytes of {@code x} in the ASCII range {@code [lo, hi]} (as {@link #stops}). */
    private static long asciiRange(long x, char lo, char hi) {
        long low = x & LOW7;
        return (low + ONES * (0x80 - lo)) & ~(low + ONES * (0x7F - hi)) & ~x & HIGHS;
    }

    /** High bit set in exactly the bytes of {@code x} that are lower-case ASCII letters. */
    private static long lowerBytes(long x) {
        return asciiRange(x, 'a', 'z');
    }

    /** High bit set in exactly the bytes of {@code x} that are not ASCII digits. */
    private static long nonDigitBytes(long x) {
        return ~asciiRange(x, '0', '9') & HIGHS;
    }

    /**
     * The run of digits from the digit at {@code i}, at most 20, eight bytes a step: the byte loop's exit, at a run
     * length that varies from one number to the next, was a mispredicted branch. {@code b} holds 24 bytes from
     * {@code i}.
     */
    static int digitRun(byte[] b, int i) {
        long other = nonDigitBytes((long) LONGS.get(b, i));
        if (other != 0) {
            return Long.numberOfTrailingZeros(other) >>> 3;
        }
        other = nonDigitBytes((long) LONGS.get(b, i + 8));
        if (other != 0) {
            return 8 + (Long.numberOfTrailingZeros(other) >>> 3);
        }
        other = nonDigitBytes((long) LONGS.get(b, i + 16));
        return other != 0 ? Math.min(20, 16 + (Long.numberOfTrailingZeros(other) >>> 3)) : 20;
    }

    /** The first index in {@code [from, stop)} whose byte is not a lower-case letter, or {@code stop}. */
    static int lowerRunAfter(byte[] b, int from, int stop) {
        int m = from;
        while (m + 8 <= stop) {
            long other = ~lowerBytes((long) LONGS.get(b, m)) & HIGHS;
            if (other != 0) {
                return m + (Long.numberOfTrailingZeros(other) >>> 3);
            }
            m += 8;
        }
        while (m < stop && LOWER[b[m] & 0xff]) {
            m++;
        }
        return m;
    }

    /**
     * The start of the run of lower-case letters that ends before {@code j}, looking back to {@code floor} and at
     * most 16 bytes (a run that long is reported as starting 16 bytes back).
     */
    static int lowerRunBefore(byte[] b, int floor, int j) {
        int k = j;
        int stop = Math.max(floor, j - 16);
        while (k - 8 >= stop) {
            long other = ~lowerBytes((long) LONGS.get(b, k - 8)) & HIGHS;
            if (other != 0) {
                return k - (Long.numberOfLeadingZeros(other) >>> 3);
            }
            k -= 8;
        }
        while (k > stop && LOWER[b[k - 1] & 0xff]) {
            k--;
        }
        return k;
    }

    void report(BuiltinDetector d, TextWindow t, int start, int end, double confidence, Consumer<Candidate> out) {
        int k = d.ordinal();
        long s = t.base() + start;
        if (s < lastEnd[k]) {
            return;
        }
        lastEnd[k] = t.base() + end;
        out.accept(new Candidate(index[k], s, t.base() + end, confidence));
    }

    // ---- token starts: IBAN, PEM, IPv6 ----

    private void onTokenStart(TextWindow t, int i, int c, int cls, Consumer<Candidate> out) {
        if ((cls & UPPER) != 0 && on(BuiltinDetector.IBAN)) {
            TokenStartDetectors.iban(this, t, i, out);
        }
        if (c == '-' && on(BuiltinDetector.PRIVATE_KEY)) {
            TokenStartDetectors.pem(this, t, i, out);
        }
        if (c == 'P' && on(BuiltinDetector.PRIVATE_KEY)) {
            TokenStartDetectors.ppk(this, t, i, out);
        }
    }

    // ---- numbers ----

    /**
     * Tries the number-based validators at the number starting at {@code i}.
     *
     * @return how many bytes from {@code i} the pass may move on: with the shortcuts, the run of digits from {@code i}
     *     as measured here (at most 20, every one a digit), else 1
     */
    private int onNumericStart(TextWindow t, int i, Consumer<Candidate> out) {
        if (t.at(i) == '+') {
            if (on(BuiltinDetector.KR_PHONE)) {
                phone(t, i, out);
            }
            return 1;
        }
        if (byShape) {
            // A card found from an earlier group start covers this one: report() would drop any card found here
            // (one detector's candidates never overlap), so the card validator is not run again inside it.
            // Nor where the last card walk shows that a walk from here could not find one (see cardRuledOut).
            // Nor where no brand's issuer prefix starts with the first digits (cardMayStart): a phone number's 0,
            // a registration number's birth year.
            if (t.base() + i >= lastEnd[BuiltinDetector.CARD.ordinal()] && cardMayStart(t, i) && !cardRuledOut(t, i)) {
                card(t, i, out);
                byShape(t, i, cardFirstRun, cardFirstRunNext, out); // the card walk measured the run
                return cardFirstRun;
            }
            int run;
            int next; // the byte after the run (a digit when the run reaches 20)
            if (i + 24 <= t.length()) {
                byte[] b = t.bytes();
                run = digitRun(b, i);
                next = b[i + Math.min(run, 19)] & 0xff;
            } else {
                run = 1;
                next = -1;
                while (run < 20 && digit(next = t.at(i + run))) {
                    run++;
                }
            }
            byShape(t, i, run, next, out);
            return run;
        }
        if (on(BuiltinDetector.CARD)) {
            card(t, i, out);
        }
        if (on(BuiltinDetector.KR_RRN) || on(BuiltinDetector.KR_FRN)) {
            registration(t, i, out);
        }
        if (on(BuiltinDetector.KR_PHONE) && t.at(i) == '0') {
            phone(t, i, out);
        }
        if (on(BuiltinDetector.KR_BRN)) {
            brn(t, i, out);
        }
        if (on(BuiltinDetector.IPV4) && t.at(i - 1) != '.') {
            ipv4(t, i, out);
        }
        return 1;
    }

    /**
     * The validators after the card's, tried only where the run of digits starting at {@code i} has a length (and
     * next byte) that each one's format needs; every other run would make it return without a finding.
     *
     * @param run the length of the run of digits at {@code i}, at most 20
     * @param next the byte after the run, or the 20th digit when the run reaches 20
     */
    private void byShape(TextWindow t, int i, int run, int next, Consumer<Candidate> out) {
        // YYMMDD-G###### or the 13 digits unbroken
        if ((run == 6 && next == '-' || run == 13) && (on(BuiltinDetector.KR_RRN) || on(BuiltinDetector.KR_FRN))) {
            registration(t, i, out);
        }
        // the area code as the first group (2 or 3 digits), or the whole number unbroken (9 to 11 digits)
        if ((run == 2 || run == 3 || run >= 9 && run <= 11) && on(BuiltinDetector.KR_PHONE) && t.at(i) == '0') {
            phone(t, i, out);
        }
        // ###-##-##### or the 10 digits unbroken
        if ((run == 3 && next == '-' || run == 10) && on(BuiltinDetector.KR_BRN)) {
            brn(t, i, out);
        }
        // a first octet of one to three digits, then a dot
        if (run <= 3 && next == '.' && on(BuiltinDetector.IPV4) && t.at(i - 1) != '.') {
            ipv4(t, i, out);
        }
    }

    private static final int[] BRN_SHAPE = {3, 2, 5};
    /** A phone number's national digits (at most 3 groups of 11 and a leading 0). */
    private final char[] phoneDigits = new char[40];

    private final int[] phoneGroups = new int[4];
    private final int[] endPos = new int[24];
    private final int[] endDigits = new int[24];

    /** What {@link #card} saw of the first run of digits, as {@link #byShape} takes it. */
    private int cardFirstRun;

    private int cardFirstRunNext;

    /**
     * The last card walk, when it stopped at a byte no walk goes on past (not a digit, space or hyphen): the
     * absolute offsets of its first digit and of that byte, the digits it counted, and {@link #endPos} (with the
     * window's base then) and {@link #endDigits} as it left them. {@link #NO_WALK} when there is none.
     */
    private long walkStart = NO_WALK;

    private long walkStop;
    private long walkBase;
    private int walkDigits;
    private int walkEnds;
    private static final long NO_WALK = Long.MIN_VALUE;
    /**
     * The digits of the last card walk, kept for {@link #cardRuledOut} (the other validators gather theirs in
     * {@link #digits}).
     */
    private final char[] cardDigits = new char[40];

    /**
     * Whether {@link #card} from {@code k} would surely report nothing because {@code k} starts a later group of the
     * last walk (the byte before it is a separator that walk crossed). A walk from {@code k} then crosses the same
     * separators (all alike, or the first walk would have stopped), stops at the same byte for the same reason,
     * reads no byte the first walk did not, and counts the first walk's digits from {@code k} on: with fewer than
     * the 12 of the shortest card number it reports nothing. So the later groups of a phone number, an IBAN or a
     * registration number are not walked again. Nor with 12 or more when those digits (still in {@link #cardDigits}
     * from {@code endDigits[e]} on) start with no card brand's prefix: the walk from {@code k} would find the same
     * brand lengths, none, and report nothing (the "0044 0532 0130 00" inside an IBAN).
     */
    private boolean cardRuledOut(TextWindow t, int k) {
        long at = t.base() + k;
        if (walkStart == NO_WALK || at <= walkStart || at >= walkStop) {
            return false;
        }
        long separator = at - 1 - walkBase;
        for (int e = 0; e < walkEnds; e++) { // (the stop byte's own end, if any, is after every group start)
            if (endPos[e] == separator) {
                int from = endDigits[e];
                int left = walkDigits - from;
                return left < 12 || Checksums.cardBrandLengths(cardDigits, from, left) == 0;
            }
        }
        return false;
    }

    /**
     * Whether {@link #card} from the digit at {@code i} may report: false when no brand's issuer prefix starts with
     * that digit and the next (or that digit alone, when the next byte is no digit). A walk from {@code i} reads its
     * first digits from there, so it would find no brand lengths and report nothing; skipping it leaves the last
     * walk's state (see {@link #cardRuledOut}) as it was, which only describes that walk's own bytes.
     */
    private static boolean cardMayStart(TextWindow t, int i) {
        int next = t.at(i + 1);
        return Checksums.mayStartCard(t.at(i) - '0', digit(next) ? next - '0' : -1);
    }

    private void card(TextWindow t, int i, Consumer<Candidate> out) {
        int nd = 0;
        int sep = -1;
        int j = i;
        int ends = 0;
        int c;
        cardFirstRun = 0;
        while (true) {
            c = t.at(j);
            if (digit(c)) {
                if (nd == 19) {
                    if (cardFirstRun == 0) {
                        cardFirstRun = 20;
                        cardFirstRunNext = c;
                    }
                    break; // a longer run is not a card number
                }
                cardDigits[nd++] = (char) c;
                j++;
                continue;
            }
            if (cardFirstRun == 0) {
                cardFirstRun = j - i;
                cardFirstRunNext = c;
            }
            if (!alpha(c)) {
                endPos[ends] = j;
                endDigits[ends++] = nd;
            }
            // One separator kind between groups: a space, a hyphen, a dot or a TAB ("4532.0151.1283.0366").
            if ((c == ' ' || c == '-' || c == '.' || c == '\t')
                    && (sep < 0 || sep == c)
                    && digit(t.at(j + 1))
                    && ends > 0
                    && endPos[ends - 1] == j) {
                sep = c;
                j++;
                continue;
            }
            break;
        }
        walkStart = digit(c) || c == ' ' || c == '-' || c == '.' || c == '\t' ? NO_WALK : t.base() + i;
        walkStop = t.base() + j;
        walkBase = t.base();
        walkDigits = nd;
        walkEnds = ends;
        // The brand first: most digit runs fail its prefix and length test, which is cheaper than Luhn. Every end
        // shares the first digits, so the brand's lengths are worked out once (no brand has fewer than 12 digits).
        int lengths = nd >= 12 ? Checksums.cardBrandLengths(cardDigits, nd) : 0;
        for (int k = ends - 1; k >= 0; k--) {
            int len = endDigits[k];
            if (Checksums.hasLength(lengths, len) && Checksums.luhn(cardDigits, len)) {
                report(BuiltinDetector.CARD, t, i, endPos[k], sep < 0 ? 0.7 : 0.8, out);
                return;
            }
        }
    }

    private void registration(TextWindow t, int i, Consumer<Candidate> out) {
        int j = i;
        for (int k = 0; k < 6; k++) {
            int c = t.at(j++);
            if (!digit(c)) {
                return;
            }
            digits[k] = (char) c;
        }
        boolean hyphen = t.at(j) == '-';
        if (hyphen) {
            j++;
        }
        for (int k = 6; k < 13; k++) {
            int c = t.at(j++);
            if (!digit(c)) {
                return;
            }
            digits[k] = (char) c;
        }
        if (alnum(t.at(j)) || (t.at(j) == '-' && digit(t.at(j + 1)))) {
            return;
        }
        if (!Checksums.krRegistrationDate(digits)) {
            return;
        }
        int g = digits[6] - '0';
        BuiltinDetector kind = g <= 4 ? BuiltinDetector.KR_RRN : BuiltinDetector.KR_FRN;
        if (!on(kind)) {
            return;
        }
        double confidence = hyphen ? 0.6 : 0.4;
        if (kind == BuiltinDetector.KR_RRN && Checksums.krRrnChecksum(digits)) {
            confidence += 0.3;
        }
        report(kind, t, i, j, confidence, out);
    }

    private void phone(TextWindow t, int i, Consumer<Candidate> out) {
        int j = i;
        int nn = 0; // national digits collected in phoneDigits
        boolean international = false;
        if (t.at(j) == '+') {
            if (t.at(j + 1) != '8' || t.at(j + 2) != '2') {
                return;
            }
            j += 3;
            int c = t.at(j);
            if (c == ' ' || c == '-') {
                j++;
            }
            if (t.at(j) == '0') {
                j++; // "+82 010-..." is common in practice
            }
            phoneDigits[nn++] = '0';
            international = true;
        }
        int[] groupLen = phoneGroups;
        int groups = 0;
        int sep = -1;
        while (true) {
            int g = 0;
            int c;
            while (digit(c = t.at(j))) {
                phoneDigits[nn++] = (char) c;
                j++;
                if (++g > 11) {
                    return;
                }
            }
            if (g == 0) {
                return;
            }
            groupLen[groups++] = g;
            if (groups == 3) {
                break;
            }
            if ((c == '-' || c == ' ' || c == '.' || c == ')')
                    && (sep < 0 || sep == c || c == ')')
                    && digit(t.at(j + 1))) {
                sep = c == ')' ? sep : c;
                j++;
                continue;
            }
            break;
        }
        int next = t.at(j);
        if (alnum(next) || ((next == '-' || next == '.') && digit(t.at(j + 1)))) {
            return;
        }
        int area = areaLength(phoneDigits, nn);
        if (area == 0) {
            return;
        }
        int rest = nn - area;
        if (rest < 7 || rest > 8) {
            return;
        }
        if (groups > 1) {
            int first = groupLen[0] + (international ? 1 : 0);
            if (groups != 3 || first != area || groupLen[2] != 4) {
                return;
            }
        }
        boolean mobile = phoneDigits[0] == '0' && phoneDigits[1] == '1';
        double confidence = groups == 1 ? 0.4 : (mobile || international ? 0.7 : 0.6);
        report(BuiltinDetector.KR_PHONE, t, i, j, confidence, out);
    }

    /** Length of the Korean area or mobile prefix (with the leading 0), or 0 when not a Korean number. */
    private static int areaLength(char[] d, int len) {
        if (len < 9 || d[0] != '0') {
            return 0;
        }
        char c1 = d[1];
        char c2 = d[2];
        if (c1 == '1' && "016789".indexOf(c2) >= 0) {
            return 3;
        }
        if (c1 == '2') {
            return 2;
        }
        if (c1 >= '3' && c1 <= '6' && c2 >= '1' && c2 <= '5') {
            return 3;
        }
        if (c1 == '7' && c2 == '0') {
            return 3;
        }
        return 0;
    }

    private void brn(TextWindow t, int i, Consumer<Candidate> out) {
        int j = i;
        int nd = 0;
        boolean hyphens = true;
        for (int g = 0; g < 3; g++) {
            for (int k = 0; k < BRN_SHAPE[g]; k++) {
                int c = t.at(j++);
                if (!digit(c)) {
                    return;
                }
                digits[nd++] = (char) c;
            }
            if (g < 2) {
                if (t.at(j) == '-') {
                    if (!hyphens || (g == 1 && nd != 5)) {
                        return;
                    }
                    j++;
                } else {
                    if (g == 0) {
                        hyphens = false;
                    } else if (hyphens) {
                        return;
                    }
                }
            }
        }
        int next = t.at(j);
        if (alnum(next) || (next == '-' && digit(t.at(j + 1)))) {
            return;
        }
        if (!Checksums.krBrnChecksum(digits)) {
            return;
        }
        report(BuiltinDetector.KR_BRN, t, i, j, hyphens ? 0.7 : 0.3, out);
    }

    private void ipv4(TextWindow t, int i, Consumer<Candidate> out) {
        int j = i;
        for (int octet = 0; octet < 4; octet++) {
            int v = 0;
            int nd = 0;
            int first = t.at(j);
            while (digit(t.at(j))) {
                v = v * 10 + (t.at(j) - '0');
                j++;
                if (++nd > 3) {
                    return;
                }
            }
            if (nd == 0 || v > 255 || (nd > 1 && first == '0')) {
                return;
            }
            if (octet < 3) {
                if (t.at(j) != '.') {
                    return;
                }
                j++;
            }
        }
        int next = t.at(j);
        if (alnum(next) || ((next == '.' || next == '-') && alnum(t.at(j + 1)))) {
            return;
        }
        report(BuiltinDetector.IPV4, t, i, j, 0.6, out);
    }

    // ---- token ends: e-mail and credentials ({@link CredentialDetectors}) ----

    private void onTokenEnd(TextWindow t, int ts, int te, int flags, Consumer<Candidate> out) {
        if (!tokenLevel || te - ts > MAX_TOKEN) {
            return;
        }
        byte[] b = t.bytes();
        if ((flags & AT) != 0 && on(BuiltinDetector.EMAIL)) {
            CredentialDetectors.email(this, t, b, ts, te, out);
        }
        if (te - ts < MIN_SECRET_TOKEN) {
            return;
        }
        for (int k = ts; k < te; k++) {
            int c = b[k];
            boolean boundary = k == ts || !alnum(b[k - 1] & 0xff);
            if (!boundary) {
                continue;
            }
            switch (c) {
                case 'A' -> {
                    CredentialDetectors.awsKey(this, t, b, k, te, out);
                    CredentialDetectors.fixed(
                            this, t, b, k, te, "AIza", 35, true, BuiltinDetector.GCP_API_KEY, 0.9, out);
                }
                case 'g' -> {
                    for (String p : CredentialDetectors.GITHUB_PREFIXES) {
                        CredentialDetectors.fixed(
                                this, t, b, k, te, p, 36, false, BuiltinDetector.GITHUB_TOKEN, 0.95, out);
                    }
                    CredentialDetectors.fixed(
                            this, t, b, k, te, "github_pat_", 82, true, BuiltinDetector.GITHUB_TOKEN, 0.95, out);
                }
                case 'x' -> CredentialDetectors.slack(this, t, b, k, te, out);
                case 's', 'r' -> CredentialDetectors.stripe(this, t, b, k, te, out);
                case 'e' -> CredentialDetectors.jwt(this, t, b, k, te, out);
                default -> {}
            }
        }
        if (on(BuiltinDetector.SECRET)) {
            CredentialDetectors.secret(this, t, b, ts, te, flags, out);
        }
    }

    // ---- helpers ----

    /** Whether {@code b[k, k + lit.length)} is {@code lit}; the caller knows those bytes are in the array. */
    static boolean startsWith(byte[] b, int k, byte[] lit) {
        for (int m = 0; m < lit.length; m++) {
            if (b[k + m] != lit[m]) {
                return false;
            }
        }
        return true;
    }

    static boolean startsWithAny(byte[] b, int k, byte[][] lits) {
        for (byte[] lit : lits) {
            if (startsWith(b, k, lit)) {
                return true;
            }
        }
        return false;
    }

    static boolean literal(TextWindow t, int i, byte[] lit) {
        for (int k = 0; k < lit.length; k++) {
            if (t.at(i + k) != lit[k]) {
                return false;
            }
        }
        return true;
    }

    static boolean digit(int c) {
        return c >= '0' && c <= '9';
    }

    static boolean alpha(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    static boolean alnum(int c) {
        return c >= 0 && (CLASS[c] & ALNUM) != 0;
    }

    static boolean hex(int c) {
        return c >= 0 && (CLASS[c] & HEX) != 0;
    }

    static boolean localChar(int c) {
        return alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
    }

    static boolean domainChar(int c) {
        return alnum(c) || c == '.' || c == '-';
    }
}
