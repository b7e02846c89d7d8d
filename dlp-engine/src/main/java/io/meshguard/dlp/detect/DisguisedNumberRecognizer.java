package io.meshguard.dlp.detect;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Numbers written so that the built-in pass, which reads ASCII digits grouped by ASCII spaces and hyphens, does not
 * see them: full-width digits ({@code ５１０５}), other separators (no-break space, ideographic space, hyphens and
 * dashes, the minus sign, the full-width hyphen) and invisible characters between digits (zero-width space, joiners,
 * word joiner, byte order mark, soft hyphen). A run of such characters and ASCII digits, spaces and hyphens that holds
 * at least one non-ASCII one is rewritten to the ASCII it stands for (invisible characters dropped) and scanned by a
 * built-in pass with the numeric detectors only; what that pass finds is reported over the run's original bytes, for
 * the rule of the same detector. Runs of ASCII alone are the main built-in pass's.
 *
 * <p>A run is looked at as a whole, so one is held back until it ends. Runs longer than {@link #MAX_RUN} bytes
 * (thousands of invisible characters, say) are scanned in overlapping pieces of that size: a number spread over more
 * than {@link #OVERLAP} bytes of such a run can be missed.
 */
final class DisguisedNumberRecognizer implements Recognizer {
    static final int MAX_RUN = 4096;
    static final int OVERLAP = 512;
    /** The fewest digits any numeric detector needs (a Seoul number: 02-123-4567). */
    private static final int MIN_DIGITS = 9;

    private static final BuiltinDetector[] NUMERIC = {
        BuiltinDetector.CARD,
        BuiltinDetector.KR_RRN,
        BuiltinDetector.KR_FRN,
        BuiltinDetector.KR_PHONE,
        BuiltinDetector.KR_BRN
    };

    /** What {@link #classify} answers: the ASCII byte a character stands for (0: invisible) and its length. */
    private static final int NOT_IN_RUN = 0;

    private static final int NEED_MORE = -1;
    private static final int INVISIBLE = 0;

    /** The numeric pass as compiled: each stream takes its own at its first disguised run. */
    private final BuiltinRecognizer compiledNumbers;
    /** Lead bytes of every non-ASCII character a run may hold ({@link #LEAD}). */
    private final ByteFinder leads;

    private final int rules;
    /**
     * What scanning runs takes, made at this stream's first disguised run: most streams have none, and many are
     * short (JSON strings, small bodies), so they should not pay for it.
     */
    private RunScan runs;

    private long pos;
    /** Backward walks stop here: the restart point inside a run scanned in pieces. */
    private long floor;

    /**
     * A recognizer for the numeric detectors among {@code enabled} (mapped to their rule index), or none when there
     * is none.
     */
    static java.util.Optional<DisguisedNumberRecognizer> forDetectors(Map<BuiltinDetector, Integer> enabled) {
        Map<BuiltinDetector, Integer> numeric = new EnumMap<>(BuiltinDetector.class);
        for (BuiltinDetector d : NUMERIC) {
            if (enabled.containsKey(d)) {
                numeric.put(d, enabled.get(d));
            }
        }
        if (numeric.isEmpty()) {
            return java.util.Optional.empty();
        }
        int rules = numeric.values().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
        // Three or-mask tests, so the search runs a vector (or eight bytes) a step: 0xC0-0xDF, 0xE0-0xE3 with
        // 0xF0-0xF3, and 0xEF. Bytes it stops at that are no lead of LEAD are classified as not in a run.
        ByteFinder leads = ByteFinder.ofTests(new int[] {0xDF, 0xF3, 0xEF}, new int[] {0x1F, 0x13, 0x00})
                .onBit(StartTable.DISGUISED_LEADS);
        return java.util.Optional.of(
                new DisguisedNumberRecognizer(new BuiltinRecognizer(numeric, true, false), leads, rules));
    }

    private DisguisedNumberRecognizer(BuiltinRecognizer compiledNumbers, ByteFinder leads, int rules) {
        this.compiledNumbers = compiledNumbers;
        this.leads = leads;
        this.rules = rules;
    }

    @Override
    public DisguisedNumberRecognizer newStream() {
        return new DisguisedNumberRecognizer(compiledNumbers, leads, rules);
    }

    @Override
    public void reset() {
        pos = 0;
        floor = 0;
        if (runs != null) {
            java.util.Arrays.fill(runs.reportedTo, 0);
        }
    }

    /**
     * The character at buffer index {@code i}, if a run may hold it: the ASCII byte it stands for ({@code '0'-'9'},
     * {@code ' '}, {@code '-'}, or 0 for an invisible one) shifted left by 8, plus its length in bytes; or
     * {@link #NOT_IN_RUN}, or {@link #NEED_MORE} when its bytes have not all arrived.
     */
    static int classify(byte[] b, int i, int n, boolean complete) {
        int c = b[i] & 0xff;
        if (c < 0x80) {
            // TAB and '.' group digits too ("4532.0151.1283.0366"): read as a space.
            return (c >= '0' && c <= '9') || c == ' ' || c == '-'
                    ? c << 8 | 1
                    : c == '\t' || c == '.' ? ' ' << 8 | 1 : NOT_IN_RUN;
        }
        if (!LEAD[c]) {
            return NOT_IN_RUN;
        }
        int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (i + len > n) {
            return complete ? NOT_IN_RUN : NEED_MORE;
        }
        int cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
        for (int k = 1; k < len; k++) {
            int x = b[i + k] & 0xff;
            if ((x & 0xC0) != 0x80) {
                return NOT_IN_RUN;
            }
            cp = cp << 6 | (x & 0x3F);
        }
        int stands = standsFor(cp);
        return stands < 0 ? NOT_IN_RUN : stands << 8 | len;
    }

    /**
     * The ASCII byte code point {@code cp} stands for in a number, by its Unicode class rather than a list: a decimal
     * digit of any script (Nd: Arabic-Indic, Devanagari, full-width, mathematical digits...) is its digit, a space
     * separator (Zs: no-break, narrow no-break, figure, ideographic spaces...) a space, a dash (Pd) or the minus sign
     * a hyphen, a format character (Cf: zero-width space and joiners, LRM/RLM, U+2060-2064, BOM, soft hyphen...)
     * nothing; -1 for anything else.
     */
    static int standsFor(int cp) {
        int type = Character.getType(cp);
        if (type == Character.DECIMAL_DIGIT_NUMBER) {
            return '0' + Character.digit(cp, 10);
        }
        if (type == Character.SPACE_SEPARATOR) {
            return ' ';
        }
        if (type == Character.DASH_PUNCTUATION || cp == 0x2212) {
            return '-';
        }
        return type == Character.FORMAT ? INVISIBLE : -1;
    }

    /**
     * Lead bytes of the characters a run may hold: every two-byte character, three-byte ones from U+0800 to U+3FFF
     * (scripts with digits, the separators and format marks of U+2000-206F, the ideographic space) and from U+F000
     * (full-width forms, BOM), and four-byte ones from U+10000 to U+3FFFF (mathematical and other digits). Left
     * out: U+4000-EFFF, CJK ideographs, Yi and Hangul syllables — no separator or format mark is there, and Korean
     * prose would otherwise stop the search at almost every character. (Vai, Saurashtra, Kayah Li, Javanese, Cham
     * and Meetei Mayek digits, U+A620-ABF9, are therefore not read as digits.)
     */
    private static final boolean[] LEAD = new boolean[256];

    static {
        for (int c = 0xC2; c <= 0xE3; c++) {
            LEAD[c] = true;
        }
        LEAD[0xEF] = true;
        LEAD[0xF0] = true;
    }

    @Override
    public long scan(TextWindow t, Consumer<Candidate> out) {
        byte[] b = t.bytes();
        int n = t.length();
        long base = t.base();
        boolean complete = t.complete();
        int i = t.index(pos);
        while (true) {
            i = leads.next(t, i);
            if (i >= n) {
                break;
            }
            int c = classify(b, i, n, complete);
            if (c == NEED_MORE) {
                break;
            }
            if (c == NOT_IN_RUN) {
                i++;
                continue;
            }
            int start = runStart(b, i, (int) Math.max(0, floor - base));
            int end = runEnd(b, i, n, complete, start);
            if (end < 0) {
                // The run goes on past the bytes received: from its first digit again next round (the separators
                // and invisible characters before it belong to no number), or from the character still arriving.
                i = Math.min(firstDigit(b, start, n), partialCharStart(b, n, 0));
                break;
            }
            if (runs == null) {
                runs = new RunScan(compiledNumbers.newStream(), rules);
            }
            runs.scan(t, firstDigit(b, start, end), end, out);
            if (end - start >= MAX_RUN && end < n) {
                // A piece of a longer run: the next piece starts OVERLAP bytes back, at a character start.
                int next = end - OVERLAP;
                while ((b[next] & 0xC0) == 0x80) {
                    next++;
                }
                floor = base + next;
                i = next;
            } else {
                i = end;
            }
        }
        pos = base + i;
        if (complete) {
            return Long.MAX_VALUE;
        }
        // A run at the end of the text may still gain a disguised character: hold it back from its first digit.
        return Math.min(pos, base + trailingRunStart(b, n, (int) Math.max(0, floor - base)));
    }

    /** The first index of the run holding the character at {@code i}, not below {@code floor}. */
    private static int runStart(byte[] b, int i, int floor) {
        int s = i;
        int limit = Math.max(floor, i - MAX_RUN);
        while (s > limit) {
            int back = charBefore(b, s, limit);
            if (back == 0) {
                break;
            }
            s -= back;
        }
        return s;
    }

    /** The length of the run character that ends just before index {@code s} (starting at or after limit), or 0. */
    private static int charBefore(byte[] b, int s, int limit) {
        for (int len = 1; len <= 4 && s - len >= limit; len++) {
            int c = classify(b, s - len, s, true);
            if (c != NOT_IN_RUN && (c & 0xff) == len) {
                return len;
            }
        }
        return 0;
    }

    /**
     * The index after the run that holds the character at {@code i} and starts at {@code start}: its end, or
     * {@code start + MAX_RUN} (about) when it is longer, or -1 when the bytes received end inside it.
     */
    private static int runEnd(byte[] b, int i, int n, boolean complete, int start) {
        int e = i;
        while (e < n && e - start < MAX_RUN) {
            int c = classify(b, e, n, complete);
            if (c == NEED_MORE) {
                return -1;
            }
            if (c == NOT_IN_RUN) {
                return e;
            }
            e += c & 0xff;
        }
        return e < n || complete ? e : -1;
    }

    /** Where the run that the text ends in starts (bytes of a character not complete yet included), or {@code n}. */
    private static int trailingRunStart(byte[] b, int n, int floor) {
        int partial = partialCharStart(b, n, floor);
        return Math.min(partial, firstDigit(b, runStart(b, partial, floor), partial));
    }

    /** The start of the first bytes of a character still arriving at the end of the text, or {@code n}. */
    private static int partialCharStart(byte[] b, int n, int floor) {
        for (int k = 3; k >= 1; k--) {
            if (n - k >= floor && classify(b, n - k, n, false) == NEED_MORE) {
                return n - k;
            }
        }
        return n;
    }

    /** The first digit (ASCII or full-width) of the run characters in {@code [s, end)}, or {@code end}. */
    private static int firstDigit(byte[] b, int s, int end) {
        while (s < end) {
            int c = classify(b, s, end, true);
            int stands = c >>> 8;
            if (c == NOT_IN_RUN || (stands >= '0' && stands <= '9')) {
                return s;
            }
            s += c & 0xff;
        }
        return end;
    }

    /** One stream's numeric pass over rewritten runs, with its buffers. */
    private static final class RunScan {
        private final BuiltinRecognizer numbers;
        private final TextWindow rewritten = new TextWindow();
        private byte[] ascii = new byte[64];
        /** Per byte of {@link #ascii}: where its character starts and ends in the scanned text (buffer indexes). */
        private int[] from = new int[64];

        private int[] to = new int[64];
        /** Per rule index, the end of its last candidate reported, so that overlapping pieces report each once. */
        private final long[] reportedTo;

        private final Consumer<Candidate> collect = this::report;
        /** Set while one run's candidates are collected: the text scanned and where they go. */
        private TextWindow scanned;

        private Consumer<Candidate> out;

        RunScan(BuiltinRecognizer numbers, int rules) {
            this.numbers = numbers;
            this.reportedTo = new long[rules];
        }

        /** Rewrites the run {@code [start, end)} to ASCII and reports what the numeric pass finds in it. */
        void scan(TextWindow t, int start, int end, Consumer<Candidate> out) {
            byte[] b = t.bytes();
            boolean disguised = false;
            int digits = 0;
            int n = 0;
            ensure(end - start + 2);
            // The byte before the run, as the numeric pass would see it: an ASCII letter or digit is kept (a number
            // right after one is no number), anything else becomes a space.
            boolean alnumBefore = start > 0 && BuiltinRecognizer.alnum(b[start - 1] & 0xff);
            n = put(n, alnumBefore ? b[start - 1] : (byte) ' ', start, start);
            for (int i = start; i < end; ) {
                int c = classify(b, i, end, true);
                int len = c & 0xff;
                int stands = c >>> 8;
                disguised |= b[i] < 0;
                if (stands != INVISIBLE) {
                    digits += stands >= '0' && stands <= '9' ? 1 : 0;
                    n = put(n, (byte) stands, i, i + len);
                }
                i += len;
            }
            if (!disguised || digits < MIN_DIGITS) {
                return;
            }
            boolean alnumAfter = end < t.length() && BuiltinRecognizer.alnum(b[end] & 0xff);
            n = put(n, alnumAfter ? b[end] : (byte) ' ', end, end);
            rewritten.reset();
            rewritten.append(ascii, 0, n);
            rewritten.markComplete();
            numbers.reset();
            scanned = t;
            this.out = out;
            numbers.scan(rewritten, collect);
            scanned = null;
            this.out = null;
        }

        /** One candidate of the numeric pass, in the rewritten run's offsets: reported over the original bytes. */
        private void report(Candidate c) {
            int s = from[(int) c.start()];
            int e = to[(int) c.end() - 1];
            long base = scanned.base();
            if (base + s < reportedTo[c.detector()]) {
                return; // found already, in the piece before this one
            }
            byte[] b = scanned.bytes();
            for (int k = s; k < e; k++) {
                if (b[k] < 0) {
                    reportedTo[c.detector()] = base + e;
                    out.accept(new Candidate(c.detector(), base + s, base + e, c.confidence()));
                    return;
                }
            }
            // ASCII alone: the main built-in pass reports it.
        }

        private int put(int n, byte x, int start, int end) {
            ascii[n] = x;
            from[n] = start;
            to[n] = end;
            return n + 1;
        }

        private void ensure(int size) {
            if (ascii.length < size) {
                ascii = new byte[size];
                from = new int[size];
                to = new int[size];
            }
        }
    }

    private static boolean[] byteSet(int... values) {
        boolean[] set = new boolean[256];
        for (int v : values) {
            set[v] = true;
        }
        return set;
    }

    /** {@link #mayFind} looks only where {@code leads} stops. */
    @Override
    public boolean describeStarts(TriggerTable table) {
        leads.describeTo(table);
        return true;
    }

    @Override
    public void describeSearches(StartTable table) {
        leads.describeTo(table);
    }

    /**
     * True when the text holds a decimal digit of another script ({@link #standsFor}: Nd, any non-ASCII one). A
     * disguised number without one is written in ASCII digits, at least {@link #MIN_DIGITS} of them, for which the
     * built-in pass this one is part of already answers true; so only the characters the byte search stops at
     * ({@link #LEAD}) are classified, and texts of Hangul and CJK ideographs are not even stopped in.
     */
    @Override
    public boolean mayFind(byte[] b, int off, int len) {
        int end = off + len;
        for (int i = leads.next(b, off, end); i < end; i = leads.next(b, i + 1, end)) {
            int stands = classify(b, i, end, true) >>> 8;
            if (stands >= '0' && stands <= '9') {
                return true;
            }
        }
        return false;
    }
}
