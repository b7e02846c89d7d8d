package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Skipping a run of letters and digits inside a token in one go must find exactly what visiting every byte finds:
 * numbers still start after a token byte that is not a letter or digit ("ref-4012...") and never after one that is
 * ("AB4012..."), and the token's flags (upper case, digits, {@code @}) come out the same, for every detector and
 * however the text arrives.
 */
@SlowTest
class TokenRunSkipTest {
    /** Values, and glue that puts them inside tokens right after a letter, a digit or other token bytes. */
    private static final String[] PIECES = {
        "4012888888881881",
        "4012 8888 8888 1881",
        "960121-1021413",
        "010-1234-5678",
        "+82 10-1234-5678",
        "220-81-62517",
        "192.168.0.1",
        "fe80::1",
        "DE89 3704 0044 0532 0130 00",
        "kim.minsu42@bank.co.kr",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "xoxb-1234567890-abcdefghij",
        "sk_live_abcdefghijklmnop1234",
        "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
        "Zx9Qw2Er5Ty8Ui1Op4As7Df0Gh3Jk6",
        "ref-",
        "ref_",
        "ref/",
        "a.b.",
        "AB",
        "x9",
        "Q",
        "7",
        "-",
        ".",
        "@",
        " ",
        ", ",
        "\n",
        "고객 "
    };

    /** Every built-in detector, each reporting under its ordinal. */
    private static final Map<BuiltinDetector, Integer> ALL = new EnumMap<>(BuiltinDetector.class);

    static {
        for (BuiltinDetector d : BuiltinDetector.values()) {
            ALL.put(d, d.ordinal());
        }
    }

