package io.meshguard.dlp.content;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which strings of one SSE event's JSON are pieces of a longer text that an LLM streams token by token, and which
 * of those texts the event ends. A card number can be split over any number of such pieces, so each text must be
 * scanned as one stream across events; a shape not listed here is scanned an event at a time and a value split
 * over two events passes. Known shapes:
 * <ul>
 *   <li>OpenAI Chat Completions and legacy Completions: {@code choices[].delta.content} (also {@code reasoning},
 *       {@code reasoning_content}, {@code refusal}), {@code choices[].delta.tool_calls[].function.arguments},
 *       {@code choices[].text}; a {@code finish_reason} ends the choice's texts.</li>
 *   <li>OpenAI Responses API: the {@code delta} of every {@code response.<what>.delta} event, one text per
 *       {@code <what>} and output/content/summary index; {@code response.<what>.done} ends it,
 *       {@code response.completed}, {@code .incomplete}, {@code .failed} and {@code error} end them all.</li>
 *   <li>Anthropic Messages: {@code content_block_delta} events' {@code delta.text}, {@code delta.partial_json} and
 *       {@code delta.thinking}, one text per block index; {@code content_block_stop} and {@code message_stop} end
 *       them.</li>
 *   <li>Google Gemini ({@code alt=sse}): {@code candidates[].content.parts[].text}, one text per candidate; a
 *       {@code finishReason} ends it.</li>
 *   <li>Hugging Face text-generation-inference ({@code /generate_stream}): {@code token.text}; the last event's
 *       {@code generated_text} ends it.</li>
 *   <li>Cohere chat v2: {@code content-delta} events' {@code delta.message.content.text} per index, ended by
 *       {@code content-end}; {@code tool-call-delta} events' {@code delta.message.tool_calls.function.arguments},
 *       ended by {@code tool-call-end}; {@code message-end} ends both.</li>
 *   <li>Ollama ({@code application/x-ndjson}, one JSON document per line): {@code message.content},
 *       {@code message.thinking}, {@code response}, {@code thinking} of lines that carry a {@code done} flag;
 *       {@code "done": true} ends them.</li>
 * </ul>
 * A text's key is also where its findings are reported ({@code choice[0].content},
 * {@code output[0].content[0].output_text}, {@code content_block[0].text}, {@code candidate[0].text},
 * {@code token.text}, {@code message.content}).
 */
final class TokenDeltas {
    private static final String RESPONSES_PREFIX = "response.";
    private static final List<String> OLLAMA_TEXTS = List.of("message.", "response", "thinking");
    private static final List<Object> COHERE_TEXT = List.of("delta", "message", "content", "text");
    private static final List<Object> COHERE_ARGUMENTS =
            List.of("delta", "message", "tool_calls", "function", "arguments");

    private final String[] keys;
    private final List<String> ended;

    private TokenDeltas(String[] keys, List<String> ended) {
        this.keys = keys;
        this.ended = ended;
    }

    /** Reads the shape of one event from its scalars (as {@link JsonTokens#read} gives them). */
    static TokenDeltas of(byte[] data, List<JsonTokens.Scalar> scalars) {
        Map<Integer, Integer> choiceIndex = new HashMap<>();
        Map<String, Integer> toolIndex = new HashMap<>();
        Map<Integer, Integer> candidateIndex = new HashMap<>();
        Map<String, Integer> top = new HashMap<>();
        String type = "";
        String done = null;
        for (JsonTokens.Scalar s : scalars) {
            List<Object> p = s.path();
            if (p.size() == 1 && "type".equals(p.get(0)) && s.string()) {
                type = new String(JsonStrings.decodeBytes(data, s.start(), s.end()), StandardCharsets.UTF_8);
            } else if (p.size() == 1 && "done".equals(p.get(0)) && !s.string()) {
                done = new String(data, s.start(), s.end() - s.start(), StandardCharsets.US_ASCII);
            } else if (s.string()) {
                continue;
            } else if (p.size() == 1 && p.get(0) instanceof String name) {
                top.put(name, parseInt(data, s));
            } else if (p.size() == 3 && "choices".equals(p.get(0)) && "index".equals(p.get(2))) {
                choiceIndex.put((Integer) p.get(1), parseInt(data, s));
            } else if (p.size() == 6 && "choices".equals(p.get(0)) && "tool_calls".equals(p.get(3))
                    && "index".equals(p.get(5))) {
                toolIndex.put(p.get(1) + "/" + p.get(4), parseInt(data, s));
            } else if (p.size() == 3 && "candidates".equals(p.get(0)) && "index".equals(p.get(2))) {
                candidateIndex.put((Integer) p.get(1), parseInt(data, s));
            }
        }
        String responsesText = responsesText(type, ".delta", top);
        String[] keys = new String[scalars.size()];
        List<String> ended = new ArrayList<>(1);
        for (int i = 0; i < keys.length; i++) {
            JsonTokens.Scalar s = scalars.get(i);
            if (!s.string()) {
                continue;
            }
            List<Object> p = s.path();
            String key = chatKey(p, choiceIndex, toolIndex);
            if (key == null && responsesText != null && p.size() == 1 && "delta".equals(p.get(0))) {
                key = responsesText;
            }
            if (key == null && "content_block_delta".equals(type) && p.size() == 2 && "delta".equals(p.get(0))
                    && ("text".equals(p.get(1)) || "partial_json".equals(p.get(1)) || "thinking".equals(p.get(1)))) {
                key = "content_block[" + top.getOrDefault("index", -1) + "]." + p.get(1);
            }
            if (key == null && p.size() == 6 && "candidates".equals(p.get(0)) && p.get(1) instanceof Integer c
                    && "content".equals(p.get(2)) && "parts".equals(p.get(3)) && "text".equals(p.get(5))) {
                key = "candidate[" + candidateIndex.getOrDefault(c, c) + "].text";
            }
            if (key == null && p.size() == 2 && "token".equals(p.get(0)) && "text".equals(p.get(1))) {
                key = "token.text";
            }
            if (key == null && done != null) {
                key = ollamaKey(p);
            }
            if (key == null && "content-delta".equals(type) && p.equals(COHERE_TEXT)) {
                key = "content[" + top.getOrDefault("index", -1) + "].text";
            }
            if (key == null && "tool-call-delta".equals(type) && p.equals(COHERE_ARGUMENTS)) {
                key = "tool_call[" + top.getOrDefault("index", -1) + "].arguments";
            }
            keys[i] = key;
            if (p.size() == 3 && "choices".equals(p.get(0)) && "finish_reason".equals(p.get(2))) {
                ended.add("choice[" + choiceIndex.getOrDefault((Integer) p.get(1), (Integer) p.get(1)) + "].");
            }
            if (p.size() == 1 && "generated_text".equals(p.get(0))) {
                ended.add("token.");
            }
            if (p.size() == 3 && "candidates".equals(p.get(0)) && "finishReason".equals(p.get(2))) {
                ended.add("candidate[" + candidateIndex.getOrDefault((Integer) p.get(1), (Integer) p.get(1)) + "].");
            }
        }
        String responsesDone = responsesText(type, ".done", top);
        if (responsesDone != null) {
            ended.add(responsesDone);
        }
        if ("true".equals(done)) {
            ended.addAll(OLLAMA_TEXTS);
        }
        switch (type) {
            case "response.completed", "response.incomplete", "response.failed", "error" -> ended.add("output[");
            case "content_block_stop" -> ended.add("content_block[" + top.getOrDefault("index", -1) + "].");
            case "message_stop" -> ended.add("content_block[");
            case "content-end" -> ended.add("content[" + top.getOrDefault("index", -1) + "].");
            case "tool-call-end" -> ended.add("tool_call[" + top.getOrDefault("index", -1) + "].");
            case "message-end" -> ended.addAll(List.of("content[", "tool_call["));
            default -> { }
        }
        return new TokenDeltas(keys, ended);
    }

