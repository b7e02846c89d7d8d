package io.meshguard.dlp.content;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
 *   <li>Cohere chat v2: {@code content-delta} events' {@code delta.message.content.text} per index, ended by
 *       {@code content-end}; {@code tool-call-delta} events' {@code delta.message.tool_calls.function.arguments},
 *       ended by {@code tool-call-end}; {@code message-end} ends both.</li>
 *   <li>Hugging Face text-generation-inference ({@code /generate_stream}): {@code token.text}; the last event's
 *       {@code generated_text} ends it.</li>
 *   <li>Ollama ({@code application/x-ndjson}, one JSON document per line): {@code message.content},
 *       {@code message.thinking}, {@code response}, {@code thinking} of lines that carry a {@code done} flag;
 *       {@code "done": true} ends them.</li>
 * </ul>
 * A text's key is also where its findings are reported ({@code choice[0].content},
 * {@code output[0].content[0].output_text}, {@code content_block[0].text}, {@code candidate[0].text},
 * {@code token.text}, {@code message.content}). One instance serves every event of a stream: it is read per event
 * and its answers hold until the next read.
 */
final class TokenDeltas {
    private static final String RESPONSES_PREFIX = "response.";
    private static final int ABSENT = Integer.MIN_VALUE;
    private static final String[] CHAT_DELTA_FIELDS = {"content", "reasoning_content", "reasoning", "refusal"};
    private static final String[] BLOCK_FIELDS = {"text", "partial_json", "thinking"};
    private static final List<String> OLLAMA_TEXTS = List.of("message.", "response", "thinking");
    private static final Object[] COHERE_TEXT = {"delta", "message", "content", "text"};
    private static final Object[] COHERE_ARGUMENTS = {"delta", "message", "tool_calls", "function", "arguments"};

    // Kinds of key, for the cache of keys already spelled (a stream's events name the same few texts).
    private static final int CHAT_TEXT = 0;
    private static final int CHAT_DELTA = 1; // + field index
    private static final int CHAT_TOOL = 5;
    private static final int BLOCK = 6; // + field index
    private static final int CANDIDATE = 9;
    private static final int COHERE_CONTENT = 10;
    private static final int COHERE_TOOL = 11;

    private final IndexMap choiceIndex = new IndexMap();
    private final IndexMap candidateIndex = new IndexMap();
    private final Map<String, Integer> toolIndex = new HashMap<>();
    private String type = "";
    private String done;
    private int index;
    private int outputIndex;
    private int contentIndex;
    private int summaryIndex;
    private String[] keys = new String[16];
    private final List<String> ended = new ArrayList<>(2);
    private final int[] cachedKind = new int[8];
    private final int[] cachedA = new int[8];
    private final int[] cachedB = new int[8];
    private final String[] cachedKey = new String[8];
    private int cacheNext;

