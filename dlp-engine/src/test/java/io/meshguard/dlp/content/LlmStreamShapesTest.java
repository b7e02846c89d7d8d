package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.dlp.scan.ActionKind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Token streams other than OpenAI Chat Completions: a card number split over the deltas of the OpenAI Responses
 * API, Anthropic Messages, Gemini, Cohere, text-generation-inference or Ollama is found, at any chunking, and every
 * event (or line) stays valid JSON with its framing.
 */
class LlmStreamShapesTest {
    private static final Bodies.Factory SSE = SseTransformer::new;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final List<String> PIECES = List.of("Your card is 4111", " 1111 11", "11 1111", ", thanks");
    private static final String REDACTED = "Your card is [REDACTED:card], thanks";

    private static String responsesDelta(int output, String piece) {
        return "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_"
                + output + "\",\"output_index\":" + output + ",\"content_index\":0,\"delta\":" + quote(piece)
                + ",\"logprobs\":[]}\n\n";
    }

    private static String responsesDone(int output, String text) {
        return "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"item_id\":\"msg_"
                + output + "\",\"output_index\":" + output + ",\"content_index\":0,\"text\":" + quote(text) + "}\n\n";
    }

    private static String anthropicDelta(int index, String deltaType, String field, String piece) {
        return "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":" + index
                + ",\"delta\":{\"type\":\"" + deltaType + "\",\"" + field + "\":" + quote(piece) + "}}\n\n";
    }

    private static String geminiChunk(String piece) {
        return "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":" + quote(piece)
                + "}],\"role\":\"model\"},\"index\":0}],\"modelVersion\":\"gemini-2.5-flash\"}\n\n";
    }

    private static String quote(String s) {
        return JsonText.quote(s);
    }

    private static List<JsonNode> events(String out) throws Exception {
        List<JsonNode> events = new ArrayList<>();
        for (String block : out.split("\n\n")) {
            for (String line : block.split("\n")) {
                if (line.startsWith("data: ")) {
                    events.add(MAPPER.readTree(line.substring(6)));
                }
            }
        }
        return events;
    }

