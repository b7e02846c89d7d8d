package io.meshguard.dlp.scan;

import io.meshguard.dlp.detect.Candidate;
import io.meshguard.dlp.detect.Recognizer;
import io.meshguard.dlp.detect.Simd;
import io.meshguard.dlp.detect.StartTable;
import io.meshguard.dlp.detect.TextWindow;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Scans one text stream fed in arbitrary chunks and hands decisions to a {@link ScanOutput} as soon as they are
 * final. It holds back only what could still change: from the earliest place a match could start (each recognizer's
 * frontier) or a found match still waiting for the words after it, cut at a UTF-8 character boundary. The output is
 * byte-identical however the input was chunked.
 *
 * <p>Overlapping findings that change the text (mask, redact, hash, block) become one finding over the union of
 * their spans, with the strongest action (block before the others) and, among equals, the action of the most
 * confident, then longest, then earliest, then first in policy order: no byte of either finding is left in clear.
 * Overlapping alerts only are resolved by that order alone (an alert changes nothing).
 *
 * <p>Context words count only within the finding's line and JSON value: the windows stop at a line break, at
 * {@code { } [ ]} and at a {@code ,} followed by a {@code "} (see {@link #lineBefore}). A negative word never drops a
 * checksum-valid finding (card, IBAN, business number, a pattern with such a validator) whose action masks, redacts,
 * hashes or blocks, unless it is in a structured label directly before the value ({@link #labelStart}).
 */
public final class StreamScanner {
    /** By start, then end: written out, as it runs for every candidate. */
    private static final Comparator<Pending> BY_START = (a, b) -> a.start != b.start ? Long.compare(a.start, b.start)
            : Long.compare(a.end, b.end);
    /** Most confident, then longest, then earliest, then first in policy order. */
    private static final Comparator<Pending> BY_PRIORITY = (a, b) -> comparePriority(a, a.confidence, b,
            b.confidence);

    private final ScanRules rules;
    private List<Recognizer> recognizers;
    private final ValueHasher hasher;
    private String[] hashes = new String[16];
    private int[] valueOffs = new int[16];
    private int[] valueLens = new int[16];
    private final ScanOutput out;
    private final TextWindow text = new TextWindow();
    private final int leftContext;
    private final List<Pending> pending = new ArrayList<>();
    private final List<Pending> resolved = new ArrayList<>();
    private long emitted;
    private boolean blocked;
    private boolean finished;
    private long findings;
    private final AllowList[] allowLists;
    private final Replacements[] replacements;
    /** Each rule by index: one array read per candidate. */
    private final DetectorRule[] ruleAt;
    private final ContextWords contextWords;
    private final ContextIndex contextIndex;
    /** Per rule index: whether its findings passed a check digit ({@link ScanRules#checksummedArray}). */
    private final boolean[] checksummed;
    private final java.util.function.Consumer<Candidate> collect = c -> pending.add(new Pending(c));
    /**
     * Per rule, the boost word that {@link #boostWordJustBefore} found last, or -1: tried first (each kind of value in
     * a text tends to follow the same word), so that the look-up compares one word, not a different number of them
     * for each kind. Which word settles it changes no answer.
     */
    private final int[] lastBoostWord;
    /** Findings scored by {@link #boostRightBefore} (the tests check that their texts reach it). */
    private long boostShortcuts;
    /** Candidates dropped by {@link #outranked}. */
    private long outrankedSkips;
    /** The shortcuts this scanner takes (the tests turn each off to compare with the plain form). */
    private final Shortcuts shortcuts;
    /** The JSON key whose value this text is ({@link #context}), empty for none. */
    private String key = "";
    /** {@link ContextWords#keyFlags} of {@link #key}, worked out at the first finding that needs it. */
    private int[] keyFlags;
    /**
     * The recognizers' searches, for one start map per round ({@link TextWindow#mapStarts}); null when the searches
     * run a vector a step, which already tests every search's starts in a few operations per vector.
     */
    private final StartTable startTable;
    /**
     * The fewest new bytes a round maps: below, each search's own word loop is over before a map would pay for itself
     * (JSON keys and values, SSE tokens).
     */
    private static final int MIN_MAPPED = 256;
    /**
     * Where the last round's frontier was: no recognizer's search resumes before it, so the map starts there (one that
     * did would only not be helped: {@link TextWindow#skip} moves over no unmapped byte).
     */
    private long lastFrontier;
    /**
     * Where {@link #boostRightBefore} found that the candidate being scored has no pair of its rule's words in {@code
     * [noPairFrom, s)} ({@link ContextWords#noneIn}), or -1: when its window's part before the value is that same
     * range (an ASCII one, most), {@link #windowFound} tests only the part after it, not the bytes before it again.
     */
    private int noPairFrom = -1;

    private static final class Pending {
        final int detector;
        final long start;
        final long end;
        double confidence;
        boolean scored;

        Pending(Candidate c) {
            detector = c.detector();
            start = c.start();
            end = c.end();
            confidence = c.confidence();
        }

        /** A scored finding of {@code p}'s detector over {@code [start, end)}. */
        Pending(Pending p, long start, long end) {
            detector = p.detector;
            this.start = start;
            this.end = end;
            confidence = p.confidence;
            scored = true;
        }
    }

    public StreamScanner(ScanRules rules, ValueHasher hasher, ScanOutput out) {
        this(rules, hasher, out, Shortcuts.ALL);
    }

    /**
     * Which of the scanner's shortcuts it takes: all of them ({@link Shortcuts#ALL}), but in the tests that compare
     * each with the plain form.
     *
     * @param startMaps each round classifies the window's words once for every recognizer's search ({@link
     *     TextWindow#mapStarts}); false, each search looks at every word itself
     * @param boostWord a boost word right before a value settles its score ({@link #boostRightBefore}); false, every
     *     finding's window is walked
     * @param lazyIndex the context index covers only the windows that scoring asks for, and not those that hold
     *     none of the rule's words' first two bytes ({@link ContextWords#noneIn}); false, all the text is indexed at
     *     each round and every window looked up
     * @param skipOutranked a candidate that a scored finding over all its bytes outranks whatever its own score is
     *     dropped unscored ({@link #outranked}); false, every candidate is scored
     */
    record Shortcuts(boolean startMaps, boolean boostWord, boolean lazyIndex, boolean skipOutranked) {
        /** What the server runs: start maps on the portable path only (the vector searches need none). */
        static final Shortcuts ALL = new Shortcuts(Simd.LANES == 0, true, true, true);
    }

    /** A scanner that takes {@code shortcuts}. */
    StreamScanner(ScanRules rules, ValueHasher hasher, ScanOutput out, Shortcuts shortcuts) {
        this.shortcuts = shortcuts;
        this.rules = rules;
        this.startTable = shortcuts.startMaps() ? rules.startTable() : null;
        this.recognizers = rules.newRecognizers();
        this.hasher = hasher;
        this.out = out;
        this.allowLists = rules.newAllowLists();
        this.replacements = rules.replacements();
        this.ruleAt = rules.ruleArray();
        this.contextWords = rules.contextWords();
        this.contextIndex = new ContextIndex(contextWords);
        this.lastBoostWord = new int[contextWords.wanted.length];
        java.util.Arrays.fill(lastBoostWord, -1);
        this.checksummed = rules.checksummedArray();
        int lookBehind = 8;
        for (Recognizer r : recognizers) {
            lookBehind = Math.max(lookBehind, r.lookBehind());
        }
        this.leftContext = Math.max(lookBehind, rules.maxContextChars() * 4 + 8);
    }

    /** Starts a new, independent text (reuses buffers; JSON strings and form fields are scanned one by one). */
    public void reset() {
        for (Recognizer r : recognizers) {
            r.reset();
        }
        text.reset();
        contextIndex.reset();
        pending.clear();
        resolved.clear();
        emitted = 0;
        blocked = false;
        finished = false;
        key = "";
        keyFlags = null;
        lastFrontier = 0;
    }

    /**
     * The JSON key (decoded) whose value the text since the last {@link #reset} is: it is context for findings whose
     * window reaches the value's start (the same window a text scan of {@code "key": "value"} would see), and a
     * structured label for a finding right at the value's start. Cleared by {@link #reset}.
     */
    public void context(String key) {
        this.key = key;
        this.keyFlags = null;
    }

    /** Adds bytes of the stream. */
    public void feed(byte[] bytes, int off, int len) {
        if (blocked || finished) {
            return;
        }
        if (len > 0) {
            text.append(bytes, off, len);
        }
        process();
    }

    /**
     * A whole text in one call: the same as {@link #feed} then {@link #finish}, in one scan round, and without any
     * scan when no recognizer could find anything in it ({@link ScanRules#mayFind}).
     */
    public void feedAll(byte[] bytes, int off, int len) {
        if (blocked || finished) {
            finished = true;
            return;
        }
        boolean fresh = text.base() + text.length() == 0;
        if (len > 0) {
            text.append(bytes, off, len);
        }
        text.markComplete();
        if (fresh && !rules.mayFind(bytes, off, len)) {
            passTo(len);
        } else {
            process();
        }
        finished = true;
    }

    /** The stream ended: decides and emits everything held back. */
    public void finish() {
        if (blocked || finished) {
            finished = true;
            return;
        }
        text.markComplete();
        process();
        finished = true;
    }

    public boolean blocked() {
        return blocked;
    }

    /** Bytes received but not yet decided. */
    public long heldBack() {
        return text.base() + text.length() - emitted;
    }

    /** Offset up to which output has been produced. */
    public long emitted() {
        return emitted;
    }

    public long findings() {
        return findings;
    }

    /** Findings whose context {@link #boostRightBefore} settled without walking their window. */
    long boostShortcuts() {
        return boostShortcuts;
    }

    /** Candidates dropped unscored by {@link #outranked} (the tests check that their texts reach it). */
    long outrankedSkips() {
        return outrankedSkips;
    }

    private void process() {
        long end = text.base() + text.length();
        long frontier = end;
        int mapFrom = text.index(Math.max(lastFrontier, text.base()));
        if (startTable != null && text.length() - mapFrom >= MIN_MAPPED) {
            text.mapStarts(startTable, mapFrom);
        }
        for (Recognizer r : recognizers) {
            frontier = Math.min(frontier, r.scan(text, collect));
        }
        lastFrontier = frontier;
        if (text.complete()) {
            frontier = end;
        }
        if (!shortcuts.lazyIndex() && (!pending.isEmpty() || text.complete())) {
            contextIndex.index(text);
        }
        // In order of start: each window's words are indexed when it is scored (ContextIndex#cover), in one run.
        pending.sort(BY_START);
        int kept = 0;
        for (int k = 0; k < pending.size(); k++) {
            Pending p = pending.get(k);
            if (!p.scored && kept > 0 && shortcuts.skipOutranked() && outranked(pending.get(kept - 1), p)) {
                outrankedSkips++;
            } else if (p.scored || !score(p)) {
                pending.set(kept++, p);
            }
        }
        pending.subList(kept, pending.size()).clear();
        long limit = frontier;
        int idx = 0;
        while (idx < pending.size()) {
            Pending first = pending.get(idx);
            if (first.start >= limit) {
                break;
            }
            int j = idx;
            long maxEnd = first.end;
            boolean allScored = first.scored;
            while (j + 1 < pending.size() && pending.get(j + 1).start < maxEnd) {
                j++;
                maxEnd = Math.max(maxEnd, pending.get(j).end);
                allScored &= pending.get(j).scored;
            }
            if (!allScored || maxEnd > frontier) {
                limit = first.start;
                break;
            }
            resolve(idx, j + 1);
            idx = j + 1;
        }
        pending.subList(0, idx).clear();
        if (limit < end) {
            while (limit > emitted && (text.at(text.index(limit)) & 0xC0) == 0x80) {
                limit--;
            }
        }
        emit(limit);
        text.discardBefore(Math.max(text.base(), emitted - leftContext));
        contextIndex.discardBefore(text.base());
    }

    /** Scores a candidate once the words after it are present; returns true when it is dropped. */
    private boolean score(Pending p) {
        DetectorRule rule = ruleAt[p.detector];
        ContextRule ctx = rule.context();
        byte[] b = text.bytes();
        int s = text.index(p.start);
        int e = text.index(p.end);
        int n = text.length();
        int wanted = contextWords.wanted[p.detector];
        if (wanted != 0) {
            int within = ctx.within();
            int found;
            noPairFrom = -1;
            if (boostRightBefore(p.detector, rule, b, s, within)) {
                found = ContextWords.BOOST;
                boostShortcuts++;
            } else {
                found = windowFound(p.detector, rule, b, s, e, n, within);
            }
            if (found < 0) {
                return false;
            }
            p.confidence = scoredConfidence(p.confidence, ctx, found);
        }
        p.scored = true;
        if (p.confidence + 1e-9 < rule.minConfidence()) {
            return true;
        }
        return allowLists[p.detector].allowed(b, s, e);
    }

    /** A candidate's confidence {@code c} after its window gave {@code found} (BOOST, PENALTY, both or neither). */
    private static double scoredConfidence(double c, ContextRule ctx, int found) {
        double delta = 0;
        if ((found & ContextWords.BOOST) != 0) {
            delta += ctx.boost();
        }
        if ((found & ContextWords.PENALTY) != 0) {
            delta -= ctx.penalty();
        }
        return Math.max(0, Math.min(1, c + delta));
    }

    /**
     * Whether unscored candidate {@code p} leaves no trace in the output whatever its score: {@code q}, scored and
     * kept, covers all of {@code p}'s bytes and changes the text, so {@link #resolve} puts them in one cluster and
     * writes out one finding over their union (which {@code p} does not widen), and {@code p} cannot be that
     * finding: an alert never is, and a change loses to {@code q} at every confidence its window could give it (and
     * is no block beside a {@code q} that is none). Dropping {@code p} unscored then gives what scoring it gives, and
     * skips its window: the {@code secret} candidate over an AWS key ("key AKIA…", no boost word before either) is
     * one in six values of dense text.
     */
    private boolean outranked(Pending q, Pending p) {
        if (!q.scored || q.start > p.start || p.end > q.end || p.start >= p.end) {
            return false;
        }
        ActionKind qKind = ruleAt[q.detector].action().kind();
        ActionKind pKind = ruleAt[p.detector].action().kind();
        if (qKind == ActionKind.ALERT) {
            return false;
        }
        if (pKind == ActionKind.ALERT) {
            return true;
        }
        if (pKind == ActionKind.BLOCK && qKind != ActionKind.BLOCK) {
            return false;
        }
        if (contextWords.wanted[p.detector] == 0) {
            return comparePriority(q, q.confidence, p, p.confidence) < 0;
        }
        ContextRule ctx = ruleAt[p.detector].context();
        for (int found = 0; found <= (ContextWords.BOOST | ContextWords.PENALTY); found++) {
            if (comparePriority(q, q.confidence, p, scoredConfidence(p.confidence, ctx, found)) >= 0) {
                return false;
            }
        }
        return true;
    }

    /** {@link #BY_PRIORITY} of {@code a} and {@code b} at confidences {@code ca} and {@code cb}. */
    private static int comparePriority(Pending a, double ca, Pending b, double cb) {
        int c = Double.compare(-ca, -cb);
        if (c == 0) {
            c = Long.compare(-(a.end - a.start), -(b.end - b.start));
        }
        if (c == 0) {
            c = Long.compare(a.start, b.start);
        }
        return c != 0 ? c : Integer.compare(a.detector, b.detector);
    }

    /**
     * Whether a boost word settles a finding at buffer index {@code s} without walking its window: rule
     * {@code detector} looks for nothing but boost words here (a penalty word would not count: see
     * {@link #windowFound}), and the index holds one of them within {@code within} bytes before the value, with no
     * line cut between it and the value and no letter against it. {@code within} bytes hold at most {@code within}
     * characters, so the word lies in the window however it is walked ({@code "card 5105 1051 0510 5100"},
     * {@code "tel 010-…"}: most findings in dense text). Then the walks of both sides, the window's lookups and the
     * label test are skipped, and the answer is BOOST, as {@link #windowFound} gives. Not for JSON values (the key
     * counts too).
     */
    private boolean boostRightBefore(int detector, DetectorRule rule, byte[] b, int s, int within) {
        if (!key.isEmpty() || within <= 0 || s == 0 || !shortcuts.boostWord()) {
            return false;
        }
        int wanted = contextWords.wanted[detector];
        if ((wanted & ContextWords.PENALTY) != 0 && !(checksummed[detector]
                && rule.action().kind() != ActionKind.ALERT && labelStart(b, 0, s) < 0)) {
            // A penalty word could count: only the whole window tells. (With no label even back to the buffer's
            // start there is none in any window, and without one a penalty word does not lower this finding.)
            return false;
        }
        int from = Math.max(0, s - within);
        if (boostWordJustBefore(detector, b, from, s)) {
            // Only spaces between the word and the value, and the word holds no cut nor comma: nothing to walk.
            return true;
        }
        // With no trace of a boost word in [from, s), the index has nothing to find there.
        if (shortcuts.lazyIndex() && contextWords.noneIn(detector, b, from, s, s, s)) {
            noPairFrom = from;
            return false;
        }
        contextIndex.cover(text, from, s);
        int word = contextIndex.lastBoostWord(detector, text, from, s);
        if (word < 0) {
            return false;
        }
        for (int i = word; i < s; i++) {
            if (breaks(b[i]) || b[i] == ',') { // a cut (or a comma that may be one) between the word and the value
                return false;
            }
        }
        return true;
    }

    /**
     * Whether one of rule {@code detector}'s boost words ends right before the value at buffer index {@code s}, only
     * spaces between, and starts at or after {@code from} (with no letter right before it, if ASCII): a word that
     * settles the shortcut as one {@link ContextIndex#lastBoostWord} answers does, found without the index
     * ({@code "tel 010-…"}), so that the text before most values need not be indexed. Only words that hold no cut nor
     * comma ({@link ContextWords#uncutBoostWords}): then no byte from the word to the value cuts, and the shortcut's
     * walk over them is not needed (a loop of a different length for each kind of value: 2-4 % of a dense pass); a
     * word that holds one is left to the index.
     */
    private boolean boostWordJustBefore(int detector, byte[] b, int from, int s) {
        int end = s;
        while (end > from && b[end - 1] == ' ') {
            end--;
        }
        if (end - from >= 2 && !contextWords.mayEndUncutBoost(detector, b[end - 2], b[end - 1])) {
            return false; // most values of dense text: no word to compare
        }
        int last = lastBoostWord[detector];
        if (last >= 0 && boostWordEndsAt(last, b, from, end)) {
            return true;
        }
        for (int w : contextWords.uncutBoostWords[detector]) {
            if (w != last && boostWordEndsAt(w, b, from, end)) {
                lastBoostWord[detector] = w;
                return true;
            }
        }
        return false;
    }

    /** Whether boost word {@code w} ends at {@code end} and starts at or after {@code from}, no letter against it. */
    private boolean boostWordEndsAt(int w, byte[] b, int from, int end) {
        int p = end - contextWords.words[w].length;
        return p >= from && contextWords.endsAtInSteps(w, b, end)
                && (!contextWords.ascii[w] || p == 0 || !ContextIndex.letter(b[p - 1]));
    }

    /**
     * {@link ContextWords#BOOST} and {@link ContextWords#PENALTY} as the window around buffer indexes {@code [s, e)}
     * gives them to rule {@code detector}: its {@code within} characters each side, cut at a line or structure
     * break; or -1 when the window has not all arrived and the bytes present do not settle it.
     */
    private int windowFound(int detector, DetectorRule rule, byte[] b, int s, int e, int n, int within) {
        // `within` characters each side. The walks go eight bytes at a time whether the window is ASCII or not:
        // a test for an ASCII window first would branch differently from one finding to the next in mixed text.
        int after = charsAfter(b, e, n, within);
        if (after == n && !text.complete()) {
            // The walk ran out of bytes inside the window's last character: where it ends is not known yet (a chunk
            // may end inside "화", and the window cut there would miss "전화").
            after = -1;
        }
        if (after < 0) {
            // Not all of the window has arrived; a line or structure break already in it settles it (the same
            // answer the whole window gives, since the window stops at its first break).
            int brk = firstBreak(b, e, n);
            if (brk < n) {
                after = brk;
            } else if (!text.complete()) {
                return -1;
            } else {
                after = n;
            }
        }
        int widest = charsBefore(b, s, within);
        int before = widest;
        int found;
        // No word of the rule can be in a window with no trace of one ("key AKIA…" among words that hold no "aws"
        // nor "access"): the index would find nothing, so it is not built there. With no trace even in the window
        // before its line cuts narrow it (most windows), the cuts need not be found either.
        if (shortcuts.lazyIndex() && (noPairFrom == widest ? contextWords.noneIn(detector, b, s, s, e, after)
                : contextWords.noneIn(detector, b, widest, s, e, after))) {
            found = 0;
            if (!key.isEmpty()) {
                before = lineBefore(b, widest, s);
            }
        } else {
            after = lineAfter(b, e, after);
            before = lineBefore(b, widest, s);
            found = shortcuts.lazyIndex() && contextWords.noneIn(detector, b, before, s, e, after) ? 0
                    : indexFound(detector, rule, b, before, s, e, after);
        }
        if (!key.isEmpty() && text.base() + before == 0) {
            found |= keyFound(detector, rule, b, s);
        }
        return found;
    }

    /** What the context index finds in the window {@code [before, s) + [e, after)} for rule {@code detector}. */
    private int indexFound(int detector, DetectorRule rule, byte[] b, int before, int s, int e, int after) {
        contextIndex.cover(text, before, after);
        int found = contextIndex.found(detector, text, before, s, e, after);
        if ((found & ContextWords.PENALTY) != 0 && checksummed[detector]
                && rule.action().kind() != ActionKind.ALERT) {
            // A word the sender chose must not unmask a number whose check digit holds: only a structured label
            // right before the value ("Order ID: ", "order_id": ) may lower it.
            int label = labelStart(b, before, s);
            if (label < 0 || (contextIndex.found(detector, text, label, labelEnd, labelEnd, labelEnd)
                    & ContextWords.PENALTY) == 0) {
                found &= ~ContextWords.PENALTY;
            }
        }
        return found;
    }

    /**
     * What the value's key says about a finding of rule {@code detector} at buffer index {@code s} whose window reaches
     * the value's start. A negative word in the key lowers a checksum-valid finding that masks or blocks only when the
     * finding starts the value (after spaces): then the key is the structured label directly before it.
     */
    private int keyFound(int detector, DetectorRule rule, byte[] b, int s) {
        if (keyFlags == null) {
            keyFlags = contextWords.keyFlags(KeyContext.words(key));
        }
        int k = keyFlags[detector];
        if ((k & ContextWords.PENALTY) != 0 && checksummed[detector] && rule.action().kind() != ActionKind.ALERT) {
            for (int i = 0; i < s; i++) {
                if (b[i] != ' ' && b[i] != '\t') {
                    return k & ~ContextWords.PENALTY;
                }
            }
        }
        return k;
    }

    /** Whether byte {@code c} ends a context window by itself: a line break or a JSON structure character. */
    static boolean breaks(int c) {
        return c == '\n' || c == '\r' || c == '{' || c == '}' || c == '[' || c == ']';
    }

    /** The first index in {@code [from, to)} whose byte {@link #breaks}, or {@code to}. */
    private static int firstBreak(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (breaks(b[i])) {
                return i;
            }
        }
        return to;
    }

    /**
     * Whether the comma at {@code i} separates JSON members or elements: the next byte that is not a space or TAB,
     * before {@code to}, is a quote.
     */
    private static boolean memberComma(byte[] b, int i, int to) {
        if (b[i] != ',') {
            return false;
        }
        for (int k = i + 1; k < to; k++) {
            if (b[k] != ' ' && b[k] != '\t') {
                return b[k] == '"';
            }
        }
        return false;
    }

    /**
     * The after-window {@code [e, after)} cut at its first line break, structure character or member comma. Eight
     * bytes a step: every finding's window is cut, in dense text the windows are most of the text, and the byte loop
     * ({@link #lineAfterByBytes}, the tests' second opinion) tested seven values per byte.
     */
    static int lineAfter(byte[] b, int e, int after) {
        return lineAfter(b, e, after, VECTORS);
    }

    /**
     * {@link #lineAfter}, a vector a step first when {@code vectors}: one step covers a whole ASCII window of 32
     * characters. A vector may read past {@code after} (never past the array): those bytes' bits are cleared.
     */
    static int lineAfter(byte[] b, int e, int after, boolean vectors) {
        return vectors ? lineAfterByVectors(b, e, after) : lineAfterFrom(b, e, after);
    }

    private static int lineAfterByVectors(byte[] b, int e, int after) {
        final int lanes = Simd.LANES;
        int i = e;
        for (; i < after && i + lanes <= b.length; i += lanes) {
            long hit = Simd.windowCuts(b, i);
            if (after - i < lanes) {
                hit &= (1L << (after - i)) - 1;
            }
            for (; hit != 0; hit &= hit - 1) {
                int at = i + Long.numberOfTrailingZeros(hit);
                if (b[at] != ',' || memberComma(b, at, after)) {
                    return at;
                }
            }
        }
        return i >= after ? after : lineAfterFrom(b, i, after);
    }

    /** {@link #lineAfter} eight bytes a step from {@code i}, the bytes from {@code e} to it known to hold no cut. */
    private static int lineAfterFrom(byte[] b, int i, int after) {
        for (; i + 8 <= after; i += 8) {
            for (long hit = cutCandidates((long) LONGS.get(b, i)); hit != 0; hit &= hit - 1) {
                int at = i + (Long.numberOfTrailingZeros(hit) >>> 3);
                if (b[at] != ',' || memberComma(b, at, after)) {
                    return at;
                }
            }
        }
        for (; i < after; i++) {
            if (breaks(b[i]) || memberComma(b, i, after)) {
                return i;
            }
        }
        return after;
    }

    /**
     * The before-window {@code [before, s)} cut after its last line break, structure character or member comma;
     * eight bytes a step, from the end (see {@link #lineAfter}).
     */
    static int lineBefore(byte[] b, int before, int s) {
        return lineBefore(b, before, s, VECTORS);
    }

    /** {@link #lineBefore}, a vector a step first when {@code vectors} (as {@link #lineAfter} with vectors). */
    static int lineBefore(byte[] b, int before, int s, boolean vectors) {
        return vectors ? lineBeforeByVectors(b, before, s) : lineBeforeFrom(b, before, s, s);
    }

    private static int lineBeforeByVectors(byte[] b, int before, int s) {
        final int lanes = Simd.LANES;
        int q = s; // bytes below q are still to look at
        for (; q > before && q - lanes >= 0; q -= lanes) {
            int lo = q - lanes;
            long hit = Simd.windowCuts(b, lo);
            if (lo < before) {
                hit &= -1L << (before - lo);
            }
            for (; hit != 0; hit &= ~Long.highestOneBit(hit)) {
                int at = lo + 63 - Long.numberOfLeadingZeros(hit);
                if (b[at] != ',' || memberComma(b, at, s)) {
                    return at + 1;
                }
            }
        }
        return q <= before ? before : lineBeforeFrom(b, before, q, s);
    }

    /**
     * {@link #lineBefore} eight bytes a step below {@code q}, the bytes from {@code q} to {@code s} known to hold no
     * cut.
     */
    private static int lineBeforeFrom(byte[] b, int before, int q, int s) {
        for (; q - 8 >= before; q -= 8) {
            for (long hit = cutCandidates((long) LONGS.get(b, q - 8)); hit != 0; hit &= ~Long.highestOneBit(hit)) {
                int at = q - 8 + ((63 - Long.numberOfLeadingZeros(hit)) >>> 3);
                if (b[at] != ',' || memberComma(b, at, s)) {
                    return at + 1;
                }
            }
        }
        for (int i = q - 1; i >= before; i--) {
            if (breaks(b[i]) || memberComma(b, i, s)) {
                return i + 1;
            }
        }
        return before;
    }

    /** {@link #lineAfter} one byte at a time: what the word steps must answer. */
    static int lineAfterByBytes(byte[] b, int e, int after) {
        for (int i = e; i < after; i++) {
            if (breaks(b[i]) || memberComma(b, i, after)) {
                return i;
            }
        }
        return after;
    }

    /** {@link #lineBefore} one byte at a time: what the word steps must answer. */
    static int lineBeforeByBytes(byte[] b, int before, int s) {
        for (int i = s - 1; i >= before; i--) {
            if (breaks(b[i]) || memberComma(b, i, s)) {
                return i + 1;
            }
        }
        return before;
    }

    private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;

    /** The high bit of each byte of {@code x} that is zero; exact for every byte (no borrow between bytes). */
    static long zeros(long x) {
        return ~((x & LOW7) + LOW7 | x | LOW7);
    }

    /**
     * The high bit of each byte of {@code x} that is a {@link #breaks} byte or a comma (which cuts only as a member
     * comma: the caller asks {@link #memberComma}). {@code [ ]} and {@code { }} differ only in the 0x20 bit.
     */
    private static long cutCandidates(long x) {
        long folded = x | ONES * 0x20;
        return zeros(x ^ ONES * '\n') | zeros(x ^ ONES * '\r') | zeros(x ^ ONES * ',')
                | zeros(folded ^ ONES * '{') | zeros(folded ^ ONES * '}');
    }

    /** Where {@link #labelStart}'s label ends (exclusive): valid only after it answered. */
    private int labelEnd;

    /**
     * The start of a structured label directly before the value at {@code s} (not before {@code before}), or -1.
     * A label is: up to 48 bytes of letters (any script), digits, spaces, {@code _ - .}, optionally in quotes (a JSON
     * key), then {@code :}, {@code #} or {@code =}, then only spaces, TABs and at most one opening quote up to the
     * value. {@code Order ID: 4532…}, {@code "order_id": "4532…"}, {@code IMEI=35…}, {@code 송장번호: …} have one;
     * {@code order 4532…} and {@code my order is 4532…} have none. Sets {@link #labelEnd}.
     */
    private int labelStart(byte[] b, int before, int s) {
        int q = s;
        while (q > before && (b[q - 1] == ' ' || b[q - 1] == '\t')) {
            q--;
        }
        if (q > before && (b[q - 1] == '"' || b[q - 1] == '\'')) {
            q--;
        }
        while (q > before && (b[q - 1] == ' ' || b[q - 1] == '\t')) {
            q--;
        }
        if (q <= before || (b[q - 1] != ':' && b[q - 1] != '#' && b[q - 1] != '=')) {
            return -1;
        }
        q--;
        while (q > before && b[q - 1] == ' ') {
            q--;
        }
        if (q > before && (b[q - 1] == '"' || b[q - 1] == '\'')) {
            q--;
        }
        int end = q;
        int limit = Math.max(before, end - 48);
        while (q > limit && labelByte(b[q - 1])) {
            q--;
        }
        if (q == end) {
            return -1;
        }
        labelEnd = end;
        return q;
    }

    private static boolean labelByte(byte x) {
        return x < 0 || (x >= 'a' && x <= 'z') || (x >= 'A' && x <= 'Z') || (x >= '0' && x <= '9') || x == ' '
                || x == '_' || x == '-' || x == '.';
    }

    private static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
            long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    private static final long HIGH = 0x8080808080808080L;

    /** The high bit of each byte of {@code x} that starts a character (is not a UTF-8 continuation byte). */
    private static long charStarts(long x) {
        return ~(x & ~(x << 1)) & HIGH;
    }

    /**
     * The byte index (0-7) of the {@code k}-th lowest flag ({@code 1 <= k <= bitCount}) in {@code starts}, which has
     * at most the high bit of each byte set. Multiplying the flags, moved to each byte's low bit, by 0x0101...01
     * leaves in every byte the number of flags up to it (at most 8, no carry); the first byte whose count reaches
     * {@code k} is the answer, found with one more addition per byte. No branch and no bit deposit (PDEP is
     * microcoded and slow on some x86 CPUs still in service).
     */
    static int nthStart(long starts, int k) {
        long upTo = (starts >>> 7) * ONES;
        long reached = (upTo + ONES * (0x80 - k)) & HIGH;
        return Long.numberOfTrailingZeros(reached) >>> 3;
    }

    private static final long ONES = 0x0101010101010101L;

    /** Whether the window walks take a vector of bytes a step first ({@link Simd#LANES}). */
    private static final boolean VECTORS = Simd.LANES > 0;

    /**
     * The bit index of the {@code k}-th lowest set bit of {@code m} ({@code 1 <= k <= bitCount(m)}), without a loop
     * of {@code k} rounds and without a bit deposit (see {@link #nthStart}): the set bits per byte (the classic
     * population count's first three steps), summed up to each byte by one multiplication (at most 64: no carry),
     * give the byte holding it; {@link #NTH_IN_BYTE} gives the bit within that byte.
     */
    static int nthSetBit(long m, int k) {
        long x = m - (m >>> 1 & 0x5555555555555555L);
        x = (x & 0x3333333333333333L) + (x >>> 2 & 0x3333333333333333L);
        x = (x + (x >>> 4)) & 0x0F0F0F0F0F0F0F0FL;
        long upTo = x * ONES;
        int at = Long.numberOfTrailingZeros((upTo + ONES * (0x80 - k)) & HIGH) & ~7;
        int below = (int) (upTo << 8 >>> at) & 0xFF; // the set bits in the bytes below (0 for the lowest byte)
        return at + NTH_IN_BYTE[((int) (m >>> at) & 0xFF) << 3 | (k - below - 1)];
    }

    /** {@code NTH_IN_BYTE[v << 3 | j]}: the bit index of the (j + 1)-th lowest set bit of byte {@code v}. */
    private static final byte[] NTH_IN_BYTE = new byte[256 * 8];

    static {
        for (int v = 0; v < 256; v++) {
            int j = 0;
            for (int bit = 0; bit < 8; bit++) {
                if ((v & 1 << bit) != 0) {
                    NTH_IN_BYTE[v << 3 | j++] = (byte) bit;
                }
            }
        }
    }

    /**
     * The end of the {@code within} characters after buffer index {@code e} (the index of the {@code within}-th
     * character start after it), or -1 when fewer than {@code within} characters follow in {@code b[e, n)} (the
     * last, possibly partial, one counted): the walk one character at a time, eight bytes at a time where whole.
     */
    static int charsAfter(byte[] b, int e, int n, int within) {
        return charsAfter(b, e, n, within, VECTORS);
    }

    /**
     * {@link #charsAfter}, a vector a step first when {@code vectors}: a vector may read past {@code n} (never past
     * the array); those bytes' bits are cleared.
     */
    static int charsAfter(byte[] b, int e, int n, int within, boolean vectors) {
        if (within <= 0 || e >= n) {
            return within <= 0 ? e : -1;
        }
        return vectors ? charsAfterByVectors(b, e + 1, n, within) : charsAfterFrom(b, e + 1, n, within);
    }

    private static int charsAfterByVectors(byte[] b, int q, int n, int need) {
        final int lanes = Simd.LANES;
        for (; q < n && q + lanes <= b.length; q += lanes) {
            long starts = Simd.charStarts(b, q);
            if (n - q < lanes) {
                starts &= (1L << (n - q)) - 1;
            }
            int c = Long.bitCount(starts);
            if (c >= need) {
                return q + nthSetBit(starts, need);
            }
            need -= c;
        }
        if (q >= n) {
            return need == 1 ? n : -1;
        }
        return charsAfterFrom(b, q, n, need);
    }

    /** {@link #charsAfter} eight bytes a step from {@code q}, {@code need} characters still to count. */
    private static int charsAfterFrom(byte[] b, int q, int n, int need) {
        for (; q + 8 <= n; q += 8) {
            long starts = charStarts((long) LONGS.get(b, q));
            int c = Long.bitCount(starts);
            if (c >= need) {
                // The need-th lowest start picked without a loop of as many rounds as characters are left (which
                // ends at a different round for every window).
                return q + nthStart(starts, need);
            }
            need -= c;
        }
        for (; q < n; q++) {
            if ((b[q] & 0xC0) != 0x80 && --need == 0) {
                return q;
            }
        }
        // The walk reaches n with one more character counted (the bytes after the last start found).
        return need == 1 ? n : -1;
    }

    /**
     * The start of the {@code within} characters before buffer index {@code s}: the {@code within}-th character
     * start below it, or 0 when there are fewer (index 0 counts as a start).
     */
    static int charsBefore(byte[] b, int s, int within) {
        return charsBefore(b, s, within, VECTORS);
    }

    /** {@link #charsBefore}, a vector a step first when {@code vectors}. */
    static int charsBefore(byte[] b, int s, int within, boolean vectors) {
        if (within <= 0 || s <= 0) {
            return s;
        }
        return vectors ? charsBeforeByVectors(b, s - 1, within) : charsBeforeFrom(b, s - 1, within);
    }

    private static int charsBeforeByVectors(byte[] b, int q, int need) {
        final int lanes = Simd.LANES;
        // Index 0 is not counted (the walk answers 0 when it runs out): its bit is cleared.
        for (; q >= 1 && q - lanes + 1 >= 0; q -= lanes) {
            int lo = q - lanes + 1;
            long starts = Simd.charStarts(b, lo);
            if (lo == 0) {
                starts &= ~1L;
            }
            int c = Long.bitCount(starts);
            if (c >= need) {
                // The need-th highest start is the (c - need + 1)-th lowest.
                return lo + nthSetBit(starts, c - need + 1);
            }
            need -= c;
        }
        return q < 1 ? 0 : charsBeforeFrom(b, q, need);
    }

    /**
     * {@link #charsBefore} eight bytes a step from the highest index not yet looked at, {@code q}, {@code need}
     * characters still to count.
     */
    private static int charsBeforeFrom(byte[] b, int q, int need) {
        for (; q - 7 >= 1; q -= 8) {
            long starts = charStarts((long) LONGS.get(b, q - 7));
            int c = Long.bitCount(starts);
            if (c >= need) {
                // The need-th highest start is the (c - need + 1)-th lowest.
                return q - 7 + nthStart(starts, c - need + 1);
            }
            need -= c;
        }
        for (; q > 0; q--) {
            if ((b[q] & 0xC0) != 0x80 && --need == 0) {
                return q;
            }
        }
        return 0;
    }

    /** Decides the overlapping candidates {@code pending[from, to)}. */
    private void resolve(int from, int to) {
        if (to - from == 1) {
            resolved.add(pending.get(from)); // most clusters: one candidate, and no view of the list made for it
            return;
        }
        List<Pending> byPriority = new ArrayList<>(pending.subList(from, to));
        byPriority.sort(BY_PRIORITY);
        // Findings that change the text: one over the union of their spans, so that no part of any is left in clear
        // (dropping the shorter or less confident one would pass part of an IBAN that a card number overlaps).
        Pending strongest = null;
        long unionStart = Long.MAX_VALUE;
        long unionEnd = Long.MIN_VALUE;
        for (Pending p : byPriority) {
            ActionKind kind = ruleAt[p.detector].action().kind();
            if (kind == ActionKind.ALERT) {
                continue;
            }
            if (strongest == null || (kind == ActionKind.BLOCK
                    && ruleAt[strongest.detector].action().kind() != ActionKind.BLOCK)) {
                strongest = p;
            }
            unionStart = Math.min(unionStart, p.start);
            unionEnd = Math.max(unionEnd, p.end);
        }
        List<Pending> winners = new ArrayList<>();
        if (strongest != null) {
            winners.add(strongest.start == unionStart && strongest.end == unionEnd ? strongest
                    : new Pending(strongest, unionStart, unionEnd));
        }
        for (Pending p : byPriority) {
            if (strongest != null && ruleAt[p.detector].action().kind() != ActionKind.ALERT) {
                continue;
            }
            boolean overlaps = false;
            for (Pending w : winners) {
                overlaps |= p.start < w.end && w.start < p.end;
            }
            if (!overlaps) {
                winners.add(p);
            }
        }
        winners.sort(BY_START);
        resolved.addAll(winners);
    }

    private void emit(long limit) {
        byte[] b = text.bytes();
        int ready = 0;
        while (ready < resolved.size() && resolved.get(ready).end <= limit) {
            ready++;
        }
        if (ready < resolved.size()) {
            limit = Math.min(limit, resolved.get(ready).start);
        }
        hashValues(ready);
        for (int k = 0; k < ready; k++) {
            Pending p = resolved.get(k);
            passTo(p.start);
            DetectorRule rule = ruleAt[p.detector];
            ActionKind kind = rule.action().kind();
            int s = text.index(p.start);
            int len = (int) (p.end - p.start);
            Finding f = new Finding(rule.name(), kind, p.start, p.end, p.confidence, hashes[k],
                    Finding.codePoints(b, s, len));
            findings++;
            switch (kind) {
                case BLOCK -> {
                    blocked = true;
                    resolved.clear();
                    pending.clear();
                    out.block(f);
                    return;
                }
                case ALERT -> {
                    out.alert(f);
                    passTo(p.end);
                }
                default -> {
                    out.replace(f, replacements[p.detector].of(b, s, len, f.valueHmac()));
                    emitted = p.end;
                }
            }
        }
        resolved.subList(0, ready).clear();
        passTo(limit);
    }

    /** The value HMACs of the first {@code count} resolved findings into {@link #hashes}, in one batch. */
    private void hashValues(int count) {
        if (hashes.length < count) {
            int size = Math.max(count, hashes.length * 2);
            hashes = new String[size];
            valueOffs = new int[size];
            valueLens = new int[size];
        }
        for (int k = 0; k < count; k++) {
            Pending p = resolved.get(k);
            valueOffs[k] = text.index(p.start);
            valueLens[k] = (int) (p.end - p.start);
        }
        hasher.hex(text.bytes(), valueOffs, valueLens, count, hashes);
    }

    private void passTo(long to) {
        if (to > emitted) {
            out.pass(text.bytes(), text.index(emitted), (int) (to - emitted));
            emitted = to;
        }
    }
}