    /**
     * Scans {@code text} with every detector, skipping runs, in random chunks and in the largest ones (24 bytes), and
     * asserts both find what a pass visiting every byte finds (in other random chunks); returns what that pass found.
     */
    private static List<Candidate> assertSkippingFindsWhatVisitingFinds(String text, Random random) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        long seed = random.nextLong();
        List<Candidate> plain = ChunkedScans.scan(new BuiltinRecognizer(ALL, false), b, new Random(seed));
        List<Candidate> skipping = ChunkedScans.scan(new BuiltinRecognizer(ALL, true), b, new Random(~seed));
        List<Candidate> largest = ChunkedScans.scan(new BuiltinRecognizer(ALL, true), b, new Random(seed) {
            @Override
            public int nextInt(int bound) {
                return bound - 1;
            }
        });
        assertThat(skipping).as("\"%s\"", text).isEqualTo(plain);
        assertThat(largest).as("\"%s\" in 24-byte chunks", text).isEqualTo(plain);
        return plain;
    }

    @Test
    void skippingRuns_findsWhatVisitingEveryByteFinds_forEveryDetectorAndChunking() {
        Random random = new Random(31);
        Set<Integer> kinds = new TreeSet<>();
        for (int round = 0; round < 3000; round++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0, n = 1 + random.nextInt(20); k < n; k++) {
                sb.append(PIECES[random.nextInt(PIECES.length)]);
            }
            assertSkippingFindsWhatVisitingFinds(sb.toString(), random).forEach(c -> kinds.add(c.detector()));
        }
        assertThat(kinds)
                .as("the texts hold findings of these detectors")
                .contains(
                        BuiltinDetector.CARD.ordinal(),
                        BuiltinDetector.KR_RRN.ordinal(),
                        BuiltinDetector.KR_PHONE.ordinal(),
                        BuiltinDetector.KR_BRN.ordinal(),
                        BuiltinDetector.IPV4.ordinal(),
                        BuiltinDetector.IPV6.ordinal(),
                        BuiltinDetector.IBAN.ordinal(),
                        BuiltinDetector.EMAIL.ordinal(),
                        BuiltinDetector.AWS_ACCESS_KEY.ordinal(),
                        BuiltinDetector.GITHUB_TOKEN.ordinal(),
                        BuiltinDetector.SLACK_TOKEN.ordinal(),
                        BuiltinDetector.STRIPE_KEY.ordinal(),
                        BuiltinDetector.JWT.ordinal(),
                        BuiltinDetector.SECRET.ordinal());
    }

    @Test
    void numberInsideToken_startsAfterPunctuation_notAfterLetterOrDigit() {
        Map<BuiltinDetector, Integer> card = Map.of(BuiltinDetector.CARD, 0);
        assertThat(spans(card, "ref-4012888888881881")).containsExactly("4012888888881881");
        assertThat(spans(card, "Ref/4012888888881881 ok")).containsExactly("4012888888881881");
        assertThat(spans(card, "a.B.4012888888881881")).containsExactly("4012888888881881");
        assertThat(spans(card, "AB4012888888881881")).isEmpty();
        assertThat(spans(card, "x94012888888881881")).isEmpty();
        assertThat(spans(card, "kim-Lee4012888888881881")).isEmpty();
    }

    private static List<String> spans(Map<BuiltinDetector, Integer> enabled, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        for (Candidate c : ChunkedScans.scan(new BuiltinRecognizer(enabled, true), b, new Random(5))) {
            out.add(new String(b, (int) c.start(), (int) (c.end() - c.start()), StandardCharsets.UTF_8));
        }
        return out;
    }

    /** Bytes that end a word or begin the next, quiet or not, and values right after them. */
    private static final String[] GLUE = {
        " ",
        "\n",
        ". ",
        ".\n",
        ".",
        ",",
        ":",
        "::",
        "-",
        "_",
        "@",
        "+",
        "/",
        "~",
        "%",
        "고객 ",
        "(",
        "'",
        "5",
        " 5 1051 0510 5100 ",
        " 4111 1111 1111 1111",
        "uTTY-User-Key-File-2: ssh-rsa\n",
        "E89 3704 0044 0532 0130 00",
        " DE89 3704 0044 0532 0130 00",
        "@bank.co.kr ",
        "80::1 ",
        "yJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl ",
        " eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl "
    };

    /**
     * The shortcuts at a capitalised word and at a word's full stop (a short token of letters ended by a quiet byte,
     * passed over with it) find exactly what visiting every byte finds: words of every length around the shortest
     * token-level secret's, capitals that begin an IBAN, a PuTTY key or a JWT, and every kind of byte after them,
     * in random chunks.
     */
    @Test
    void capitalisedWordsAndFullStops_findWhatVisitingEveryByteFinds() {
        assertWordsFoundAsVisitingEveryByte("abcdefghijklmnopqrstuvwxyz", 3202);
    }

    /**
     * As {@link #capitalisedWordsAndFullStops_findWhatVisitingEveryByteFinds}, with words of letters of both cases and
     * digits ("IBAN", "DE89", "AKIA..."): the shortcut at a capital that opens a short token of letters and digits
     * (its token-start detectors tried, passed over with its end byte) finds exactly what visiting every byte finds.
     */
    @Test
    void capitalTokensOfLettersAndDigits_findWhatVisitingEveryByteFinds() {
        assertWordsFoundAsVisitingEveryByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 3203);
    }

    private static void assertWordsFoundAsVisitingEveryByte(String letters, long seed0) {
        Random random = new Random(seed0);
        Set<Integer> kinds = new TreeSet<>();
        for (int round = 0; round < 4000; round++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0, n = 1 + random.nextInt(16); k < n; k++) {
                int length = random.nextInt(random.nextBoolean() ? 8 : 30);
                switch (random.nextInt(4)) {
                    case 0 -> sb.append((char) ("ADEPQSZ".charAt(random.nextInt(7))));
                    case 1 -> sb.append((char) ('A' + random.nextInt(26)));
                    default -> {}
                }
                for (int c = 0; c < length; c++) {
                    sb.append(letters.charAt(random.nextInt(letters.length())));
                }
                if (random.nextInt(4) == 0) {
                    sb.append((char) ('A' + random.nextInt(26)));
                }
                sb.append(GLUE[random.nextInt(GLUE.length)]);
            }
            assertSkippingFindsWhatVisitingFinds(sb.toString(), random).forEach(c -> kinds.add(c.detector()));
        }
        assertThat(kinds)
                .as("the texts hold findings of these detectors")
                .contains(
                        BuiltinDetector.CARD.ordinal(),
                        BuiltinDetector.IBAN.ordinal(),
                        BuiltinDetector.EMAIL.ordinal(),
                        BuiltinDetector.IPV6.ordinal(),
                        BuiltinDetector.JWT.ordinal(),
                        BuiltinDetector.SECRET.ordinal());
    }

    /** What comes before a run of digit groups: nothing, or a byte that a number may or may not start after. */
    private static final String[] LEADS = {
        "", " ", "\n", "-", ".", "@", ":", "a", "Z", "kim@bank.co.kr-", "x.", "+", "IBAN DE89 ", "고객 "
    };

    /** What separates or ends digit groups: a space (the shortcut's case) and every other kind of byte. */
    private static final String[] SEPARATORS = {
        " ", " ", " ", " ", "  ", "-", ".", ":", "::", "\t", ",", "a", "Q", "@", "_", "/", "+", "\n", "고"
    };

    /** Issuer, area and year prefixes, so that groups start cards, phone numbers and registration numbers. */
    private static final String[] PREFIXES = {"", "", "4", "51", "37", "6011", "35", "010", "02", "96", "0", "22", "81"
    };

    /**
     * Runs of digit groups (1-22 digits each, most apart by one space, as a card's or an IBAN's groups are; some by
     * other bytes), after letters, token bytes and spaces, in random chunks and in 24-byte chunks: going straight
     * from a group that is a token of its own, ended by a space, to the next group's number start finds exactly what
     * visiting the space finds.
     */
    @Test
    void digitGroupsApartBySpaces_findWhatVisitingEveryByteFinds() {
        assertDigitGroupsFoundAsVisitingEveryByte(SEPARATORS, 3302);
    }

    /**
     * Hyphens mostly (a phone number's, a registration number's), dots (an IPv4 address's), the other token bytes
     * that are no letter or digit (an {@code @} that makes the token an e-mail address), then spaces, then every other
     * kind of byte.
     */
    private static final String[] TOKEN_SEPARATORS = {
        "-",
        "-",
        "-",
        "-",
        "-",
        "--",
        ".",
        ".",
        ".",
        "..",
        "_",
        "/",
        "~",
        "%",
        "+",
        "@",
        "@1bank.co.kr ",
        "@1bank.co.kr-",
        "@bank.co.kr ",
        " ",
        " ",
        "- ",
        " -",
        "-.",
        ":",
        "::",
        "\t",
        "a",
        "\n",
        "고"
    };

    /**
     * As {@link #digitGroupsApartBySpaces_findWhatVisitingEveryByteFinds}, with most groups apart by a hyphen, a dot
     * or another token byte: going straight from a group's end over that byte to the next group's number start, the
     * token left open, finds exactly what visiting the byte finds (also where a hyphen follows a group the space shortcut reached, and a
     * space one the hyphen shortcut reached).
     */
    @Test
    void digitGroupsApartByHyphensAndDots_findWhatVisitingEveryByteFinds() {
        assertDigitGroupsFoundAsVisitingEveryByte(TOKEN_SEPARATORS, 3303);
    }

    private static void assertDigitGroupsFoundAsVisitingEveryByte(String[] separators, long seed0) {
        Random random = new Random(seed0);
        Set<Integer> kinds = new TreeSet<>();
        for (int round = 0; round < 4000; round++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0, n = 1 + random.nextInt(6); k < n; k++) {
                sb.append(LEADS[random.nextInt(LEADS.length)]);
                for (int g = 0, groups = 1 + random.nextInt(6); g < groups; g++) {
                    if (g > 0) {
                        sb.append(separators[random.nextInt(separators.length)]);
                    }
                    String prefix = PREFIXES[random.nextInt(PREFIXES.length)];
                    sb.append(prefix);
                    for (int d = random.nextInt(random.nextBoolean() ? 5 : 23) - prefix.length(); d > 0; d--) {
                        sb.append((char) ('0' + random.nextInt(10)));
                    }
                }
                sb.append(random.nextBoolean() ? " " : separators[random.nextInt(separators.length)]);
                if (random.nextInt(4) == 0) {
                    sb.append(PIECES[random.nextInt(PIECES.length)]);
                }
            }
            assertSkippingFindsWhatVisitingFinds(sb.toString(), random).forEach(c -> kinds.add(c.detector()));
        }
        assertThat(kinds)
                .as("the texts hold findings of these detectors")
                .contains(
                        BuiltinDetector.CARD.ordinal(),
                        BuiltinDetector.KR_RRN.ordinal(),
                        BuiltinDetector.KR_PHONE.ordinal(),
                        BuiltinDetector.IPV4.ordinal(),
                        BuiltinDetector.IBAN.ordinal(),
                        BuiltinDetector.EMAIL.ordinal());
    }
}