    /** The text the i-th scalar continues, or null when it is a value of its own. */
    String keyOf(int scalar) {
        return keys[scalar];
    }

    /** Key prefixes of the texts this event ends (after its own pieces). */
    List<String> endedPrefixes() {
        return ended;
    }

    private static String chatKey(List<Object> p, Map<Integer, Integer> choiceIndex,
            Map<String, Integer> toolIndex) {
        if (p.size() < 3 || !"choices".equals(p.get(0)) || !(p.get(1) instanceof Integer pos)) {
            return null;
        }
        String choice = "choice[" + choiceIndex.getOrDefault(pos, pos) + "]";
        if (p.size() == 3 && "text".equals(p.get(2))) {
            return choice + ".text";
        }
        if (p.size() == 4 && "delta".equals(p.get(2))) {
            Object f = p.get(3);
            if ("content".equals(f) || "reasoning_content".equals(f) || "reasoning".equals(f)
                    || "refusal".equals(f)) {
                return choice + "." + f;
            }
        }
        if (p.size() == 7 && "delta".equals(p.get(2)) && "tool_calls".equals(p.get(3))
                && p.get(4) instanceof Integer tpos && "function".equals(p.get(5)) && "arguments".equals(p.get(6))) {
            return choice + ".tool[" + toolIndex.getOrDefault(pos + "/" + tpos, tpos) + "].arguments";
        }
        return null;
    }

    /**
     * The key of the Responses API text a {@code response.<what><suffix>} event belongs to: one per {@code <what>}
     * and output, content and summary index (whichever the event carries); null for any other event.
     */
    private static String responsesText(String type, String suffix, Map<String, Integer> top) {
        if (!type.startsWith(RESPONSES_PREFIX) || !type.endsWith(suffix)
                || type.length() <= RESPONSES_PREFIX.length() + suffix.length()) {
            return null;
        }
        StringBuilder key = new StringBuilder("output[").append(top.getOrDefault("output_index", -1)).append(']');
        if (top.containsKey("content_index")) {
            key.append(".content[").append(top.get("content_index")).append(']');
        }
        if (top.containsKey("summary_index")) {
            key.append(".summary[").append(top.get("summary_index")).append(']');
        }
        return key.append('.').append(type, RESPONSES_PREFIX.length(), type.length() - suffix.length()).toString();
    }

    /** Ollama's {@code /api/chat} and {@code /api/generate} lines (recognised by their {@code done} flag). */
    private static String ollamaKey(List<Object> p) {
        if (p.size() == 2 && "message".equals(p.get(0)) && ("content".equals(p.get(1)) || "thinking".equals(p.get(1)))) {
            return "message." + p.get(1);
        }
        if (p.size() == 1 && ("response".equals(p.get(0)) || "thinking".equals(p.get(0)))) {
            return (String) p.get(0);
        }
        return null;
    }

    private static int parseInt(byte[] d, JsonTokens.Scalar s) {
        try {
            return Integer.parseInt(new String(d, s.start(), s.end() - s.start(), StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
