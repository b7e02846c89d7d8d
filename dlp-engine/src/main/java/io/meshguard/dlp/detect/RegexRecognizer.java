package io.meshguard.dlp.detect;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import java.util.function.Consumer;

/**
 * A policy-defined pattern on RE2/J (linear time, no backtracking). Matches are leftmost-first and non-overlapping.
 * Only positions whose byte can start a match ({@link PatternBounds.Shape#firstBytes()}) are tried, each on a small
 * window of at most the pattern's longest match plus context; a start is decided once that window is complete, so
 * matches do not depend on chunk boundaries.
 */
public final class RegexRecognizer implements Recognizer {
    private static final int CONTEXT = 8;

    private final int detector;
    private final Pattern pattern;
    private final int maxBytes;
    private final ByteFinder starts;
    private final byte[] prefix;
    private final boolean prefixFolded;
    private final double confidence;
    private final Validator validator;
    private byte[] window = new byte[64];
    private long pos;

    /** What a match must also satisfy, beyond its shape. */
    public enum Validator {
        NONE,
        LUHN,
        IBAN,
        KR_RRN_DATE,
        KR_BRN;

        boolean accepts(byte[] b, int from, int to) {
            if (this == NONE) {
                return true;
            }
            StringBuilder sb = new StringBuilder(to - from);
            boolean digitsOnly = true;
            for (int k = from; k < to; k++) {
                int c = b[k] & 0xff;
                if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
                    sb.append((char) c);
                    digitsOnly &= c <= '9';
                }
            }
            String v = sb.toString();
            return switch (this) {
                case NONE -> true;
                case LUHN -> !v.isEmpty() && digitsOnly && Checksums.luhn(v);
                case IBAN -> Checksums.ibanMod97(v.toUpperCase(java.util.Locale.ROOT));
                case KR_RRN_DATE -> v.length() == 13 && digitsOnly && Checksums.krRegistrationDate(v);
                case KR_BRN -> v.length() == 10 && digitsOnly && Checksums.krBrnChecksum(v);
            };
        }
    }

    public RegexRecognizer(
            int detector, Pattern pattern, PatternBounds.Shape shape, double confidence, Validator validator) {
        this.detector = detector;
        this.pattern = pattern;
        this.maxBytes = shape.maxBytes();
        boolean[] first = shape.firstBytes();
        this.prefix = shape.prefix();
        this.prefixFolded = shape.prefixIgnoresCase();
        boolean[] second = null;
        if (prefix.length >= 2) {
            second = new boolean[256];
            int c = prefix[1] & 0xff;
            second[c] = true;
            if (prefixFolded && c >= 'a' && c <= 'z') {
                second[c - 32] = true;
            }
        }
        this.starts = new ByteFinder(first, second).onBit(StartTable.policySearch(detector));
        this.confidence = confidence;
        this.validator = validator;
    }

    private RegexRecognizer(RegexRecognizer compiled) {
        detector = compiled.detector;
        pattern = compiled.pattern;
        maxBytes = compiled.maxBytes;
        starts = compiled.starts;
        prefix = compiled.prefix;
        prefixFolded = compiled.prefixFolded;
        confidence = compiled.confidence;
        validator = compiled.validator;
    }

    @Override
    public RegexRecognizer newStream() {
        return new RegexRecognizer(this);
    }

    /** Compiles a policy pattern the way the scanner runs it (multi-line, so ^ and $ are line anchors). */
    public static Pattern compile(String regex, boolean caseInsensitive) {
        return Pattern.compile(regex, Pattern.MULTILINE | (caseInsensitive ? Pattern.CASE_INSENSITIVE : 0));
    }

    private boolean startsWithPrefix(byte[] b, int i, int n) {
        if (i + prefix.length > n) {
            return false;
        }
        for (int k = 0; k < prefix.length; k++) {
            byte x = b[i + k];
            if (prefixFolded && x >= 'A' && x <= 'Z') {
                x += 32;
            }
            if (x != prefix[k]) {
                return false;
            }
        }
        return true;
    }

    /** {@link #mayFind} looks only where {@code starts} stops. */
    @Override
    public boolean describeStarts(TriggerTable table) {
        starts.describeTo(table);
        return true;
    }

    @Override
    public void describeSearches(StartTable table) {
        starts.describeTo(table);
    }

    /** Whether a match could start anywhere in the text: a first byte followed by the literal prefix. */
    @Override
    public boolean mayFind(byte[] b, int off, int len) {
        int end = off + len;
        for (int i = starts.next(b, off, end); i < end; i = starts.next(b, i + 1, end)) {
            if (startsWithPrefix(b, i, end)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public int lookBehind() {
        return CONTEXT;
    }

    @Override
    public void reset() {
        pos = 0;
    }

    @Override
    public long scan(TextWindow t, Consumer<Candidate> out) {
        byte[] b = t.bytes();
        int n = t.length();
        int i = t.index(pos);
        boolean complete = t.complete();
        while (true) {
            i = starts.next(t, i);
            if (i >= n) {
                break;
            }
            if (!complete && i + maxBytes + 1 > n) {
                break; // not decidable yet
            }
            if (!startsWithPrefix(b, i, n)) {
                i++;
                continue; // cheap rejection: every match starts with the pattern's literal prefix
            }
            int from = Math.max(0, i - CONTEXT);
            if (t.base() + from < 0) {
                from = 0;
            }
            int to = Math.min(n, i + maxBytes + 2);
            int len = to - from;
            if (window.length != len) {
                window = new byte[len];
            }
            System.arraycopy(b, from, window, 0, len);
            Matcher m = pattern.matcher(window);
            if (m.find(i - from) && m.start() == i - from && m.end() > m.start()) {
                int s = i;
                int e = from + m.end();
                if (validator.accepts(b, s, e)) {
                    out.accept(new Candidate(detector, t.base() + s, t.base() + e, confidence));
                    i = e;
                    continue;
                }
            }
            i++;
        }
        pos = t.base() + i;
        return complete ? Long.MAX_VALUE : pos;
    }
}
