package io.meshguard.dlp.scan;

import static io.meshguard.dlp.scan.WindowEdges.breaks;
import static io.meshguard.dlp.scan.WindowEdges.charsAfter;
import static io.meshguard.dlp.scan.WindowEdges.charsBefore;
import static io.meshguard.dlp.scan.WindowEdges.firstBreak;
import static io.meshguard.dlp.scan.WindowEdges.lineAfter;
import static io.meshguard.dlp.scan.WindowEdges.lineBefore;

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
 * {@code { } [ ]} and at a {@code ,} followed by a {@code "} (see {@link WindowEdges#lineBefore}). A negative word never drops a
 * checksum-valid finding (card, IBAN, business number, a pattern with such a validator) whose action masks, redacts,
 * hashes or blocks, unless it is in a structured label directly before the value ({@link #labelStart}).
 */
public final class StreamScanner {
    /** By start, then end: written out, as it runs for every candidate. */
    private static final Comparator<Pending> BY_START =
            (a, b) -> a.start != b.start ? Long.compare(a.start, b.start) : Long.compare(a.end, b.end);
    /** Most confident, then longest, then earliest, then first in policy order. */
    private static final Comparator<Pending> BY_PRIORITY = (a, b) -> comparePriority(a, a.confidence, b, b.confidence);

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
        if ((wanted & ContextWords.PENALTY) != 0
                && !(checksummed[detector] && rule.action().kind() != ActionKind.ALERT && labelStart(b, 0, s) < 0)) {
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
        return p >= from
                && contextWords.endsAtInSteps(w, b, end)
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
        if (shortcuts.lazyIndex()
                && (noPairFrom == widest
                        ? contextWords.noneIn(detector, b, s, s, e, after)
                        : contextWords.noneIn(detector, b, widest, s, e, after))) {
            found = 0;
            if (!key.isEmpty()) {
                before = lineBefore(b, widest, s);
            }
        } else {
            after = lineAfter(b, e, after);
            before = lineBefore(b, widest, s);
            found = shortcuts.lazyIndex() && contextWords.noneIn(detector, b, before, s, e, after)
                    ? 0
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
        if ((found & ContextWords.PENALTY) != 0
                && checksummed[detector]
                && rule.action().kind() != ActionKind.ALERT) {
            // A word the sender chose must not unmask a number whose check digit holds: only a structured label
            // right before the value ("Order ID: ", "order_id": ) may lower it.
            int label = labelStart(b, before, s);
            if (label < 0
                    || (contextIndex.found(detector, text, label, labelEnd, labelEnd, labelEnd) & ContextWords.PENALTY)
                            == 0) {
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
        if ((k & ContextWords.PENALTY) != 0
                && checksummed[detector]
                && rule.action().kind() != ActionKind.ALERT) {
            for (int i = 0; i < s; i++) {
                if (b[i] != ' ' && b[i] != '\t') {
                    return k & ~ContextWords.PENALTY;
                }
            }
        }
        return k;
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
        return x < 0
                || (x >= 'a' && x <= 'z')
                || (x >= 'A' && x <= 'Z')
                || (x >= '0' && x <= '9')
                || x == ' '
                || x == '_'
                || x == '-'
                || x == '.';
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
            if (strongest == null
                    || (kind == ActionKind.BLOCK
                            && ruleAt[strongest.detector].action().kind() != ActionKind.BLOCK)) {
                strongest = p;
            }
            unionStart = Math.min(unionStart, p.start);
            unionEnd = Math.max(unionEnd, p.end);
        }
        List<Pending> winners = new ArrayList<>();
        if (strongest != null) {
            winners.add(
                    strongest.start == unionStart && strongest.end == unionEnd
                            ? strongest
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
            Finding f = new Finding(
                    rule.name(), kind, p.start, p.end, p.confidence, hashes[k], Finding.codePoints(b, s, len));
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
