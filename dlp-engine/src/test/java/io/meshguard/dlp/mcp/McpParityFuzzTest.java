package io.meshguard.dlp.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.contract.McpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Generated header/body disagreements — names, encodings, duplicates, case, legacy versions, arguments, duplicate JSON
 * keys — none of which may pass ("forwarded"); the same generator's agreeing requests all pass, so the check is not
 * simply refusing everything.
 */
class McpParityFuzzTest {
    static final int CASES = 100_000;
    static final int MIN_CASES = 10_000;
    static final String[] NAMES = {
        "get_balance",
        "create_payment",
        "résumé",
        "日本語ツール",
        "a b",
        " padded ",
        "=?base64?literal?=",
        "tool.with.dots",
        "x",
        "line1\nline2"
    };
    static final String[] METHODS = {
        "tools/call", "resources/read", "prompts/get", "tools/list", "tasks/get", "tasks/update", "tasks/cancel"
    };

    /** One agreeing request: its headers and the parts its body is built from. */
    record Call(String method, String name, String version, Map<String, Object> args) {
        Map<String, List<String>> headers() {
            Map<String, List<String>> h = new LinkedHashMap<>();
            h.put("mcp-protocol-version", new ArrayList<>(List.of(version)));
            h.put("mcp-method", new ArrayList<>(List.of(method)));
            if (!method.equals("tools/list")) {
                h.put("mcp-name", new ArrayList<>(List.of(encode(name))));
            }
            args.forEach((k, v) -> h.put(
                    "mcp-param-" + k.toLowerCase(java.util.Locale.ROOT),
                    new ArrayList<>(List.of(encode(String.valueOf(v))))));
            return h;
        }

        String body(String bodyMethod, String bodyName, String bodyVersion, Map<String, Object> bodyArgs) {
            StringBuilder b = new StringBuilder("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":")
                    .append(json(bodyMethod))
                    .append(",\"params\":{");
            if (!bodyMethod.equals("tools/list")) {
                b.append(json(McpHeaders.nameField(bodyMethod)))
                        .append(':')
                        .append(json(bodyName))
                        .append(',');
            }
            b.append("\"arguments\":{");
            int i = 0;
            for (Map.Entry<String, Object> e : bodyArgs.entrySet()) {
                b.append(i++ > 0 ? "," : "").append(json(e.getKey())).append(':');
                b.append(e.getValue() instanceof String s ? json(s) : String.valueOf(e.getValue()));
            }
            b.append("},\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":")
                    .append(json(bodyVersion))
                    .append("}}}");
            return b.toString();
        }

        String body() {
            return body(method, name, version, args);
        }
    }

    static String encode(String v) {
        boolean plain = !v.isEmpty()
                && v.equals(v.strip())
                && v.chars().allMatch(c -> c >= 0x20 && c <= 0x7E)
                && !(v.startsWith("=?base64?") && v.endsWith("?="));
        return plain ? v : b64(v);
    }

    static String b64(String v) {
        return "=?base64?" + Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8)) + "?=";
    }

    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static Call generate(SplittableRandom r) {
        Map<String, Object> args = new LinkedHashMap<>();
        String method = METHODS[r.nextInt(METHODS.length)];
        if (method.equals("tools/call")) {
            if (r.nextBoolean()) {
                args.put("Region", r.nextBoolean() ? "eu-west" + r.nextInt(9) : "zürich");
            }
            if (r.nextBoolean()) {
                args.put("amount", r.nextInt(-1000, 100000));
            }
            if (r.nextBoolean()) {
                args.put("dryRun", r.nextBoolean());
            }
        }
        String version = r.nextBoolean() ? "2026-07-28" : "2027-0" + (1 + r.nextInt(9)) + "-01";
        return new Call(method, NAMES[r.nextInt(NAMES.length)], version, args);
    }

