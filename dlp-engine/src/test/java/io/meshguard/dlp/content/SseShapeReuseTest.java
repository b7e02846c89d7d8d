package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.content.SseTransformerEquivalenceTest.Trace;
import io.meshguard.dlp.detect.BuiltinDetector;
import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link SseTransformer} reads an event that repeats the last one's JSON but inside one string by comparison, and
 * skips the values that were quiet at the same path: against the same transformer tokenising and scanning every
 * event ({@link SseTransformer#withoutShapeReuse}), streams of the known LLM shapes whose events repeat with one
 * field changed (the token, an event's {@code type}, an id turned into PII and back, a number that is a card number,
 * escapes and quotes arriving in the token) fed at random chunkings give the same bytes after every chunk, the same
 * findings in the same order with the same locations, the same held-back counts and the same block.
 */
@SlowTest
class SseShapeReuseTest {
    private static final String[] PII = {"4111 1111 1111 1111", "kim@bank.co.kr", "960121-1021413", "010-1234-5678"};
    private static final String[] TOKENS = {
        " the",
        " card",
        " is",
        " 4111",
        " 1111",
        " 1111 1111",
        "",
        " \u00e9t\u00e9",
        " \ud83d\ude00",
        " a\\\"quote\\\"",
        " line\\nbreak",
        " \\u00e9",
        " kim@",
        "bank.co.kr",
        " 960121",
        "-1021413",
        " \u00c3",
        "\u00a9 x"
    };

    private static String pick(Random r, String[] from) {
        return from[r.nextInt(from.length)];
    }

    /** A field that keeps its last value most of the time, so events repeat. */
    private static final class Sticky {
        String value;

        Sticky(String value) {
            this.value = value;
        }

        String next(Random r, int oneIn, String... choices) {
            if (r.nextInt(oneIn) == 0) {
                value = choices[r.nextInt(choices.length)];
            }
            return value;
        }
    }

    static byte[] stream(Random r, boolean jsonLines) {
        StringBuilder sb = new StringBuilder();
        Sticky id = new Sticky("chatcmpl-1");
        Sticky created = new Sticky("1732400000");
        Sticky type = new Sticky("content_block_delta");
        Sticky responses = new Sticky("response.output_text.delta");
        Sticky model = new Sticky("gpt");
        Sticky kty = new Sticky("RSA");
        Sticky member = new Sticky("d");
        Sticky ktyName = new Sticky("kty");
        int shape = r.nextInt(7);
        int events = 10 + r.nextInt(60);
        for (int e = 0; e < events; e++) {
            if (r.nextInt(12) == 0) {
                shape = r.nextInt(7); // streams do not mix shapes, but the reader must not care
            }
            String token = pick(r, TOKENS);
            if (r.nextInt(10) == 0) {
                token = " " + pick(r, PII);
            }
            String json =
                    switch (jsonLines ? 5 : shape) {
                        case 0 ->
                            "{\"id\":\"" + id.next(r, 15, "chatcmpl-1", "chatcmpl-2", "kim@bank.co.kr")
                                    + "\",\"object\":\"chat.completion.chunk\",\"created\":"
                                    + created.next(r, 15, "1732400000", "4111111111111111", "-1") + ",\"model\":\""
                                    + model.next(r, 20, "gpt", "4111 1111 1111 1111", "m\\u00e9")
                                    + "\",\"choices\":[{\"index\":"
                                    + (r.nextInt(10) == 0 ? 1 : 0) + ",\"delta\":{\""
                                    + (r.nextInt(8) == 0 ? "reasoning_content" : "content") + "\":\"" + token
                                    + "\"},\"finish_reason\":"
                                    + (r.nextInt(25) == 0 ? "\"stop\"" : "null") + "}]}";
                        case 1 ->
                            "{\"type\":\""
                                    + type.next(
                                            r,
                                            6,
                                            "content_block_delta",
                                            "content_block_stop",
                                            "message_stop",
                                            "ping",
                                            "content_block_delta")
                                    + "\",\"index\":" + r.nextInt(2)
                                    + ",\"delta\":{\"type\":\"text_delta\",\"text\":\"" + token + "\"}}";
                        case 2 ->
                            "{\"type\":\""
                                    + responses.next(
                                            r,
                                            6,
                                            "response.output_text.delta",
                                            "response.output_text.done",
                                            "response.reasoning_summary_text.delta",
                                            "response.completed")
                                    + "\",\"output_index\":0,\"content_index\":0,\"delta\":\"" + token + "\"}";
                        case 3 ->
                            "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"" + token
                                    + "\"}],\"role\":\"model\"}"
                                    + (r.nextInt(20) == 0 ? ",\"finishReason\":\"STOP\"" : "") + ",\"index\":0}]}";
                        case 4 ->
                            "{\"note\":\"" + token + "\",\"n\":" + created.next(r, 5, "12", "4111111111111111")
                                    + ",\"k\":\"" + id.next(r, 8, "v", "kim@bank.co.kr") + "\"}";
                        case 6 ->
                            "{\"delta\":\"" + token + "\",\"key\":{\"" + ktyName.next(r, 8, "kty", "kid")
                                    + "\":\"" + kty.next(r, 6, "RSA", "EC", "oct", "none") + "\",\""
                                    + member.next(r, 8, "d", "k", "n") + "\":\""
                                    + (r.nextInt(3) == 0 ? token : "AQAB0Zx9mF1yQ4ve8q7Kc2kQe4jXl0bq3Tnq8G7Yh5yG3dVg")
                                    + "\"}}";
                        default ->
                            "{\"model\":\"" + model.next(r, 20, "llama", "kim@bank.co.kr") + "\",\"message\":{"
                                    + "\"role\":\"assistant\",\"content\":\"" + token + "\"},\"done\":"
                                    + (r.nextInt(30) == 0 ? "true" : "false") + "}";
                    };
            if (jsonLines) {
                sb.append(json).append('\n');
            } else {
                if (r.nextInt(15) == 0) {
                    sb.append(": ping\n\n");
                }
                if (r.nextInt(20) == 0) {
                    sb.append("data: [DONE]\n\n");
                }
                if (r.nextInt(20) == 0) {
                    sb.append("data: {\"broken\":\n\n");
                }
                if (r.nextInt(10) == 0) { // the same JSON over two data lines
                    int cut = json.indexOf(',') + 1;
                    sb.append("data: ")
                            .append(json, 0, cut)
                            .append("\ndata: ")
                            .append(json.substring(cut))
                            .append("\n\n");
                } else {
                    sb.append("data: ").append(json).append(r.nextInt(8) == 0 ? "\r\n\r\n" : "\n\n");
                }
            }
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Trace run(boolean reuse, boolean jsonLines, ScanRules rules, byte[] in, int[] cuts) {
        return SseTransformerEquivalenceTest.run(
                (out, listener) -> reuse
                        ? (jsonLines
                                ? SseTransformer.jsonLines(rules, Bodies.HASHER, out, listener)
                                : new SseTransformer(rules, Bodies.HASHER, out, listener))
                        : SseTransformer.withoutShapeReuse(rules, Bodies.HASHER, out, listener, jsonLines),
                in,
                cuts);
    }

    @Test
    void repeatingEvents_atRandomChunkings_matchTheTransformerThatReadsEveryEvent_forEveryAction() {
        Random r = new Random(Long.getLong("sse.reuse.seed", 2026112329L));
        int withFindings = 0;
        int withPrivateKeys = 0;
        int streams = Integer.getInteger("sse.reuse.streams", 400);
        for (int n = 0; n < streams; n++) {
            boolean jsonLines = n % 5 == 4;
            byte[] in = stream(r, jsonLines);
            ActionKind action = ActionKind.values()[n % ActionKind.values().length];
            ScanRules rules = Bodies.rules(action);
            for (int maxChunk : new int[] {in.length, 1, 9, 150}) {
                int[] cuts = maxChunk == in.length
                        ? new int[] {in.length}
                        : SseTransformerEquivalenceTest.randomCuts(r, in.length, maxChunk);
                Trace expected = run(false, jsonLines, rules, in, cuts);
                Trace actual = run(true, jsonLines, rules, in, cuts);
                String what = "stream " + n + " (" + action + ", chunks up to " + maxChunk + ")";
                assertThat(actual.findings()).as(what + ": findings").isEqualTo(expected.findings());
                assertThat(actual.blocked()).as(what + ": block").isEqualTo(expected.blocked());
                assertThat(actual.perChunk())
                        .as(what + ": bytes after each chunk")
                        .isEqualTo(expected.perChunk());
                assertThat(actual.heldBack()).as(what + ": held back").isEqualTo(expected.heldBack());
                if (maxChunk == in.length && !expected.findings().isEmpty()) {
                    withFindings++;
                }
                if (maxChunk == in.length
                        && expected.findings().stream()
                                .anyMatch(f -> f.startsWith(BuiltinDetector.PRIVATE_KEY.id() + "/"))) {
                    withPrivateKeys++; // JWK private members, whose test JwkDocuments answers per event
                }
            }
        }
        assertThat(withFindings).isGreaterThan(streams / 2);
        assertThat(withPrivateKeys).isGreaterThan(streams / 20);
    }

    @Test
    void aValueWithAFinding_isReportedAgainInEveryEventThatRepeatsIt() {
        String event =
                "data: {\"id\":\"kim@bank.co.kr\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s\"}}]}" + "\n\n";
        byte[] in = (event.formatted(" a") + event.formatted(" b") + event.formatted(" c"))
                .getBytes(StandardCharsets.UTF_8);
        Trace t = run(true, false, Bodies.rules(ActionKind.REDACT), in, new int[] {in.length});
        assertThat(t.findings()).hasSize(3).allMatch(f -> f.endsWith("@sse:/id"));
        assertThat(String.join("", t.perChunk()))
                .doesNotContain("kim@bank.co.kr")
                .contains("\" a\"", "\" c\"");
    }
}
