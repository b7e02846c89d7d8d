package io.meshguard.dlp.detect;

import java.util.Map;

/** The check-digit and format rules the built-in detectors validate with. Inputs are ASCII digit/letter strings. */
public final class Checksums {
    private Checksums() {}

    /** Luhn (mod 10) over a string of digits. */
    public static boolean luhn(CharSequence digits) {
        return luhn(digits.toString().toCharArray(), digits.length());
    }

    /** Luhn over {@code digits[0, len)}: the form the scan calls on its digit array. */
    static boolean luhn(char[] digits, int len) {
        int sum = 0;
        boolean dbl = false;
        for (int i = len - 1; i >= 0; i--) {
            int d = digits[i] - '0';
            if (dbl) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            dbl = !dbl;
        }
        return sum % 10 == 0;
    }

    /** True when the digits have the length and issuer prefix of a major card brand. */
    public static boolean cardBrand(CharSequence digits) {
        int len = digits.length();
        int p2 = prefix(digits, 2);
        int p3 = prefix(digits, 3);
        int p4 = prefix(digits, 4);
        int p6 = prefix(digits, 6);
        return hasLength(brandLengths(digits.charAt(0), p2, p3, p4, p6), len);
    }

    /**
     * The lengths a card number starting with {@code digits[0, min(len, 6))} may have for its brand, as a bit set
     * (bit {@code n} for length {@code n}): {@link #cardBrand(CharSequence)} of any longer number with those first
     * digits, for one length after another, without working out its brand again each time.
     */
    static int cardBrandLengths(char[] digits, int len) {
        return cardBrandLengths(digits, 0, len);
    }

    /** {@link #cardBrandLengths(char[], int)} of the number {@code digits[from, from + len)}. */
    static int cardBrandLengths(char[] digits, int from, int len) {
        int v = 0;
        int p2 = 0;
        int p3 = 0;
        int p4 = 0;
        for (int i = 0; i < 6 && i < len; i++) {
            v = v * 10 + (digits[from + i] - '0');
            p2 = i < 2 ? v : p2;
            p3 = i < 3 ? v : p3;
            p4 = i < 4 ? v : p4;
        }
        return brandLengths(digits[from], p2, p3, p4, v);
    }

    /**
     * The first two digits of every issuer prefix {@link #brandLengths} knows, as bits {@code 10 * d0 + d1} of two
     * longs (0-63, 64-99): 22-27 (Mastercard 2221-2720), 30 (Diners 300-305, 3095), 34-39 (Amex, JCB 3528-3589,
     * Diners), 40-49 (Visa), 50-58 (Maestro, Mastercard), 60 (Discover 6011), 62-65 (UnionPay, Discover 622126-622925,
     * Maestro, Discover 644-649 and 65), 67 (Maestro), 81 (UnionPay), 94 (Korean domestic). A test checks the list
     * against {@link #brandLengths} over every six-digit prefix.
     */
    private static final long BRAND_PAIRS_LOW = bits(
            22, 23, 24, 25, 26, 27, 30, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
            54, 55, 56, 57, 58, 60, 62, 63);

    private static final long BRAND_PAIRS_HIGH = bits(64 - 64, 65 - 64, 67 - 64, 81 - 64, 94 - 64);
    /** The first digits of those pairs: 2, 3, 4, 5, 6, 8, 9. */
    private static final int BRAND_FIRSTS = 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 8 | 1 << 9;

    private static long bits(int... positions) {
        long set = 0;
        for (int p : positions) {
            set |= 1L << p;
        }
        return set;
    }

    /**
     * Whether a card number may start with the digit {@code d0} followed by the digit {@code d1} (both 0-9), or, with
     * {@code d1 < 0}, by a digit not known yet: false when no brand's issuer prefix starts so, and then
     * {@link #cardBrandLengths} of every number that starts so is 0.
     */
    static boolean mayStartCard(int d0, int d1) {
        if (d1 < 0) {
            return (BRAND_FIRSTS >>> d0 & 1) != 0;
        }
        int pair = d0 * 10 + d1;
        return pair < 64 ? (BRAND_PAIRS_LOW >>> pair & 1) != 0 : (BRAND_PAIRS_HIGH >>> (pair - 64) & 1) != 0;
    }

    /** Whether the bit set of {@link #brandLengths} holds {@code len} (no brand has a number longer than 19). */
    static boolean hasLength(int lengths, int len) {
        return len <= 19 && (lengths >>> len & 1) != 0;
    }

    /** Bits 12 to 19 as a set of lengths. */
    private static final int LEN_12_TO_19 = 0xFF << 12;

