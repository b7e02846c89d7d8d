package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonTokens#readLike}, the comparison that stands in for the tokeniser when an event repeats the last one:
 * whenever it answers, its scalars must be exactly what {@link JsonTokens#read} lists for the same bytes (paths,
 * ranges, kinds), and when it declines it must change nothing.
 */
@SlowTest
class JsonTokensReadLikeTest {
    private static final String[] DOCS = {
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                + "\"delta\":{\"content\":\" word\"},\"finish_reason\":null}]}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}",
        "{\"a\":\"\",\"b\":\"x\\\"y\",\"c\":[1,-2.5e3,true,false,null,\"\"],\"d\":{\"e\":\"\u00e9t\u00e9\"}}",
        " [ \"one\" , \"two\" , { \"k\" : \"v\" } ] ",
        "\"just a string\"",
        "{\"k\":\"a\\\\b\",\"n\":\"plain\"}",
    };
    /** Bytes a replacement is made of: structure, quotes, escapes, controls, digits, letters, UTF-8. */
    private static final byte[] ALPHABET =
            "\"\\{}[],: \t\n\u0001az09-+.e\u00e9\ud83d\ude00".getBytes(StandardCharsets.UTF_8);

    private record Row(List<Object> path, int start, int end, boolean string) {}

    private static List<Row> rows(JsonTokens t, int base) {
        List<Row> rows = new ArrayList<>();
        for (JsonTokens.Scalar s : t.scalars()) {
            rows.add(new Row(Arrays.asList(s.path()), s.start() - base, s.end() - base, s.string()));
        }
        return rows;
    }

    /** {@code doc} inside a larger array at {@code pad}, with bytes after it that are not part of it. */
    private static byte[] embedded(byte[] doc, int pad) {
        byte[] b = new byte[pad + doc.length + 3];
        Arrays.fill(b, (byte) '"');
        System.arraycopy(doc, 0, b, pad, doc.length);
        return b;
    }

    private static byte[] mutate(byte[] doc, Random r, JsonTokens parsed) {
        if (r.nextInt(3) > 0 && !parsed.scalars().isEmpty()) {
            // Inside one scalar's bytes: the case the comparison is for (or a near miss of it).
            JsonTokens.Scalar s =
                    parsed.scalars().get(r.nextInt(parsed.scalars().size()));
            int from = s.start() + r.nextInt(s.end() - s.start() + 1);
            int to = from + r.nextInt(s.end() - from + 1);
            return splice(doc, from, to, r, r.nextInt(4) == 0);
        }
        int from = r.nextInt(doc.length + 1);
        int to = from + r.nextInt(Math.min(4, doc.length - from) + 1);
        return splice(doc, from, to, r, r.nextBoolean());
    }

    private static byte[] splice(byte[] doc, int from, int to, Random r, boolean anyBytes) {
        int n = r.nextInt(6);
        byte[] with = new byte[n];
        for (int k = 0; k < n; k++) {
            with[k] = anyBytes ? ALPHABET[r.nextInt(ALPHABET.length)] : (byte) ('a' + r.nextInt(26));
        }
        if (r.nextInt(8) == 0 && n > 0) {
            with[0] = doc.length > 0 ? doc[Math.min(from, doc.length - 1)] : with[0]; // a near-identical edit
        }
        byte[] out = new byte[doc.length - (to - from) + n];
        System.arraycopy(doc, 0, out, 0, from);
        System.arraycopy(with, 0, out, from, n);
        System.arraycopy(doc, to, out, from + n, doc.length - to);
        return out;
    }