    /** A literal replacement text for {@code replaceFirst} (names hold backslashes once escaped as JSON). */
    static String quoted(String s) {
        return java.util.regex.Matcher.quoteReplacement(s);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** One disagreement of {@code c}: the headers and the body a client (or an attacker) sends. */
    static Map.Entry<Map<String, List<String>>, String> disagree(Call c, SplittableRandom r) {
        Map<String, List<String>> h = c.headers();
        boolean named = !c.method().equals("tools/list");
        int kind = r.nextInt(15);
        switch (kind) {
            case 0 -> { // body names another tool (or, unnamed, calls another method)
                return Map.entry(
                        h,
                        named
                                ? c.body(c.method(), c.name() + "_x", c.version(), c.args())
                                : c.body("tools/call", c.name(), c.version(), c.args()));
            }
            case 1 -> { // the header names another, or the same in another case
                if (!named) {
                    h.put("mcp-name", List.of("extra"));
                    return Map.entry(h, c.body());
                }
                String other = c.name().toUpperCase(java.util.Locale.ROOT).equals(c.name())
                        ? c.name() + "!"
                        : c.name().toUpperCase(java.util.Locale.ROOT);
                h.put("mcp-name", List.of(encode(other)));
                return Map.entry(h, c.body());
            }
            case 2 -> { // method differs, or only in case
                h.put("mcp-method", List.of(r.nextBoolean() ? "Tools/Call" : c.method() + "s"));
                return Map.entry(h, c.body());
            }
            case 3 -> { // a header sent twice (same or other value)
                String header = named && r.nextBoolean() ? "mcp-name" : "mcp-method";
                List<String> twice = new ArrayList<>(h.get(header));
                twice.add(r.nextBoolean() ? twice.get(0) : "tools/list");
                h.put(header, twice);
                return Map.entry(h, c.body());
            }
            case 4 -> { // raw non-ASCII or control characters where the sentinel is owed
                h.put(named ? "mcp-name" : "mcp-method", List.of(r.nextBoolean() ? "résumé" : "get\u0000balance"));
                return Map.entry(h, c.body());
            }
            case 5 -> { // broken or wrongly-cased sentinel
                h.put(
                        named ? "mcp-name" : "mcp-method",
                        List.of(
                                r.nextBoolean()
                                        ? "=?base64?@@@?="
                                        : "=?BASE64?" + Base64.getEncoder().encodeToString(bytes(c.name())) + "?="));
                return Map.entry(h, c.body());
            }
            case 6 -> { // the body's protocol version disagrees
                return Map.entry(h, c.body(c.method(), c.name(), "2025-06-18", c.args()));
            }
            case 7 -> { // a legacy header version with a body of another version
                h.put("mcp-protocol-version", List.of("2025-11-25"));
                return Map.entry(h, c.body());
            }
            case 8 -> { // header-era request missing the header its method requires
                h.remove(named ? "mcp-name" : "mcp-method");
                return Map.entry(h, c.body());
            }
            case 9 -> { // an argument header disagrees (string, number, boolean)
                h.put("mcp-param-region", List.of("us-east1"));
                Map<String, Object> args = new LinkedHashMap<>(c.args());
                args.put("Region", "eu-west1");
                if (r.nextBoolean()) {
                    h.put("mcp-param-amount", List.of("43"));
                    args.put("amount", 42);
                }
                return Map.entry(h, c.body(c.method(), c.name(), c.version(), args));
            }
            case 10 -> { // an argument header for an argument the body lacks
                h.put("mcp-param-account", List.of("DE89"));
                return Map.entry(h, c.body());
            }
            case 11 -> { // a key given twice in the body: parsers disagree on which one counts
                String field = McpHeaders.nameField(c.method());
                String body = c.body().replaceFirst("\"params\":\\{", "\"params\":{\"" + field + "\":\"evil\",");
                if (!named) {
                    body = c.body().replaceFirst("\"method\":", "\"method\":\"tools/call\",\"method\":");
                }
                return Map.entry(h, body);
            }
            case 12 -> { // a batch
                return Map.entry(h, "[" + c.body() + "]");
            }
            case 13 -> { // Mcp-Name mirrors the field of another kind of method: taskId outside tasks/*, name in them
                if (!named) {
                    h.put("mcp-name", List.of(encode(c.name())));
                    return Map.entry(
                            h,
                            c.body()
                                    .replaceFirst(
                                            "\"params\":\\{",
                                            quoted("\"params\":{\"taskId\":" + json(c.name()) + ",")));
                }
                String own = McpHeaders.nameField(c.method());
                String wrong = own.equals("taskId") ? "name" : "taskId";
                String body = c.body(c.method(), c.name() + "_other", c.version(), c.args())
                        .replaceFirst(
                                "\"params\":\\{", quoted("\"params\":{" + json(wrong) + ":" + json(c.name()) + ","));
                return Map.entry(h, body);
            }
            default -> { // boolean spelled otherwise
                h.put("mcp-param-dryrun", List.of(r.nextBoolean() ? "True" : "1"));
                Map<String, Object> args = new LinkedHashMap<>(c.args());
                args.put("dryRun", true);
                return Map.entry(h, c.body(c.method(), c.name(), c.version(), args));
            }
        }
    }

    @Test
    void generatedDisagreements_noneForwarded() {
        SplittableRandom r = new SplittableRandom(20260728);
        int forwarded = 0;
        List<String> examples = new ArrayList<>();
        // a unit-tier test: all cases on a quiet machine (about a second), fewer on a loaded one, never fewer than
        // MIN_CASES
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        int ran = 0;
        for (int i = 0; i < CASES && (i < MIN_CASES || System.nanoTime() < deadline); i++) {
            ran++;
            Call c = generate(r);
            Map.Entry<Map<String, List<String>>, String> bad = disagree(c, r);
            if (McpParity.check(bad.getKey(), bytes(bad.getValue())).passes()) {
                forwarded++;
                if (examples.size() < 5) {
                    examples.add(bad.getKey() + " " + bad.getValue());
                }
            }
        }
        assertThat(forwarded)
                .as("forwarded disagreements of %d, e.g. %s", ran, examples)
                .isZero();
    }

    @Test
    void generatedAgreeingRequests_allForwarded() {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 10_000; i++) {
            Call c = generate(r);
            McpParity.Verdict v = McpParity.check(c.headers(), bytes(c.body()));
            assertThat(v.passes())
                    .as("%s %s: %s", c.headers(), c.body(), v.problem())
                    .isTrue();
        }
    }

