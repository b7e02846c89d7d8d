package io.meshguard.extauthz.decision;

import static io.meshguard.extauthz.Fixtures.RS1;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.server.AuthzOnLoopback;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.OpenResources;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * extauthz refuses MCP requests on their headers alone, before any byte reaches the MCP server, and answers those
 * refusals as an MCP server would: HTTP 400 with a JSON-RPC error whose {@code id} is the request's, read from the body
 * the proxy sends along ({@code with_request_body}), {@code null} when it sent none or the id cannot be told. Served
 * over real gRPC on loopback; every answer is a denied Check, so nothing goes upstream.
 */
class McpJsonRpcRefusalTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String V = "mcp-protocol-version";
    static final String TOKEN = McpRoutesTest.AGENT;
    static final String[] TWO_NAMES = {
        V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", "get_balance", "mcp-name", "close_account"
    };

    /** One server for the class: every test only asks, nothing it holds changes. */
    @AutoClose
    static final OpenResources OPEN = new OpenResources();

    static AuthorizationGrpc.AuthorizationBlockingStub stub;

    @BeforeAll
    static void serve() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuthzPipeline pipeline = TestPipeline.running(
                Fixtures.parse(McpRoutesTest.POLICY),
                registry,
                p -> p.keys = Map.of("test-idp", TestKeys.publicSet(List.of(RS1))));
        stub = AuthzOnLoopback.serve(OPEN, pipeline, row -> {}, registry);
    }

    /** The Check Envoy sends with {@code with_request_body} ({@code pack_as_bytes}: the body as raw bytes). */
    private static CheckResponse check(String path, ByteString body, boolean asString, String... headers) {
        Map<String, List<String>> h = new LinkedHashMap<>();
        h.put("authorization", List.of("Bearer " + TOKEN));
        for (int i = 0; i < headers.length; i += 2) {
            h.computeIfAbsent(headers[i], k -> new ArrayList<>()).add(headers[i + 1]);
        }
        CheckRequest request =
                CheckRequests.of("POST", "api.test.example", path, h, Map.of(), CheckRequests.Encoding.HEADER_MAP);
        AttributeContext.HttpRequest.Builder http = request.getAttributes().getRequest().getHttp().toBuilder();
        if (asString) {
            http.setBody(body.toStringUtf8());
        } else {
            http.setRawBody(body);
        }
        return stub.check(request.toBuilder()
                .setAttributes(request.getAttributes().toBuilder()
                        .setRequest(
                                request.getAttributes().getRequest().toBuilder().setHttp(http)))
                .build());
    }

    private static CheckResponse check(String path, String body, String... headers) {
        return check(path, ByteString.copyFromUtf8(body), false, headers);
    }

    static String call(String id) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"get_balance\","
                + "\"arguments\":{},\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";
    }

    /** The denied answer as the client reads it: status, content type, and the body parsed as JSON. */
    record Refusal(int status, String contentType, JsonNode body) {}

    static Refusal refusal(CheckResponse r) throws Exception {
        assertThat(r.getStatus().getCode())
                .as("a denied Check: Envoy answers the client and sends nothing upstream")
                .isNotEqualTo(Code.OK_VALUE);
        assertThat(r.hasOkResponse()).isFalse();
        String type = r.getDeniedResponse().getHeadersList().stream()
                .filter(o -> o.getHeader().getKey().equals("content-type"))
                .map(o -> o.getHeader().getValue())
                .findFirst()
                .orElse("");
        return new Refusal(
                r.getDeniedResponse().getStatus().getCodeValue(),
                type,
                JSON.readTree(r.getDeniedResponse().getBody()));
    }

    static void assertJsonRpcError(Refusal r, String id, int code, String header) {
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.contentType()).isEqualTo("application/json");
        assertThat(r.body().get("jsonrpc").asText()).isEqualTo("2.0");
        assertThat(r.body().get("id").toString()).isEqualTo(id);
        assertThat(r.body().get("error").get("code").asInt()).isEqualTo(code);
        assertThat(r.body().get("error").get("message").isTextual()).isTrue();
        assertThat(r.body().get("error").get("data").get("reason").asText()).isEqualTo("mcp_headers_invalid");
        assertThat(r.body().get("error").get("data").get("header").asText()).isEqualTo(header);
        assertThat(r.body().get("error").get("data").get("request_id").asText()).isNotEmpty();
        assertThat(r.body().fieldNames()).toIterable().containsExactlyInAnyOrder("jsonrpc", "id", "error");
    }

    @Test
    void versionThatIsNoDate_refused400_unsupportedVersion_withTheRequestsId_inEverySpelling() throws Exception {
        for (String version : List.of("v999.0.0", "2026-7-28", "2026-07-28T00:00", "July 2026", "２０２６-07-28")) {
            String sent = version.chars().allMatch(c -> c < 0x80)
                    ? version
                    : "=?base64?"
                            + java.util.Base64.getEncoder().encodeToString(version.getBytes(StandardCharsets.UTF_8))
                            + "?=";
            Refusal r = refusal(check("/mcp", call("301"), V, sent, "mcp-method", "tools/call", "mcp-name", "x"));
            assertJsonRpcError(r, "301", -32022, "mcp-protocol-version");
        }
        // the version header sent twice
        assertJsonRpcError(
                refusal(check("/open", call("\"v\""), V, "2026-07-28", V, "2026-07-28", "mcp-method", "tools/list")),
                "\"v\"",
                -32022,
                "mcp-protocol-version");
    }

    @Test
    void headerEraWithoutMethodOrName_refused400_headerMismatch_withTheRequestsId() throws Exception {
        assertJsonRpcError(refusal(check("/open", call("7"), V, "2026-07-28")), "7", -32020, "mcp-method");
        assertJsonRpcError(
                refusal(check("/open", call("\"a-1\""), V, "2026-07-28", "mcp-method", "tools/call")),
                "\"a-1\"",
                -32020,
                "mcp-name");
        assertJsonRpcError(
                refusal(check("/open", call("8"), V, "2026-07-28", "mcp-method", "tasks/get")),
                "8",
                -32020,
                "mcp-name");
        // a repeated or badly encoded header
        assertJsonRpcError(refusal(check("/mcp", call("9"), TWO_NAMES)), "9", -32020, "mcp-name");
        assertJsonRpcError(
                refusal(check(
                        "/mcp", call("10"), V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", "=?base64?@?=")),
                "10",
                -32020,
                "mcp-name");
    }

    @Test
    void legacyEraOnARouteDecidingOnHeaders_refused400_unsupportedVersion_withTheRequestsId() throws Exception {
        for (String[] legacy : List.of(
                new String[] {V, "2025-11-25", "mcp-method", "tools/call", "mcp-name", "get_balance"},
                new String[] {"mcp-method", "tools/call", "mcp-name", "get_balance"})) {
            assertJsonRpcError(refusal(check("/mcp", call("42"), legacy)), "42", -32022, "mcp-protocol-version");
        }
    }

    @Test
    void bodyIdsOfEveryJsonType_echoedWhenAnMcpRequestId_elseNull() throws Exception {
        String[] noMethod = {V, "2026-07-28"};
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put(call("0"), "0");
        cases.put(call("-17"), "-17");
        cases.put(call("9007199254740993"), "9007199254740993"); // beyond a double's integers: echoed as sent
        cases.put(call("\"req-\\\"q\\\"-é-\\u2028\""), "\"req-\\\"q\\\"-é-\u2028\"");
        cases.put(call("\"\""), "\"\"");
        cases.put(call("null"), "null");
        cases.put("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", "null"); // absent
        cases.put(call("1.5"), "null"); // a fraction: no MCP id
        cases.put(call("true"), "null");
        cases.put(call("{\"id\":1}"), "null");
        cases.put(call("[1]"), "null");
        cases.put(call("1" + "0".repeat(300)), "null"); // huge: not reflected
        cases.put(call("\"" + "x".repeat(300) + "\""), "null");
        cases.put("{\"id\":1,\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\"}", "null"); // given twice
        cases.put("{\"params\":{\"id\":5},\"id\":6}", "6"); // only the top level counts
        cases.put("{\"nested\":" + "[".repeat(5000) + "]".repeat(5000) + ",\"id\":3}", "null"); // nested garbage
        cases.put("{\"id\":4,\"params\":" + "{\"a\":".repeat(200) + "1" + "}".repeat(200) + "}", "null");
        cases.put("[" + call("11") + "]", "null"); // a batch
        cases.put(call("12") + "{}", "null"); // trailing data
        cases.put("{\"id\":13,", "null"); // cut short, and Envoy did not say so
        cases.put("not json at all", "null");
        cases.put("", "null"); // no body sent (no with_request_body)
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Refusal r = refusal(check("/open", c.getKey(), noMethod));
            assertThat(r.body().get("id").toString())
                    .as(c.getKey().length() > 80 ? c.getKey().substring(0, 80) : c.getKey())
                    .isEqualTo(c.getValue());
            assertThat(r.status()).isEqualTo(400);
        }
        // bytes that are not UTF-8: unreadable, so null; in Envoy's string field (no pack_as_bytes) they arrive
        // replaced, and the id before them still reads
        ByteString latin1 = ByteString.copyFrom(
                "{\"id\":14,\"params\":{\"name\":\"caf\u00e9\"}}".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(refusal(check("/open", latin1, false, noMethod))
                        .body()
                        .get("id")
                        .toString())
                .isEqualTo("null");
        assertThat(refusal(check("/open", ByteString.copyFromUtf8(call("15")), true, noMethod))
                        .body()
                        .get("id")
                        .toString())
                .isEqualTo("15");
    }

    @Test
    void bodyCutByEnvoy_idReadBeforeTheCut_echoed_onlyWhenEnvoySaysItCut() throws Exception {
        String cut = call("21").substring(0, 40);
        Refusal partial = refusal(check("/open", cut, V, "2026-07-28", "x-envoy-auth-partial-body", "true"));
        assertThat(partial.body().get("id").toString()).isEqualTo("21");
        Refusal whole = refusal(check("/open", cut, V, "2026-07-28", "x-envoy-auth-partial-body", "false"));
        assertThat(whole.body().get("id").toString()).isEqualTo("null");
        // cut inside the id itself: nothing whole to echo
        Refusal inId = refusal(check(
                "/open", "{\"jsonrpc\":\"2.0\",\"id\":\"abc", V, "2026-07-28", "x-envoy-auth-partial-body", "true"));
        assertThat(inId.body().get("id").toString()).isEqualTo("null");
    }

    @Test
    void policyRefusalsAndAllows_unchanged_theBodyDecidesNothing() throws Exception {
        // a body that names another tool than the headers: extauthz decides on the headers (the DLP server holds the
        // body to them), so the allow stands and no id is read
        CheckResponse allowed = check(
                "/mcp",
                call("1").replace("get_balance", "close_account"),
                V,
                "2026-07-28",
                "mcp-method",
                "tools/call",
                "mcp-name",
                "get_balance");
        assertThat(allowed.getStatus().getCode()).isEqualTo(Code.OK_VALUE);
        // a tool the route does not list: meshguard's own deny body, 403
        CheckResponse tool =
                check("/mcp", call("2"), V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", "close_account");
        Refusal r = refusal(tool);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body().get("reason").asText()).isEqualTo("mcp_tool_not_allowed");
        assertThat(r.body().has("jsonrpc")).isFalse();
    }
}