    @Test
    void readLike_listsWhatReadLists_orDeclinesWithoutChangingAnything() {
        Random r = new Random(29);
        int answered = 0;
        int changedString = 0;
        for (int round = 0; round < 40_000; round++) {
            byte[] first = DOCS[r.nextInt(DOCS.length)].getBytes(StandardCharsets.UTF_8);
            JsonTokens t = new JsonTokens();
            int pad1 = r.nextInt(3);
            assertThat(t.read(embedded(first, pad1), pad1, pad1 + first.length)).isTrue();
            // A few generations of edits, each compared against the document read or compared before it.
            byte[] doc = first;
            for (int gen = 0; gen < 4; gen++) {
                List<Row> before = rows(t, 0);
                JsonTokens plain = new JsonTokens();
                byte[] probe = Arrays.copyOf(doc, doc.length);
                plain.read(probe, 0, probe.length);
                byte[] next = mutate(doc, r, plain);
                int pad = r.nextInt(5);
                byte[] in = embedded(next, pad);
                int like = t.readLike(in, pad, pad + next.length);
                JsonTokens reference = new JsonTokens();
                boolean valid = reference.read(embedded(next, pad), pad, pad + next.length);
                if (like == JsonTokens.UNLIKE) {
                    assertThat(rows(t, 0)).as("declined: unchanged").isEqualTo(before);
                    if (!valid) {
                        break;
                    }
                    assertThat(t.read(in, pad, pad + next.length)).isTrue();
                } else {
                    answered++;
                    assertThat(valid)
                            .as("answered only for valid JSON: %s", new String(next, StandardCharsets.UTF_8))
                            .isTrue();
                    assertThat(rows(t, pad))
                            .as(new String(next, StandardCharsets.UTF_8))
                            .isEqualTo(rows(reference, pad));
                    if (like == JsonTokens.SAME) {
                        assertThat(next).isEqualTo(doc);
                    } else {
                        changedString++;
                        assertThat(t.scalars().get(like).string()).isTrue();
                        assertThat(onlyDifference(doc, next, t.scalars(), like, pad, plain))
                                .isTrue();
                    }
                }
                doc = next;
            }
        }
        assertThat(answered).isGreaterThan(5_000);
        assertThat(changedString).isGreaterThan(5_000);
    }

    /** Every scalar but {@code like} has the same bytes in both documents. */
    private static boolean onlyDifference(
            byte[] old, byte[] now, List<JsonTokens.Scalar> nowScalars, int like, int pad, JsonTokens oldTokens) {
        for (int k = 0; k < nowScalars.size(); k++) {
            if (k == like) {
                continue;
            }
            JsonTokens.Scalar a = oldTokens.scalars().get(k);
            JsonTokens.Scalar b = nowScalars.get(k);
            if (!Arrays.equals(old, a.start(), a.end(), now, b.start() - pad, b.end() - pad)) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aTokenDeltaOfTheNextEvent_isAnsweredByComparison() {
        JsonTokens t = new JsonTokens();
        byte[] a = DOCS[0].getBytes(StandardCharsets.UTF_8);
        byte[] b = DOCS[0].replace(" word", " another token \u00e9").getBytes(StandardCharsets.UTF_8);
        assertThat(t.read(a, 0, a.length)).isTrue();
        int like = t.readLike(b, 0, b.length);
        assertThat(like).isEqualTo(3); // id, object, index, content
        assertThat(t.scalars().get(like).path()).containsExactly("choices", 0, "delta", "content");
        assertThat(new String(
                        b,
                        t.scalars().get(like).start(),
                        t.scalars().get(like).end() - t.scalars().get(like).start(),
                        StandardCharsets.UTF_8))
                .isEqualTo(" another token \u00e9");
        // A quote or a backslash in the new text, or a change that reaches a key, needs the tokeniser.
        byte[] quoted = DOCS[0].replace(" word", " a\\\"b").getBytes(StandardCharsets.UTF_8);
        assertThat(t.readLike(quoted, 0, quoted.length)).isEqualTo(JsonTokens.UNLIKE);
        byte[] key = DOCS[0].replace("\"content\"", "\"contents\"").getBytes(StandardCharsets.UTF_8);
        assertThat(t.readLike(key, 0, key.length)).isEqualTo(JsonTokens.UNLIKE);
    }
}