    /** Reads the shape of one event from its scalars (strings, numbers and literals, as {@link JsonTokens} lists them). */
    void read(byte[] data, List<JsonTokens.Scalar> scalars) {
        choiceIndex.clear();
        candidateIndex.clear();
        toolIndex.clear();
        type = "";
        done = null;
        index = outputIndex = -1;
        contentIndex = summaryIndex = ABSENT;
        ended.clear();
        for (int i = 0; i < scalars.size(); i++) {
            JsonTokens.Scalar s = scalars.get(i);
            Object[] p = s.path();
            if (readsString(p) && s.string()) {
                type = JsonStrings.decode(data, s.start(), s.end());
            } else if (s.string()) {
                continue;
            } else if (p.length == 1 && "done".equals(p[0])) {
                done = new String(data, s.start(), s.end() - s.start(), StandardCharsets.US_ASCII);
            } else if (p.length == 1) {
                switch ((String) p[0]) {
                    case "index" -> index = parseInt(data, s);
                    case "output_index" -> outputIndex = parseInt(data, s);
                    case "content_index" -> contentIndex = parseInt(data, s);
                    case "summary_index" -> summaryIndex = parseInt(data, s);
                    default -> {}
                }
            } else if (p.length == 3 && "choices".equals(p[0]) && "index".equals(p[2])) {
                choiceIndex.put((Integer) p[1], parseInt(data, s));
            } else if (p.length == 6 && "choices".equals(p[0]) && "tool_calls".equals(p[3]) && "index".equals(p[5])) {
                toolIndex.put(p[1] + "/" + p[4], parseInt(data, s));
            } else if (p.length == 3 && "candidates".equals(p[0]) && "index".equals(p[2])) {
                candidateIndex.put((Integer) p[1], parseInt(data, s));
            }
        }
        if (keys.length < scalars.size()) {
            keys = new String[Math.max(scalars.size(), keys.length * 2)];
        }
        String responsesText = responsesText(".delta");
        for (int i = 0; i < scalars.size(); i++) {
            JsonTokens.Scalar s = scalars.get(i);
            keys[i] = null;
            if (!s.string()) {
                continue;
            }
            Object[] p = s.path();
            String key = chatKey(p);
            if (key == null && responsesText != null && p.length == 1 && "delta".equals(p[0])) {
                key = responsesText;
            }
            if (key == null && "content_block_delta".equals(type) && p.length == 2 && "delta".equals(p[0])) {
                for (int f = 0; f < BLOCK_FIELDS.length && key == null; f++) {
                    key = BLOCK_FIELDS[f].equals(p[1]) ? key(BLOCK + f, index, 0) : null;
                }
            }
            if (key == null
                    && p.length == 6
                    && "candidates".equals(p[0])
                    && p[1] instanceof Integer c
                    && "content".equals(p[2])
                    && "parts".equals(p[3])
                    && "text".equals(p[5])) {
                key = key(CANDIDATE, candidateIndex.getOrDefault(c, c), 0);
            }
            if (key == null && "content-delta".equals(type) && Arrays.equals(p, COHERE_TEXT)) {
                key = key(COHERE_CONTENT, index, 0);
            }
            if (key == null && "tool-call-delta".equals(type) && Arrays.equals(p, COHERE_ARGUMENTS)) {
                key = key(COHERE_TOOL, index, 0);
            }
            if (key == null && p.length == 2 && "token".equals(p[0]) && "text".equals(p[1])) {
                key = "token.text";
            }
            if (key == null && done != null) {
                key = ollamaKey(p);
            }
            keys[i] = key;
            if (p.length == 3 && "choices".equals(p[0]) && "finish_reason".equals(p[2])) {
                ended.add("choice[" + choiceIndex.getOrDefault((Integer) p[1], (Integer) p[1]) + "].");
            }
            if (p.length == 3 && "candidates".equals(p[0]) && "finishReason".equals(p[2])) {
                ended.add("candidate[" + candidateIndex.getOrDefault((Integer) p[1], (Integer) p[1]) + "].");
            }
            if (p.length == 1 && "generated_text".equals(p[0])) {
                ended.add("token.");
            }
        }
        String responsesDone = responsesText(".done");
        if (responsesDone != null) {
            ended.add(responsesDone);
        }
        if ("true".equals(done)) {
            ended.addAll(OLLAMA_TEXTS);
        }
        switch (type) {
            case "response.completed", "response.incomplete", "response.failed", "error" -> ended.add("output[");
            case "content_block_stop" -> ended.add("content_block[" + index + "].");
            case "message_stop" -> ended.add("content_block[");
            case "content-end" -> ended.add("content[" + index + "].");
            case "tool-call-end" -> ended.add("tool_call[" + index + "].");
            case "message-end" -> ended.addAll(List.of("content[", "tool_call["));
            default -> {}
        }
    }

    /**
     * Whether {@link #read} looks at the contents of a string at {@code path} (an event's {@code type}); for every
     * other string only its path counts, so an event that differs from the last one only inside such a string has
     * the same answers.
     */
    static boolean readsString(Object[] path) {
        return path.length == 1 && "type".equals(path[0]);
    }

    /** The text the i-th scalar of the last event read continues, or null when it is a value of its own. */
    String keyOf(int scalar) {
        return keys[scalar];
    }

    /** Key prefixes of the texts the last event read ends (after its own pieces). */
    List<String> endedPrefixes() {
        return ended;
    }

    private String chatKey(Object[] p) {
        if (p.length < 3 || !"choices".equals(p[0]) || !(p[1] instanceof Integer pos)) {
            return null;
        }
        int choice = choiceIndex.getOrDefault(pos, pos);
        if (p.length == 3 && "text".equals(p[2])) {
            return key(CHAT_TEXT, choice, 0);
        }
        if (p.length == 4 && "delta".equals(p[2])) {
            for (int f = 0; f < CHAT_DELTA_FIELDS.length; f++) {
                if (CHAT_DELTA_FIELDS[f].equals(p[3])) {
                    return key(CHAT_DELTA + f, choice, 0);
                }
            }
        }
        if (p.length == 7
                && "delta".equals(p[2])
                && "tool_calls".equals(p[3])
                && p[4] instanceof Integer tpos
                && "function".equals(p[5])
                && "arguments".equals(p[6])) {
            int tool = toolIndex.isEmpty() ? tpos : toolIndex.getOrDefault(pos + "/" + tpos, tpos);
            return key(CHAT_TOOL, choice, tool);
        }
        return null;
    }