    /**
     * The lengths (bit {@code n} for {@code n} digits) of the first brand whose issuer prefix the number has, or 0
     * when it has none.
     */
    private static int brandLengths(char first, int p2, int p3, int p4, int p6) {
        if (first == '4') { // Visa
            return 1 << 13 | 1 << 16 | 1 << 19;
        }
        if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) { // Mastercard
            return 1 << 16;
        }
        if (p2 == 34 || p2 == 37) { // American Express
            return 1 << 15;
        }
        if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) { // Discover
            return LEN_12_TO_19 & -(1 << 16); // 16 to 19
        }
        if (p4 >= 3528 && p4 <= 3589) { // JCB
            return LEN_12_TO_19 & -(1 << 16);
        }
        if (p2 == 62 || p2 == 81) { // UnionPay
            return LEN_12_TO_19 & -(1 << 16);
        }
        if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39 || p4 == 3095) { // Diners Club
            return LEN_12_TO_19 & -(1 << 14); // 14 to 19
        }
        if (p2 == 50 || (p2 >= 56 && p2 <= 58) || p2 == 67 || p2 == 63) { // Maestro
            // Maestro issues 12-digit numbers too, but a 12-digit run is far more often an order or account number
            // than a card; the documented range is 13-19 for every brand.
            return LEN_12_TO_19 & -(1 << 13);
        }
        if (p4 >= 9400 && p4 <= 9499) { // Korean domestic cards (BC and others issue 94xx)
            return 1 << 16;
        }
        return 0;
    }

    private static int prefix(CharSequence s, int n) {
        int v = 0;
        for (int i = 0; i < n && i < s.length(); i++) {
            v = v * 10 + (s.charAt(i) - '0');
        }
        return v;
    }

    /**
     * IBAN lengths per country: the whole ISO 13616 registry as SWIFT publishes it, kept as data in one place
     * ({@code iban-registry.txt} next to this class), not as a hand-kept subset in code.
     */
    private static final Map<String, Integer> IBAN_LENGTH = IbanRegistry.load();

    /** {@link #IBAN_LENGTH} as a table indexed by the two letters, for the scan (no String per upper-case token). */
    private static final byte[] IBAN_LENGTH_BY_LETTERS = new byte[26 * 26];

    static {
        IBAN_LENGTH.forEach((country, len) ->
                IBAN_LENGTH_BY_LETTERS[(country.charAt(0) - 'A') * 26 + country.charAt(1) - 'A'] = len.byteValue());
    }

    /** Registered IBAN length for a country code, or 0 when the country has no IBAN. */
    public static int ibanLength(String country) {
        return IBAN_LENGTH.getOrDefault(country, 0);
    }

    /** {@link #ibanLength(String)} of the country code {@code c0 c1} (any two bytes as 0..255, or -1). */
    static int ibanLength(int c0, int c1) {
        if (c0 < 'A' || c0 > 'Z' || c1 < 'A' || c1 > 'Z') {
            return 0;
        }
        return IBAN_LENGTH_BY_LETTERS[(c0 - 'A') * 26 + c1 - 'A'];
    }

    /** ISO 7064 mod 97-10 over an IBAN without spaces (letters upper case). */
    public static boolean ibanMod97(CharSequence iban) {
        if (iban.length() < 5) {
            return false;
        }
        int rem = 0;
        int n = iban.length();
        for (int k = 0; k < n; k++) {
            char c = iban.charAt((k + 4) % n);
            if (c >= '0' && c <= '9') {
                rem = (rem * 10 + (c - '0')) % 97;
            } else if (c >= 'A' && c <= 'Z') {
                rem = (rem * 100 + (c - 'A' + 10)) % 97;
            } else {
                return false;
            }
        }
        return rem == 1;
    }

    /** Days per month in a common year. */
    private static final int[] DAYS = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    private static final int[] RRN_WEIGHTS = {2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5};
    private static final int[] BRN_WEIGHTS = {1, 3, 7, 1, 3, 7, 1, 3, 5};

    /**
     * Birth date rule of a Korean resident (or foreigner) registration number: YYMMDD plus the gender/century digit
     * G (1,2,5,6 = 1900s; 3,4,7,8 = 2000s). Returns false for impossible dates.
     */
    public static boolean krRegistrationDate(CharSequence d) {
        return krRegistrationDate(chars(d, 7));
    }

    /** {@link #krRegistrationDate(CharSequence)} of {@code d[0, 7)}, on the scan's digit array. */
    static boolean krRegistrationDate(char[] d) {
        int yy = (d[0] - '0') * 10 + (d[1] - '0');
        int mm = (d[2] - '0') * 10 + (d[3] - '0');
        int dd = (d[4] - '0') * 10 + (d[5] - '0');
        int g = d[6] - '0';
        int century =
                switch (g) {
                    case 1, 2, 5, 6 -> 1900;
                    case 3, 4, 7, 8 -> 2000;
                    default -> -1;
                };
        if (century < 0 || mm < 1 || mm > 12 || dd < 1) {
            return false;
        }
        int year = century + yy;
        int max = DAYS[mm - 1];
        if (mm == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) {
            max = 29;
        }
        return dd <= max;
    }

    /**
     * The classic RRN check digit. Numbers issued since October 2020 end in random digits, so a failed check never
     * rejects a number; a passing one only raises confidence.
     */
    public static boolean krRrnChecksum(CharSequence d) {
        return krRrnChecksum(chars(d, 13));
    }

    /** {@link #krRrnChecksum(CharSequence)} of {@code d[0, 13)}, on the scan's digit array. */
    static boolean krRrnChecksum(char[] d) {
        int sum = 0;
        for (int i = 0; i < 12; i++) {
            sum += (d[i] - '0') * RRN_WEIGHTS[i];
        }
        return (11 - sum % 11) % 10 == d[12] - '0';
    }

    /** Korean business registration number (사업자등록번호) check digit over 10 digits. */
    public static boolean krBrnChecksum(CharSequence d) {
        return krBrnChecksum(chars(d, 10));
    }

    /** {@link #krBrnChecksum(CharSequence)} of {@code d[0, 10)}, on the scan's digit array. */
    static boolean krBrnChecksum(char[] d) {
        int sum = 0;
        for (int i = 0; i < 9; i++) {
            sum += (d[i] - '0') * BRN_WEIGHTS[i];
        }
        sum += ((d[8] - '0') * 5) / 10;
        return (10 - sum % 10) % 10 == d[9] - '0';
    }

    /**
     * The first {@code n} chars of {@code s}. Throws, like {@link CharSequence#charAt}, when {@code s} is shorter:
     * the rules above read exactly that many.
     */
    private static char[] chars(CharSequence s, int n) {
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = s.charAt(i);
        }
        return c;
    }

    /** c * log2(c) for every count a token of at most 256 bytes can have, for {@link #entropyBelow}. */
    private static final double[] C_LOG2_C = new double[257];

    static {
        for (int c = 1; c <= 256; c++) {
            C_LOG2_C[c] = c * (Math.log(c) / Math.log(2));
        }
    }

    /** Far wider than the rounding of either formula (both are within about 1e-13 of the true entropy). */
    private static final double MARGIN = 1e-9;

    /**
     * Whether {@code entropy(b, from, to, counts) < threshold}, for tokens of at most 256 bytes, without a logarithm
     * per symbol in the clear cases. Entropy is {@code log2(n) - sum(c * log2 c) / n} over the symbol counts c, with
     * {@code c * log2 c} from a table; only where that lands within {@link #MARGIN} of the threshold (where rounding
     * could decide) the exact formula of {@link #entropy(byte[], int, int, int[])} answers, so the result is
     * always that formula's. Leaves {@code counts} all zero, as it found it.
     */
    static boolean entropyBelow(byte[] b, int from, int to, int[] counts, double threshold) {
        int n = to - from;
        if (n > 256) {
            return entropy(b, from, to, counts) < threshold;
        }
        for (int i = from; i < to; i++) {
            counts[b[i] & 0xff]++;
        }
        double sum = 0;
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xff;
            int k = counts[c];
            if (k != 0) {
                sum += C_LOG2_C[k];
                counts[c] = 0;
            }
        }
        double fast = C_LOG2_C[n] / n - sum / n;
        if (fast < threshold - MARGIN) {
            return true;
        }
        if (fast > threshold + MARGIN) {
            return false;
        }
        return entropy(b, from, to, counts) < threshold;
    }

    /** Shannon entropy in bits per character. */
    public static double entropy(byte[] b, int from, int to) {
        return entropy(b, from, to, new int[256]);
    }

    /**
     * Shannon entropy using a caller's scratch array, all zero on entry and left so. The symbols present are
     * visited in ascending byte order (the same sum, bit for bit, as a pass over all 256 counts) through a bit set,
     * so a short token does not pay for 256 counters twice.
     */
    static double entropy(byte[] b, int from, int to, int[] counts) {
        long m0 = 0;
        long m1 = 0;
        long m2 = 0;
        long m3 = 0;
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xff;
            counts[c]++;
            long bit = 1L << c;
            switch (c >>> 6) {
                case 0 -> m0 |= bit;
                case 1 -> m1 |= bit;
                case 2 -> m2 |= bit;
                default -> m3 |= bit;
            }
        }
        double n = to - from;
        double h = 0;
        long[] present = {m0, m1, m2, m3};
        for (int w = 0; w < 4; w++) {
            for (long m = present[w]; m != 0; m &= m - 1) {
                int c = w << 6 | Long.numberOfTrailingZeros(m);
                double p = counts[c] / n;
                counts[c] = 0;
                h -= p * (Math.log(p) / Math.log(2));
            }
        }
        return h;
    }
}