    private static String joined(List<JsonNode> events, Function<JsonNode, JsonNode> field) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode e : events) {
            JsonNode v = field.apply(e);
            if (v != null && !v.isMissingNode()) {
                sb.append(v.asText());
            }
        }
        return sb.toString();
    }

    private static String responsesStream() {
        StringBuilder sb = new StringBuilder("event: response.created\ndata: {\"type\":\"response.created\"}\n\n");
        PIECES.forEach(p -> sb.append(responsesDelta(0, p)));
        sb.append(responsesDone(0, String.join("", PIECES)));
        sb.append("event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"output\":[{"
                + "\"content\":[{\"type\":\"output_text\",\"text\":" + quote(String.join("", PIECES)) + "}]}]}}\n\n");
        return sb.toString();
    }

    @Test
    void responsesApi_cardSplitOverOutputTextDeltas_isRedacted_andTheFullTextEventsToo() throws Exception {
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, responsesStream());
        List<JsonNode> events = events(r.text());
        assertThat(events).hasSize(7);
        assertThat(joined(events, e -> e.at("/delta"))).isEqualTo(REDACTED);
        assertThat(events.get(5).get("text").asText()).isEqualTo(REDACTED);
        assertThat(events.get(6).at("/response/output/0/content/0/text").asText())
                .isEqualTo(REDACTED);
        assertThat(r.findings())
                .containsExactlyInAnyOrder(
                        "card@sse:output[0].content[0].output_text",
                        "card@sse:/text",
                        "card@sse:/response/output/0/content/0/text");
        assertThat(r.text()).doesNotContain("4111").contains("event: response.output_text.delta\n");
    }

    @Test
    void responsesApi_doneEvent_releasesTheHeldBackDeltaBeforeTheStreamEnds() {
        ByteSink out = new ByteSink();
        SseTransformer t = new SseTransformer(Bodies.rules(ActionKind.REDACT), Bodies.HASHER, out, (f, l) -> {});
        String deltas = responsesDelta(0, "call me at 4111 1111 1111 1111");
        t.write(bytes(deltas), 0, deltas.length());
        // the number could go on in the next delta: held back until the text ends
        assertThat(out.size()).isZero();
        String done = responsesDone(0, "call me at 4111 1111 1111 1111");
        t.write(bytes(done), 0, bytes(done).length);
        String got = new String(out.drain(), StandardCharsets.UTF_8);
        assertThat(got)
                .contains("\"delta\":\"call me at [REDACTED:card]\"")
                .contains("\"text\":\"call me at [REDACTED:card]\"");
    }

    @Test
    void responsesApi_functionCallArguments_areOneTextPerOutput() throws Exception {
        String in =
                "data: {\"type\":\"response.function_call_arguments.delta\",\"output_index\":1,\"delta\":\"{\\\"pan\\\":\\\"4111 1111\"}\n\n"
                        + "data: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"content_index\":0,\"delta\":\" 1111 \"}\n\n"
                        + "data: {\"type\":\"response.function_call_arguments.delta\",\"output_index\":1,\"delta\":\" 1111 1111\\\"}\"}\n\n";
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, in);
        List<JsonNode> events = events(r.text());
        assertThat(events.get(0).get("delta").asText()
                        + events.get(2).get("delta").asText())
                .isEqualTo("{\"pan\":\"[REDACTED:card]\"}");
        assertThat(events.get(1).get("delta").asText()).isEqualTo(" 1111 ");
        assertThat(r.findings()).containsExactly("card@sse:output[1].function_call_arguments");
    }

    @Test
    void anthropicMessages_textAndToolInputSplitOverBlockDeltas_areRedactedPerBlock() throws Exception {
        StringBuilder sb = new StringBuilder("event: message_start\ndata: {\"type\":\"message_start\"}\n\n");
        for (int i = 0; i < PIECES.size(); i++) {
            sb.append(anthropicDelta(0, "text_delta", "text", PIECES.get(i)));
            sb.append(anthropicDelta(
                    1,
                    "input_json_delta",
                    "partial_json",
                    i == 0 ? "{\"rrn\":\"9601" : i == 1 ? "21-10" : i == 2 ? "21413" : "\"}"));
        }
        sb.append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
        sb.append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, sb.toString());
        List<JsonNode> events = events(r.text());
        assertThat(joined(
                        events,
                        e -> e.get("index") != null && e.get("index").asInt() == 0 ? e.at("/delta/text") : null))
                .isEqualTo(REDACTED);
        assertThat(joined(events, e -> e.at("/delta/partial_json"))).isEqualTo("{\"rrn\":\"[REDACTED:kr_rrn]\"}");
        assertThat(r.findings())
                .containsExactlyInAnyOrder(
                        "card@sse:content_block[0].text", "kr_rrn@sse:content_block[1].partial_json");
        assertThat(events).hasSize(11);
    }

    @Test
    void anthropicMessages_blockStop_releasesTheHeldBackText() {
        ByteSink out = new ByteSink();
        SseTransformer t = new SseTransformer(Bodies.rules(ActionKind.REDACT), Bodies.HASHER, out, (f, l) -> {});
        String in = anthropicDelta(0, "text_delta", "text", "card 4111 1111 1111 1111");
        t.write(bytes(in), 0, bytes(in).length);
        assertThat(out.size()).isZero();
        String stop = "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
        t.write(bytes(stop), 0, bytes(stop).length);
        assertThat(new String(out.drain(), StandardCharsets.UTF_8))
                .contains("\"text\":\"card [REDACTED:card]\"")
                .endsWith(stop);
    }

    @Test
    void gemini_cardSplitOverCandidateParts_isRedacted() throws Exception {
        StringBuilder sb = new StringBuilder();
        PIECES.forEach(p -> sb.append(geminiChunk(p)));
        sb.append("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}]},\"finishReason\":\"STOP\","
                + "\"index\":0}]}\n\n");
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, sb.toString());
        assertThat(joined(events(r.text()), e -> e.at("/candidates/0/content/parts/0/text")))
                .isEqualTo(REDACTED);
        assertThat(r.findings()).containsExactly("card@sse:candidate[0].text");
    }

    @Test
    void textGenerationInference_cardSplitOverTokens_isRedacted_andTheGeneratedTextToo() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < PIECES.size(); i++) {
            sb.append(tgiToken(i, PIECES.get(i), null));
        }
        sb.append(tgiToken(9, "", String.join("", PIECES)));
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, sb.toString());
        List<JsonNode> events = events(r.text());
        assertThat(joined(events, e -> e.at("/token/text"))).isEqualTo(REDACTED);
        assertThat(events.get(events.size() - 1).get("generated_text").asText()).isEqualTo(REDACTED);
        assertThat(r.findings()).containsExactlyInAnyOrder("card@sse:token.text", "card@sse:/generated_text");
    }

    private static String tgiToken(int id, String text, String generated) {
        return "data: {\"index\":" + id + ",\"token\":{\"id\":" + (100 + id) + ",\"text\":" + quote(text)
                + ",\"logprob\":-0.1,\"special\":false},\"generated_text\":"
                + (generated == null ? "null" : quote(generated)) + ",\"details\":null}\n\n";
    }

    @Test
    void cohereChatV2_cardSplitOverContentDeltas_isRedacted() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (String p : PIECES) {
            sb.append("event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":"
                    + "{\"content\":{\"text\":" + quote(p) + "}}}}\n\n");
        }
        sb.append("event: content-end\ndata: {\"type\":\"content-end\",\"index\":0}\n\n");
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, sb.toString());
        assertThat(joined(events(r.text()), e -> e.at("/delta/message/content/text")))
                .isEqualTo(REDACTED);
        assertThat(r.findings()).containsExactly("card@sse:content[0].text");
    }

    private static final Bodies.Factory JSON_LINES = SseTransformer::jsonLines;

    private static String ollamaChat(String piece, boolean done) {
        return "{\"model\":\"llama3.1\",\"created_at\":\"2026-11-21T10:00:00Z\",\"message\":{\"role\":\"assistant\","
                + "\"content\":" + quote(piece) + "},\"done\":" + done + "}\n";
    }

    @Test
    void ollamaChatJsonLines_cardSplitOverLines_isRedacted_eachLineStaysOneJsonDocument() throws Exception {
        StringBuilder sb = new StringBuilder();
        PIECES.forEach(p -> sb.append(ollamaChat(p, false)));
        sb.append(ollamaChat("", true));
        Bodies.Result r = Bodies.whole(JSON_LINES, ActionKind.REDACT, sb.toString());
        String[] lines = r.text().split("\n");
        assertThat(lines).hasSize(PIECES.size() + 1);
        StringBuilder text = new StringBuilder();
        for (String line : lines) {
            text.append(MAPPER.readTree(line).at("/message/content").asText());
        }
        assertThat(text.toString()).isEqualTo(REDACTED);
        assertThat(r.findings()).containsExactly("card@sse:message.content");
        assertThat(r.text()).endsWith("\"done\":true}\n");
    }

    @Test
    void ollamaGenerateJsonLines_lastLineWithoutLineEnd_andANonJsonLine_areStillScanned() throws Exception {
        String in = "{\"model\":\"m\",\"response\":\"pay 4111 1111\",\"done\":false}\n"
                + "not json: 5105 1051 0510 5100\n"
                + "{\"model\":\"m\",\"response\":\" 1111 1111\",\"done\":false}\n"
                + "{\"model\":\"m\",\"response\":\"\",\"done\":true,\"context\":[1,2]}";
        Bodies.Result r = Bodies.whole(JSON_LINES, ActionKind.REDACT, in);
        assertThat(r.text())
                .isEqualTo("{\"model\":\"m\",\"response\":\"pay [REDACTED:card]\",\"done\":false}\n"
                        + "not json: [REDACTED:card]\n"
                        + "{\"model\":\"m\",\"response\":\"\",\"done\":false}\n"
                        + "{\"model\":\"m\",\"response\":\"\",\"done\":true,\"context\":[1,2]}");
        assertThat(r.findings()).containsExactlyInAnyOrder("card@sse:response", "card@sse:data");
    }

    @Test
    void ollamaJsonLines_replayedAtManyChunkSizes_givesTheSameOutput() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            PIECES.forEach(p -> sb.append(ollamaChat(p, false)));
            sb.append(ollamaChat("", true));
        }
        byte[] in = sb.toString().getBytes(StandardCharsets.UTF_8);
        Bodies.Result expected = Bodies.run(JSON_LINES, Bodies.rules(ActionKind.MASK), in, null, 0);
        assertThat(expected.findings()).hasSize(5);
        for (int size : new int[] {1, 2, 5, 33, 400}) {
            Bodies.Result r = Bodies.run(JSON_LINES, Bodies.rules(ActionKind.MASK), in, new Random(size), size);
            assertThat(r.text()).as("chunks up to %d", size).isEqualTo(expected.text());
        }
    }

    @Test
    void everyShape_replayedAtManyChunkSizes_givesTheSameOutput() {
        StringBuilder all = new StringBuilder(responsesStream());
        PIECES.forEach(p -> all.append(anthropicDelta(2, "text_delta", "text", p))
                .append(geminiChunk(p))
                .append(tgiToken(1, p, null)));
        byte[] in = all.toString().replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
        Bodies.Result expected = Bodies.run(SSE, Bodies.rules(ActionKind.MASK), in, null, 0);
        assertThat(expected.text()).doesNotContain("4111");
        for (int size : new int[] {1, 2, 3, 7, 64, 500}) {
            Bodies.Result r = Bodies.run(SSE, Bodies.rules(ActionKind.MASK), in, new Random(size), size);
            assertThat(r.text()).as("chunks up to %d", size).isEqualTo(expected.text());
            assertThat(r.findings()).isEqualTo(expected.findings());
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
