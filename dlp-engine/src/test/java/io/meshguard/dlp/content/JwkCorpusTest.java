package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A generated corpus (fixed seed) of private and public JWKs of every key type, members shuffled, names randomly
 * escaped, random white space, nested in arrays and objects: every private member is found, nothing else is, and the
 * answer is the same for the whole body, at every two-chunk split and in chunks of 1 to 7 bytes, as a JSON body and
 * as JSON lines.
 */
@SlowTest
class JwkCorpusTest {
    private static final String[][] PRIVATE = {
        {"RSA", "d", "p", "q", "dp", "dq", "qi"}, {"EC", "d"}, {"OKP", "d"}, {"oct", "k"}
    };
    private static final String[][] PUBLIC = {
        {"RSA", "n", "e"}, {"EC", "crv", "x", "y"}, {"OKP", "crv", "x"}, {"oct", "alg", "kid"}
    };

    record Doc(String json, int privateMembers) {}

    static String name(String n, Random r) {
        if (!r.nextBoolean()) {
            return n;
        }
        int at = r.nextInt(n.length());
        return n.substring(0, at) + String.format("\\u%04x", (int) n.charAt(at)) + n.substring(at + 1);
    }

    static String ws(Random r) {
        return new String[] {"", " ", "\n  ", "\t", "\r\n"}[r.nextInt(5)];
    }

    static Doc jwk(Random r, int seed, boolean withPrivate) {
        int type = r.nextInt(PRIVATE.length);
        List<String[]> members = new ArrayList<>();
        members.add(new String[] {"kty", PRIVATE[type][0]});
        for (int k = 1; k < PUBLIC[type].length; k++) {
            members.add(new String[] {PUBLIC[type][k], JwkPrivateKeysTest.b64(seed * 31 + k, 43)});
        }
        int priv = 0;
        if (withPrivate) {
            for (int k = 1; k < PRIVATE[type].length; k++) {
                members.add(
                        new String[] {PRIVATE[type][k], JwkPrivateKeysTest.b64(seed * 37 + k, 22 + r.nextInt(300))});
                priv++;
            }
        }
        members.add(new String[] {"use", "sig"});
        Collections.shuffle(members, r);
        StringBuilder sb = new StringBuilder("{");
        for (int k = 0; k < members.size(); k++) {
            sb.append(k == 0 ? "" : ",")
                    .append(ws(r))
                    .append('"')
                    .append(name(members.get(k)[0], r))
                    .append('"')
                    .append(ws(r))
                    .append(':')
                    .append(ws(r))
                    .append('"')
                    .append(members.get(k)[1])
                    .append('"');
        }
        return new Doc(sb.append(ws(r)).append('}').toString(), priv);
    }

