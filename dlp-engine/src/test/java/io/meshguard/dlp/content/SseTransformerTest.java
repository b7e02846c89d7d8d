package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.dlp.scan.ActionKind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SseTransformerTest {
    private static final Bodies.Factory SSE = SseTransformer::new;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    static String delta(String id, int choice, String content) {
        return "id: " + id
                + "\ndata: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":"
                + choice + ",\"delta\":{\"content\":" + content + "},\"finish_reason\":null}]}\n\n";
    }

    /** An LLM answer whose card number and RRN arrive split over several token deltas, two choices interleaved. */
    static String llmStream() {
        List<String> tokens0 = List.of(
                "\"Your card \"",
                "\"is 4111\"",
                "\" 1111 11\"",
                "\"11 1111\"",
                "\".\"",
                "\" RRN \"",
                "\"9601\"",
                "\"21-10\"",
                "\"21413\"",
                "\" 감사합니다\"");
        List<String> tokens1 = List.of("\"Mail \"", "\"kim@\"", "\"bank.co.kr\"", "\" ok\"");
        StringBuilder sb = new StringBuilder(": keep-alive comment\n\n");
        int id = 0;
        for (int i = 0; i < tokens0.size(); i++) {
            sb.append(delta(Integer.toString(id++), 0, tokens0.get(i)));
            if (i < tokens1.size()) {
                sb.append(delta(Integer.toString(id++), 1, tokens1.get(i)));
            }
        }
        sb.append("data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"},"
                + "{\"index\":1,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        sb.append("data: [DONE]\n\n");
        return sb.toString();
    }

    private static List<JsonNode> events(String out) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        for (String block : out.split("\n\n")) {
            for (String line : block.split("\n")) {
                if (line.startsWith("data: ") && !line.equals("data: [DONE]")) {
                    events.add(MAPPER.readTree(line.substring(6)));
                }
            }
        }
        return events;
    }

    private static String text(List<JsonNode> events, int choice) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode e : events) {
            for (JsonNode c : e.get("choices")) {
                if (c.get("index").asInt() == choice && c.get("delta").has("content")) {
                    sb.append(c.get("delta").get("content").asText());
                }
            }
        }
        return sb.toString();
    }

    @Test
    void numbersSplitAcrossTokenDeltas_areFound_andEveryEventStaysValidJson() throws Exception {
        Bodies.Result r = Bodies.whole(SSE, ActionKind.MASK, llmStream());
        List<JsonNode> events = events(r.text());
        assertThat(text(events, 0)).isEqualTo("Your card is **** **** **** 1111. RRN ******-***1413 감사합니다");
        assertThat(text(events, 1)).isEqualTo("Mail ***@****.co.kr ok");
        assertThat(r.findings())
                .containsExactlyInAnyOrder(
                        "card@sse:choice[0].content", "kr_rrn@sse:choice[0].content", "email@sse:choice[1].content");
        // Framing kept: same number of events, ids in order, comment and [DONE] untouched.
        assertThat(r.text()).startsWith(": keep-alive comment\n\nid: 0\ndata: ").endsWith("data: [DONE]\n\n");
        assertThat(r.text().split("\n\n")).hasSize(llmStream().split("\n\n").length);
        assertThat(r.text()).doesNotContain("4111").doesNotContain("1021413").doesNotContain("kim@");
    }

    @Test
    void replayedAtManyChunkSizes_outputIsIdentical() {
        byte[] in = llmStream().repeat(3).replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
        Bodies.Result expected = Bodies.run(SSE, Bodies.rules(ActionKind.REDACT), in, null, 0);
        assertThat(expected.findings()).hasSize(9);
        for (int size : new int[] {1, 2, 3, 5, 7, 16, 64, 1000}) {
            Random random = new Random(size);
            Bodies.Result r = Bodies.run(SSE, Bodies.rules(ActionKind.REDACT), in, random, size);
            assertThat(r.text()).as("chunks up to %d", size).isEqualTo(expected.text());
        }
    }

    @Test
    void leadingByteOrderMark_doesNotHideTheFirstEvent() {
        String in = "\uFEFFdata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"4111111111111111\"}}]}\n\n";
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, in);
        assertThat(r.text())
                .isEqualTo("\uFEFFdata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"[REDACTED:card]\"}}]}\n\n");
    }

    @Test
    void unchangedEvents_areCopiedByteForByte() {
        String in =
                "event: message\r\nid: 7\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"h\\u00e9llo\"}}]}\r\n\r\n"
                        + "retry: 10\n\ndata: plain text line\ndata: second line\n\n";
        assertThat(Bodies.whole(SSE, ActionKind.MASK, in).text()).isEqualTo(in);
    }

    @Test
    void nonJsonAndMultiLineData_isScannedAsText_keepingLines() {
        String in = "data: card 4111 1111 1111 1111\ndata: next line\n\n";
        assertThat(Bodies.whole(SSE, ActionKind.REDACT, in).text())
                .isEqualTo("data: card [REDACTED:card]\ndata: next line\n\n");
    }

    @Test
    void malformedJsonEvent_isScannedAsText() {
        String in = "data: {\"choices\":[{\"delta\":{\"content\":\"4111111111111111\"}}\n\n";
        assertThat(Bodies.whole(SSE, ActionKind.REDACT, in).text())
                .isEqualTo("data: {\"choices\":[{\"delta\":{\"content\":\"[REDACTED:card]\"}}\n\n");
    }

    @Test
    void cardSentAsAJsonNumber_becomesAMaskedString_otherNumbersAndLiteralsStay() throws Exception {
        String in = "data: {\"created\":1732180000,\"pan\":5105105105105100,\"ok\":true,\"n\":null,"
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n";
        Bodies.Result r = Bodies.whole(SSE, ActionKind.MASK, in);
        assertThat(r.text())
                .isEqualTo("data: {\"created\":1732180000,\"pan\":\"************5100\",\"ok\":true,"
                        + "\"n\":null,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n");
        assertThat(MAPPER.readTree(r.text().substring(6)).get("pan").asText()).isEqualTo("************5100");
        assertThat(r.findings()).containsExactly("card@sse:/pan");
    }

    @Test
    void toolCallArguments_areReassembledPerToolCall() throws Exception {
        String in =
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"pan\\\":\\\"4111\"}}]}}]}\n\n"
                        + "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"111111111111\\\"}\"}}]}}]}\n\n"
                        + "data: [DONE]\n\n";
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, in);
        assertThat(r.findings()).containsExactly("card@sse:choice[0].tool[0].arguments");
        StringBuilder args = new StringBuilder();
        for (JsonNode e : events(r.text())) {
            args.append(e.at("/choices/0/delta/tool_calls/0/function/arguments").asText());
        }
        assertThat(args.toString()).isEqualTo("{\"pan\":\"[REDACTED:card]\"}");
    }

    @Test
    void blockedStream_stopsWritingBeforeTheOffendingEvent() {
        String in = delta("1", 0, "\"hello \"") + delta("2", 0, "\"4111 1111 \"") + delta("3", 0, "\"1111 1111\"")
                + "data: [DONE]\n\n";
        Bodies.Result r = Bodies.whole(SSE, ActionKind.BLOCK, in);
        assertThat(r.blocked()).isNotNull();
        assertThat(r.text()).contains("hello").doesNotContain("4111");
    }

    @Test
    void streamEndingWithoutDone_orMidEvent_losesNothing() {
        String in = delta("1", 0, "\"card 4111111111111111\"") + "data: {\"partial\": \"4012888888881881";
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, in);
        assertThat(r.text()).contains("card [REDACTED:card]").endsWith("data: {\"partial\": \"[REDACTED:card]");
    }
}
