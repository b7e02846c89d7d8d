package io.meshguard.dlp.detect;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * A policy-defined pattern on RE2/J (linear time, no backtracking). Matches are leftmost-first and non-overlapping.
 * Because the pattern's longest match is bounded ({@link PatternBounds}), a match starting at {@code s} is final once
 * {@code s + maxBytes + 1} bytes are present; later starts wait for more input.
 */
public final class RegexRecognizer implements Recognizer {
    private final int detector;
    private final Pattern pattern;
    private final int maxBytes;
    private final double confidence;
    private final Validator validator;
    private long pos;

    /** What a match must also satisfy, beyond its shape. */
    public enum Validator {
        NONE, LUHN, IBAN, KR_RRN_DATE, KR_BRN;

        boolean accepts(String value) {
            String digits = value.replaceAll("[^0-9A-Za-z]", "");
            return switch (this) {
                case NONE -> true;
                case LUHN -> !digits.isEmpty() && digits.chars().allMatch(Character::isDigit) && Checksums.luhn(digits);
                case IBAN -> Checksums.ibanMod97(digits.toUpperCase(java.util.Locale.ROOT));
                case KR_RRN_DATE -> digits.length() == 13 && digits.chars().allMatch(Character::isDigit)
                        && Checksums.krRegistrationDate(digits);
                case KR_BRN -> digits.length() == 10 && digits.chars().allMatch(Character::isDigit)
                        && Checksums.krBrnChecksum(digits);
            };
        }
    }

    public RegexRecognizer(int detector, Pattern pattern, int maxBytes, double confidence, Validator validator) {
        this.detector = detector;
        this.pattern = pattern;
        this.maxBytes = maxBytes;
        this.confidence = confidence;
        this.validator = validator;
    }

    /** Compiles a policy pattern the way the scanner runs it (multi-line, so ^ and $ are line anchors). */
    public static Pattern compile(String regex, boolean caseInsensitive) {
        return Pattern.compile(regex, Pattern.MULTILINE | (caseInsensitive ? Pattern.CASE_INSENSITIVE : 0));
    }

    @Override
    public int lookBehind() {
        return 8;
    }

    @Override
    public long scan(TextWindow t, Consumer<Candidate> out) {
        int n = t.length();
        int from = t.index(pos);
        if (from >= n) {
            return t.complete() ? Long.MAX_VALUE : pos;
        }
        // RE2/J reads the whole array it is given; hand it exactly the valid bytes.
        byte[] input = Arrays.copyOf(t.bytes(), n);
        Matcher m = pattern.matcher(input);
        int decidable = t.complete() ? n : n - maxBytes - 1;
        while (from <= n && m.find(from)) {
            int s = m.start();
            int e = m.end();
            if (s > decidable) {
                break;
            }
            if (e == s) {
                from = s + 1;
                continue;
            }
            String value = new String(input, s, e - s, java.nio.charset.StandardCharsets.UTF_8);
            if (validator.accepts(value)) {
                out.accept(new Candidate(detector, t.base() + s, t.base() + e, confidence));
            }
            from = e;
            pos = t.base() + e;
        }
        long next = t.base() + Math.max(from, Math.max(0, decidable + 1));
        if (t.complete()) {
            pos = t.base() + n;
            return Long.MAX_VALUE;
        }
        pos = Math.max(pos, Math.min(next, t.base() + n));
        return pos;
    }
}