    static List<Doc> corpus() {
        Random r = new Random(7517);
        List<Doc> docs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Doc a = jwk(r, i, i % 2 == 0);
            Doc b = jwk(r, 1000 + i, i % 3 == 0);
            String json =
                    switch (i % 4) {
                        case 0 -> a.json();
                        case 1 -> "{\"keys\":[" + a.json() + "," + b.json() + "]}";
                        case 2 -> "[[" + a.json() + "],{\"wrapped\":" + b.json() + "}]";
                        default ->
                            "{\"data\":{\"k\":\"" + JwkPrivateKeysTest.b64(i, 30) + "\",\"key\":" + a.json() + "}}";
                    };
            docs.add(new Doc(json, a.privateMembers() + (i % 4 == 1 || i % 4 == 2 ? b.privateMembers() : 0)));
        }
        // The same keys pasted as JSON text into a prompt's string (escaped quotes), as an LLM API gets them
        for (int i = 0; i < 12; i++) {
            Doc a = jwk(r, 2000 + i, i % 3 != 0);
            String text = a.json()
                    .replace("\\", "\\\\")
                    .replace("\"", "\\\"")
                    .replace("\n", "\\n")
                    .replace("\r", "\\r")
                    .replace("\t", "\\t");
            docs.add(new Doc(
                    "{\"messages\":[{\"role\":\"user\",\"content\":\""
                            + ws(r).replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + text + "\"}]}",
                    a.privateMembers()));
        }
        return docs;
    }

    @Test
    void everyPrivateMemberFound_nothingElse_wholeAndSplitAtEveryByte() {
        for (Doc doc : corpus()) {
            Bodies.Result whole = Bodies.whole(JsonTransformer::new, ActionKind.REDACT, doc.json());
            assertThat(whole.findings())
                    .as(doc.json())
                    .hasSize(doc.privateMembers())
                    .allMatch(f -> f.startsWith("private_key@"));
            assertThat(count(whole.text(), "[REDACTED:private_key]")).isEqualTo(doc.privateMembers());
            byte[] b = doc.json().getBytes(StandardCharsets.UTF_8);
            for (int split = 1; split < b.length; split += 1) {
                assertThat(Bodies.twoChunks(JsonTransformer::new, ActionKind.REDACT, b, split))
                        .as("split %d", split)
                        .isEqualTo(whole.text());
            }
            for (int max = 1; max < 8; max++) {
                assertThat(Bodies.run(JsonTransformer::new, Bodies.rules(ActionKind.REDACT), b, new Random(max), max)
                                .text())
                        .isEqualTo(whole.text());
            }
        }
    }

    @Test
    void sameCorpusAsJsonLines_findsTheSameMembers() {
        StringBuilder lines = new StringBuilder();
        int expected = 0;
        for (Doc doc : corpus()) {
            lines.append(doc.json().replace("\n", " ").replace("\r", " ")).append('\n');
            expected += doc.privateMembers();
        }
        Bodies.Result r = Bodies.whole(SseTransformer::jsonLines, ActionKind.REDACT, lines.toString());
        assertThat(r.findings()).hasSize(expected);
        Bodies.Result chunked = Bodies.run(
                SseTransformer::jsonLines,
                Bodies.rules(ActionKind.REDACT),
                lines.toString().getBytes(StandardCharsets.UTF_8),
                new Random(3),
                97);
        assertThat(chunked.text()).isEqualTo(r.text());
    }

    /**
     * The same keys in prose, markdown and log lines (text/plain): every private member found, nothing else,
     * at every split and in 1 to 7-byte chunks.
     */
    @Test
    void sameKeysInProse_asTextPlain_everyPrivateMemberFound_atEverySplit() {
        Bodies.Factory text =
                (rules, hasher, out, listener) -> new TextTransformer(rules, hasher, out, listener, "body");
        String[] before = {
            "my key: ",
            "Sure, here it is:\n```json\n",
            "2026-11-23 INFO loaded key=",
            "{not json} ",
            "see (",
            "a {x} b "
        };
        String[] after = {" thanks", "\n```\n", " ok\n", "", ") end", " {"};
        List<Doc> docs = corpus();
        for (int i = 0; i < 40; i++) {
            Doc doc = docs.get(i);
            String in = before[i % before.length] + doc.json() + after[i % after.length];
            Bodies.Result whole = Bodies.whole(text, ActionKind.REDACT, in);
            assertThat(whole.findings())
                    .as(in)
                    .hasSize(doc.privateMembers())
                    .allMatch(f -> f.startsWith("private_key@"));
            assertThat(count(whole.text(), "[REDACTED:private_key]")).as(in).isEqualTo(doc.privateMembers());
            byte[] b = in.getBytes(StandardCharsets.UTF_8);
            for (int split = 1; split < b.length; split += 1 + i % 3) {
                assertThat(Bodies.twoChunks(text, ActionKind.REDACT, b, split))
                        .as("split %d", split)
                        .isEqualTo(whole.text());
            }
            for (int max = 1; max < 8; max++) {
                assertThat(Bodies.run(text, Bodies.rules(ActionKind.REDACT), b, new Random(max), max)
                                .text())
                        .isEqualTo(whole.text());
            }
        }
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int at = s.indexOf(part); at >= 0; at = s.indexOf(part, at + 1)) {
            n++;
        }
        return n;
    }
}
