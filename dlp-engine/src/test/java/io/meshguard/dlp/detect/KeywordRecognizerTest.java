package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The keyword pass's shortcuts (pair search, 8-byte head test) must never skip a keyword a plain search finds. */
class KeywordRecognizerTest {
    private static final List<String> KEYWORDS = List.of("대외비", "CONFIDENTIAL - INTERNAL ONLY", "co", "x", "secret");

    /** Every place a keyword matches (ASCII case aside), word boundaries aside: what mayFind must see. */
    private static boolean naiveAny(String text) {
        String lower = asciiLower(text);
        for (String k : KEYWORDS) {
            if (lower.contains(k.toLowerCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    private static String asciiLower(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            sb.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
        }
        return sb.toString();
    }

    @Test
    void mayFindAndScan_agreeWithAPlainSearch_onTextBuiltFromKeywordPieces() {
        String[] pieces = {
            "대외",
            "비",
            "대",
            "CONFIDENTIAL",
            "confidential",
            " - ",
            "INTERNAL",
            "Internal ONLY",
            " only",
            "CoNfIdEnTiAl - iNtErNaL oNlY",
            "c",
            "o",
            "C",
            "O",
            "secre",
            "SECRET",
            "t",
            " ",
            "ab",
            "x",
            "é"
        };
        Random random = new Random(5);
        KeywordRecognizer one = new KeywordRecognizer(0, List.of("대외비", "CONFIDENTIAL - INTERNAL ONLY"), 0.9);
        KeywordRecognizer many = new KeywordRecognizer(0, KEYWORDS, 0.9);
        for (int round = 0; round < 5_000; round++) {
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(12);
            for (int k = 0; k < n; k++) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            String text = sb.toString();
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            assertThat(many.mayFind(b, 0, b.length)).as(text).isEqualTo(naiveAny(text));
            String lower = asciiLower(text);
            assertThat(one.mayFind(b, 0, b.length))
                    .as(text)
                    .isEqualTo(lower.contains("대외비") || lower.contains("confidential - internal only"));
            assertThat(scan(one, b)).as(text).isEqualTo(naiveScan(b, List.of("대외비", "confidential - internal only")));
        }
    }

    /**
     * The keyword finder's third-byte test ("co" in "account" is ruled out by its third byte inside the word loop)
     * must not depend on where a stream's chunks end: a keyword split anywhere is found as in one piece.
     */
    @Test
    void scan_inRandomChunks_findsWhatOneWindowFinds_amongCommonFirstPairs() {
        String[] pieces = {
            "account ",
            "records ",
            "co",
            "CO",
            "con",
            "CONFIDENTIAL - INTERNAL ONLY",
            "confidential",
            " - internal only",
            "대외비",
            "대외",
            "\uB300",
            "비 ",
            " ",
            "é",
            "cOnFiDeNtIaL - InTeRnAl OnLy."
        };
        Random random = new Random(30);
        KeywordRecognizer compiled = new KeywordRecognizer(0, List.of("대외비", "CONFIDENTIAL - INTERNAL ONLY"), 0.9);
        for (int round = 0; round < 2_000; round++) {
            StringBuilder sb = new StringBuilder();
            for (int k = random.nextInt(14); k > 0; k--) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            List<Long> chunked = new ArrayList<>();
            for (Candidate c : ChunkedScans.scan(compiled.newStream(), b, random)) {
                chunked.add(c.start());
                chunked.add(c.end());
            }
            assertThat(chunked)
                    .as(sb.toString())
                    .isEqualTo(naiveScan(b, List.of("대외비", "confidential - internal only")));
        }
    }

    private static List<Long> scan(KeywordRecognizer r, byte[] b) {
        r.reset();
        TextWindow t = new TextWindow();
        t.append(b, 0, b.length);
        t.markComplete();
        List<Long> out = new ArrayList<>();
        r.scan(t, c -> {
            out.add(c.start());
            out.add(c.end());
        });
        return out;
    }

    /** Leftmost, longest first, non-overlapping, ASCII words bounded by non-alphanumerics. */
    private static List<Long> naiveScan(byte[] b, List<String> keywords) {
        List<byte[]> words = keywords.stream()
                .map(k -> k.getBytes(StandardCharsets.UTF_8))
                .sorted((x, y) -> y.length - x.length)
                .toList();
        List<Long> out = new ArrayList<>();
        int i = 0;
        outer:
        while (i < b.length) {
            for (byte[] w : words) {
                if (at(b, i, w)
                        && (!alnum(w[0]) || i == 0 || !alnum(b[i - 1]))
                        && (!alnum(w[w.length - 1]) || i + w.length == b.length || !alnum(b[i + w.length]))) {
                    out.add((long) i);
                    out.add((long) i + w.length);
                    i += w.length;
                    continue outer;
                }
            }
            i++;
        }
        return out;
    }

    private static boolean at(byte[] b, int i, byte[] w) {
        if (i + w.length > b.length) {
            return false;
        }
        for (int k = 0; k < w.length; k++) {
            int c = b[i + k] & 0xff;
            if (c >= 'A' && c <= 'Z') {
                c += 32;
            }
            if (c != (w[k] & 0xff)) {
                return false;
            }
        }
        return true;
    }

    private static boolean alnum(byte x) {
        int c = x & 0xff;
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