    @Test
    void integerArgument_comparedNumerically() {
        Map<String, List<String>> h = new LinkedHashMap<>();
        h.put("mcp-protocol-version", List.of("2026-07-28"));
        h.put("mcp-method", List.of("tools/call"));
        h.put("mcp-name", List.of("t"));
        h.put("mcp-param-n", List.of("42"));
        String body = "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/call\",\"params\":{\"name\":\"t\","
                + "\"arguments\":{\"n\":42.0},\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";
        assertThat(McpParity.check(h, bytes(body)).passes()).isTrue();
        McpParity.Verdict refused = McpParity.check(h, bytes(body.replace("42.0", "41")));
        assertThat(refused.errorBody())
                .contains("\"id\":\"a\"")
                .contains("-32020")
                .doesNotContain("41");
    }

    /** As the official MCP conformance client sends them to test servers (server-stateless, SEP-2575). */
    @Test
    void headerEraBodyWithoutMetaVersion_refusedAsInvalidParams_disagreementStaysHeaderMismatch() {
        Map<String, List<String>> h = new LinkedHashMap<>();
        h.put("mcp-protocol-version", List.of("2026-07-28"));
        h.put("mcp-method", List.of("server/discover"));

        McpParity.Verdict noMeta = McpParity.check(
                h, bytes("{\"jsonrpc\":\"2.0\",\"id\":101,\"method\":\"server/discover\",\"params\":{}}"));
        McpParity.Verdict noVersion = McpParity.check(
                h,
                bytes("{\"jsonrpc\":\"2.0\",\"id\":102,\"method\":\"server/discover\",\"params\":{\"_meta\":"
                        + "{\"io.modelcontextprotocol/clientInfo\":{\"name\":\"c\",\"version\":\"1\"}}}}"));
        McpParity.Verdict otherVersion = McpParity.check(
                h,
                bytes("{\"jsonrpc\":\"2.0\",\"id\":103,\"method\":\"server/discover\",\"params\":{\"_meta\":"
                        + "{\"io.modelcontextprotocol/protocolVersion\":\"2025-11-25\"}}}"));

        assertThat(noMeta.passes()).isFalse();
        assertThat(noMeta.errorBody()).startsWith("{\"jsonrpc\":\"2.0\",\"id\":101,\"error\":{\"code\":-32602,");
        assertThat(noVersion.errorBody()).contains("\"id\":102", "-32602", "Invalid params");
        assertThat(otherVersion.errorBody()).contains("\"id\":103", "-32020", "Header mismatch");
    }

    /** The Tasks extension mirrors {@code params.taskId} in Mcp-Name for the three methods on one task, and only there. */
    @Test
    void tasksMethods_mcpNameHeldToTaskId_otherMethodsNeverToTaskId() {
        for (String method : List.of("tasks/get", "tasks/update", "tasks/cancel")) {
            Map<String, List<String>> h = new LinkedHashMap<>();
            h.put("mcp-protocol-version", List.of("2026-07-28"));
            h.put("mcp-method", List.of(method));
            h.put("mcp-name", List.of("task_9f3c"));
            String meta = ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";
            String body = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"" + method + "\",\"params\":{\"taskId\":";

            assertThat(McpParity.check(h, bytes(body + "\"task_9f3c\"" + meta)).passes())
                    .as(method)
                    .isTrue();
            McpParity.Verdict other = McpParity.check(h, bytes(body + "\"task_0000\"" + meta));
            assertThat(other.errorBody()).contains("\"id\":3", "-32020", "params.taskId");
            McpParity.Verdict byName =
                    McpParity.check(h, bytes(body.replace("\"taskId\":", "\"name\":") + "\"task_9f3c\"" + meta));
            assertThat(byName.passes()).as(method + " named by params.name").isFalse();
            h.remove("mcp-name");
            assertThat(McpParity.check(h, bytes(body + "\"task_9f3c\"" + meta)).problem())
                    .as(method + " without Mcp-Name")
                    .contains("Mcp-Name header missing");
        }
        Map<String, List<String>> call = new LinkedHashMap<>();
        call.put("mcp-protocol-version", List.of("2026-07-28"));
        call.put("mcp-method", List.of("tools/call"));
        call.put("mcp-name", List.of("task_9f3c"));
        String viaTaskId =
                "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"taskId\":\"task_9f3c\","
                        + "\"name\":\"close_account\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";
        assertThat(McpParity.check(call, bytes(viaTaskId)).problem())
                .contains("Mcp-Name header does not match the body's params.name");
    }
}