    /** The key of a kind of text, spelled once per stream rather than once per event. */
    private String key(int kind, int a, int b) {
        for (int k = 0; k < cachedKey.length; k++) {
            if (cachedKey[k] != null && cachedKind[k] == kind && cachedA[k] == a && cachedB[k] == b) {
                return cachedKey[k];
            }
        }
        String key =
                switch (kind) {
                    case CHAT_TEXT -> "choice[" + a + "].text";
                    case CHAT_TOOL -> "choice[" + a + "].tool[" + b + "].arguments";
                    case CANDIDATE -> "candidate[" + a + "].text";
                    case COHERE_CONTENT -> "content[" + a + "].text";
                    case COHERE_TOOL -> "tool_call[" + a + "].arguments";
                    default ->
                        kind >= BLOCK
                                ? "content_block[" + a + "]." + BLOCK_FIELDS[kind - BLOCK]
                                : "choice[" + a + "]." + CHAT_DELTA_FIELDS[kind - CHAT_DELTA];
                };
        cachedKind[cacheNext] = kind;
        cachedA[cacheNext] = a;
        cachedB[cacheNext] = b;
        cachedKey[cacheNext] = key;
        cacheNext = (cacheNext + 1) % cachedKey.length;
        return key;
    }

    /**
     * The key of the Responses API text a {@code response.<what><suffix>} event belongs to: one per {@code <what>}
     * and output, content and summary index (whichever the event carries); null for any other event.
     */
    private String responsesText(String suffix) {
        if (!type.startsWith(RESPONSES_PREFIX)
                || !type.endsWith(suffix)
                || type.length() <= RESPONSES_PREFIX.length() + suffix.length()) {
            return null;
        }
        StringBuilder key = new StringBuilder("output[").append(outputIndex).append(']');
        if (contentIndex != ABSENT) {
            key.append(".content[").append(contentIndex).append(']');
        }
        if (summaryIndex != ABSENT) {
            key.append(".summary[").append(summaryIndex).append(']');
        }
        return key.append('.')
                .append(type, RESPONSES_PREFIX.length(), type.length() - suffix.length())
                .toString();
    }

    /** Ollama's {@code /api/chat} and {@code /api/generate} lines (recognised by their {@code done} flag). */
    private static String ollamaKey(Object[] p) {
        if (p.length == 2 && "message".equals(p[0]) && ("content".equals(p[1]) || "thinking".equals(p[1]))) {
            return "message." + p[1];
        }
        if (p.length == 1 && ("response".equals(p[0]) || "thinking".equals(p[0]))) {
            return (String) p[0];
        }
        return null;
    }

    /** {@code Integer.parseInt} of a number token, or -1 when it is not an int. */
    private static int parseInt(byte[] d, JsonTokens.Scalar s) {
        int k = s.start();
        int end = s.end();
        boolean negative = d[k] == '-';
        if (negative) {
            k++;
        }
        if (k == end) {
            return -1;
        }
        long v = 0;
        for (; k < end; k++) {
            int c = d[k];
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
            if (v > 1L + Integer.MAX_VALUE) {
                return -1;
            }
        }
        v = negative ? -v : v;
        return v < Integer.MIN_VALUE || v > Integer.MAX_VALUE ? -1 : (int) v;
    }

    /** A small int-to-int map for a handful of indexes per event, without boxing. */
    private static final class IndexMap {
        private int[] keys = new int[4];
        private int[] values = new int[4];
        private int size;

        void clear() {
            size = 0;
        }

        void put(int key, int value) {
            for (int k = 0; k < size; k++) {
                if (keys[k] == key) {
                    values[k] = value;
                    return;
                }
            }
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, size * 2);
                values = Arrays.copyOf(values, size * 2);
            }
            keys[size] = key;
            values[size++] = value;
        }

        int getOrDefault(int key, int otherwise) {
            for (int k = 0; k < size; k++) {
                if (keys[k] == key) {
                    return values[k];
                }
            }
            return otherwise;
        }
    }
}
