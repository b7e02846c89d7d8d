package io.meshguard.extauthz.decision;

import static io.meshguard.extauthz.Fixtures.RS1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.nimbusds.jose.jwk.JWKSet;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** MCP routes decided on the transport's metadata headers alone: era, encodings, repeats, methods, tools, CEL. */
class McpRoutesTest {
    static final String POLICY = """
            issuers:
              - name: test-idp
                issuer: https://idp.test.example
                jwks_uri: http://127.0.0.1:1/jwks.json
                audiences: [meshguard]
                algorithms: [RS256]
                claims: {subject: sub, tenant: tenant, roles: realm_access.roles, scopes: scope}
            header_contract:
              tenant_header: x-tenant-id
              defaults: {x-dwp-source: FRONTEND}
            routes:
              - name: mcp-open
                match: {path: /open, methods: [POST]}
                auth: jwt
                mcp: true
              - name: mcp-tools
                match: {path: /mcp, methods: [POST]}
                auth: jwt
                roles: [agent]
                mcp:
                  methods: [tools/list, tools/call, resources/read]
                  tools:
                    - {name: get_balance}
                    - name: create_payment
                      roles: [payments]
                      scopes: ["payments:write"]
                      when: 'mcp.param.currency == "EUR"'
                    - {name: "résumé"}
              - name: mcp-cel
                match: {path: /cel, methods: [POST]}
                auth: jwt
                mcp: true
                when: 'mcp.name.startsWith("read_") || mcp.method == "tools/list"'
            """;

    static AuthzPipeline pipeline;

    @BeforeAll
    static void start() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Map<String, JWKSet> local = Map.of("test-idp", TestKeys.publicSet(List.of(RS1)));
        pipeline = TestPipeline.build(registry, p -> p.keys = local);
        pipeline.use(Fixtures.parse(POLICY));
    }

    @AfterAll
    static void stop() {
        pipeline.close();
    }

    static String token(List<String> roles, String scope) {
        return RS1.sign(
                Fixtures.claims("agent-7", "acme", roles).claim("scope", scope).build());
    }

    static final String AGENT = token(List.of("agent"), "read");
    static final String PAYER = token(List.of("agent", "payments"), "read payments:write");

    static Decision call(String path, String token, CheckRequests.Encoding encoding, String... headers) {
        Map<String, List<String>> h = new LinkedHashMap<>(Fixtures.headers(headers));
        h.put("authorization", List.of("Bearer " + token));
        return pipeline.decide(
                HttpRequestView.of(CheckRequests.of("POST", "api.test.example", path, h, Map.of(), encoding)));
    }

    static Decision call(String path, String token, String... headers) {
        return call(path, token, CheckRequests.Encoding.HEADER_MAP, headers);
    }

    static String b64(String s) {
        return "=?base64?" + Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8)) + "?=";
    }

    static final String V = "mcp-protocol-version";

    @Test
    void toolsCall_listedTool_allowed() {
        Decision d = call("/mcp", AGENT, V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", "get_balance");
        assertThat(d.allowed()).as(d.description()).isTrue();
    }

    @Test
    void toolsCall_unlistedTool_refused403() {
        Decision d = call("/mcp", AGENT, V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", "delete_account");
        assertThat(d.status()).isEqualTo(403);
        assertThat(d.reason()).isEqualTo(Reason.MCP_TOOL_NOT_ALLOWED);
    }

    @Test
    void toolsCall_toolRoleScopeAndCondition_eachRequired() {
        String[] eur = {
            V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", "create_payment", "mcp-param-currency", "EUR"
        };
        assertThat(call("/mcp", PAYER, eur).allowed()).isTrue();
        // the role the tool asks for, on top of the route's
        assertThat(call("/mcp", AGENT, eur).reason()).isEqualTo(Reason.MCP_TOOL_NOT_ALLOWED);
        // the scope: insufficient_scope, so the client's challenge names the scopes to ask for
        assertThat(call("/mcp", token(List.of("agent", "payments"), "read"), eur)
                        .reason())
                .isEqualTo(Reason.INSUFFICIENT_SCOPE);
        // the condition on a mirrored argument, plain and Base64-encoded, header name in any case
        assertThat(call(
                                "/mcp",
                                PAYER,
                                V,
                                "2026-07-28",
                                "mcp-method",
                                "tools/call",
                                "mcp-name",
                                "create_payment",
                                "mcp-param-currency",
                                "USD")
                        .reason())
                .isEqualTo(Reason.MCP_TOOL_NOT_ALLOWED);
        assertThat(call(
                                "/mcp",
                                PAYER,
                                V,
                                "2026-07-28",
                                "mcp-method",
                                "tools/call",
                                "mcp-name",
                                "create_payment",
                                "Mcp-Param-Currency",
                                b64("EUR"))
                        .allowed())
                .isTrue();
        // an absent argument fails the condition
        assertThat(call("/mcp", PAYER, V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", "create_payment")
                        .reason())
                .isEqualTo(Reason.MCP_TOOL_NOT_ALLOWED);
    }

    @Test
    void name_base64Sentinel_decodedBeforeMatching() {
        assertThat(call("/mcp", AGENT, V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", b64("résumé"))
                        .allowed())
                .isTrue();
        // the literal sentinel text is not the tool name
        assertThat(call("/mcp", AGENT, V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", b64("get_balance"))
                        .allowed())
                .isTrue();
    }

    @Test
    void badEncodings_refused400() {
        for (String bad : List.of(
                "=?base64?not base64!?=", // not Base64
                "=?base64?" + Base64.getEncoder().encodeToString(new byte[] {(byte) 0xC3, 0x28}) + "?=", // not UTF-8
                "résumé", // raw non-ASCII
                "get\u0001balance")) { // control byte
            Decision d = call("/mcp", AGENT, V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", bad);
            assertThat(d.status()).as(bad).isEqualTo(400);
            assertThat(d.reason()).isEqualTo(Reason.MCP_HEADERS_INVALID);
            assertThat(d.body()).contains("\"header\":\"mcp-name\"");
        }
        assertThat(call("/mcp", AGENT, V, "July 2026", "mcp-method", "tools/list")
                        .reason())
                .isEqualTo(Reason.MCP_HEADERS_INVALID);
    }

    @Test
    void headerEra_withoutMethodOrName_refused400_alsoOnARouteWithoutRules() {
        for (String path : List.of("/mcp", "/open")) {
            assertThat(call(path, AGENT, V, "2026-07-28").reason()).isEqualTo(Reason.MCP_HEADERS_INVALID);
            Decision noName = call(path, AGENT, V, "2026-07-28", "mcp-method", "tools/call");
            assertThat(noName.reason()).isEqualTo(Reason.MCP_HEADERS_INVALID);
            assertThat(noName.body()).contains("\"header\":\"mcp-name\"");
            assertThat(call(path, AGENT, V, "2026-07-28", "mcp-method", "resources/read", "mcp-name", "")
                            .reason())
                    .isEqualTo(Reason.MCP_HEADERS_INVALID);
        }
        // later versions are of the header era too
        assertThat(call("/open", AGENT, V, "2027-01-15", "mcp-method", "tools/call")
                        .reason())
                .isEqualTo(Reason.MCP_HEADERS_INVALID);
    }

    /** The Tasks extension: the client mirrors params.taskId in Mcp-Name for the three methods on one task. */
    @Test
    void tasksMethods_withoutMcpName_refused400_theTaskIdIsTheirName() {
        for (String method : List.of("tasks/get", "tasks/update", "tasks/cancel")) {
            Decision none = call("/open", AGENT, V, "2026-07-28", "mcp-method", method);
            assertThat(none.status()).as(method).isEqualTo(400);
            assertThat(none.reason()).isEqualTo(Reason.MCP_HEADERS_INVALID);
            assertThat(none.body()).contains("\"header\":\"mcp-name\"");
            assertThat(call("/open", AGENT, V, "2026-07-28", "mcp-method", method, "mcp-name", "task_9f3c")
                            .allowed())
                    .as(method)
                    .isTrue();
            // mcp.name reads the task id: a condition on it decides
            assertThat(call("/cel", AGENT, V, "2026-07-28", "mcp-method", method, "mcp-name", "read_9f3c")
                            .allowed())
                    .isTrue();
            assertThat(call("/cel", AGENT, V, "2026-07-28", "mcp-method", method, "mcp-name", "task_9f3c")
                            .allowed())
                    .isFalse();
        }
        // other methods keep needing no Mcp-Name
        assertThat(call("/open", AGENT, V, "2026-07-28", "mcp-method", "tasks/list")
                        .allowed())
                .isTrue();
    }

    @Test
    void legacyEra_refusedWhereRulesUseTheHeaders_passesWhereNoneDo() {
        for (String[] legacy : List.of(
                new String[] {V, "2025-06-18", "mcp-method", "tools/call", "mcp-name", "get_balance"},
                new String[] {V, "2025-11-25", "mcp-method", "tools/call", "mcp-name", "get_balance"},
                new String[] {"mcp-method", "tools/call", "mcp-name", "get_balance"})) {
            Decision tools = call("/mcp", AGENT, legacy);
            assertThat(tools.status()).isEqualTo(400);
            assertThat(tools.reason()).isEqualTo(Reason.MCP_HEADERS_INVALID);
            assertThat(tools.body()).contains("\"header\":\"mcp-protocol-version\"");
            assertThat(call("/cel", AGENT, legacy).reason()).isEqualTo(Reason.MCP_HEADERS_INVALID);
            assertThat(call("/open", AGENT, legacy).allowed()).isTrue();
        }
    }

    @Test
    void repeatedHeader_refused400_inEitherEncoding_andAcrossBoth() {
        for (CheckRequests.Encoding enc : CheckRequests.Encoding.values()) {
            Decision d = call(
                    "/mcp",
                    AGENT,
                    enc,
                    V,
                    "2026-07-28",
                    "mcp-method",
                    "tools/call",
                    "mcp-name",
                    "get_balance",
                    "mcp-name",
                    "delete_account");
            assertThat(d.reason()).as(enc.name()).isEqualTo(Reason.MCP_HEADERS_INVALID);
            Decision v = call("/open", AGENT, enc, V, "2026-07-28", V, "2025-06-18", "mcp-method", "tools/list");
            assertThat(v.reason()).as(enc.name()).isEqualTo(Reason.MCP_HEADERS_INVALID);
        }
        // one spelling in Envoy's map, another (other case) in its raw header lines: still twice
        HeaderMap raw = HeaderMap.newBuilder()
                .addHeaders(HeaderValue.newBuilder()
                        .setKey("Mcp-Name")
                        .setRawValue(ByteString.copyFromUtf8("delete_account")))
                .build();
        CheckRequest both = CheckRequest.newBuilder()
                .setAttributes(AttributeContext.newBuilder()
                        .setRequest(AttributeContext.Request.newBuilder()
                                .setHttp(AttributeContext.HttpRequest.newBuilder()
                                        .setMethod("POST")
                                        .setHost("api.test.example")
                                        .setPath("/mcp")
                                        .putHeaders("authorization", "Bearer " + AGENT)
                                        .putHeaders(V, "2026-07-28")
                                        .putHeaders("mcp-method", "tools/call")
                                        .putHeaders("mcp-name", "get_balance")
                                        .setHeaderMap(raw))))
                .build();
        assertThat(pipeline.decide(HttpRequestView.of(both)).reason()).isEqualTo(Reason.MCP_HEADERS_INVALID);
    }

    @Test
    void methodNotTaken_refused403() {
        Decision d = call("/mcp", AGENT, V, "2026-07-28", "mcp-method", "prompts/get", "mcp-name", "p");
        assertThat(d.status()).isEqualTo(403);
        assertThat(d.reason()).isEqualTo(Reason.MCP_METHOD_NOT_ALLOWED);
        assertThat(call("/mcp", AGENT, V, "2026-07-28", "mcp-method", "tools/list")
                        .allowed())
                .isTrue();
    }

    @Test
    void cel_readsMethodAndName() {
        assertThat(call("/cel", AGENT, V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", "read_x")
                        .allowed())
                .isTrue();
        assertThat(call("/cel", AGENT, V, "2026-07-28", "mcp-method", "tools/list")
                        .allowed())
                .isTrue();
        assertThat(call("/cel", AGENT, V, "2026-07-28", "mcp-method", "tools/call", "mcp-name", "write_x")
                        .reason())
                .isEqualTo(Reason.CONDITION_NOT_MET);
    }

    @Test
    void decisionRow_carriesMethodAndTool_neverArguments() {
        HttpRequestView request = HttpRequestView.of(CheckRequests.of(
                "POST",
                "api.test.example",
                "/mcp",
                Fixtures.headers(
                        "authorization",
                        "Bearer " + PAYER,
                        V,
                        "2026-07-28",
                        "mcp-method",
                        "tools/call",
                        "mcp-name",
                        "create_payment",
                        "mcp-param-currency",
                        "EUR",
                        "mcp-param-iban",
                        "DE89370400440532013000"),
                Map.of(),
                CheckRequests.Encoding.HEADER_MAP));
        Decision d = pipeline.decide(request);
        AuthzDecisionEvent e = DecisionEvents.of(request, d, Instant.now(), 10);
        assertThat(e.details())
                .containsEntry("mcp_method", "tools/call")
                .containsEntry("mcp_name", "create_payment")
                .containsEntry("mcp_protocol_version", "2026-07-28");
        assertThat(new ArrayList<>(e.details().values()).toString())
                .doesNotContain("DE89370400440532013000")
                .doesNotContain("EUR");
    }

    @Test
    void policy_mcpVariablesOutsideAnMcpRoute_refused() {
        assertThatThrownBy(() -> new io.meshguard.authz.policy.AuthzPolicyParser()
                        .parse("p.yaml", new java.io.StringReader("""
                                        routes:
                                          - name: plain
                                            match: {path: /x}
                                            auth: none
                                            header_contract: exempt
                                            when: 'mcp.name == "x"'
                                        """)))
                .hasMessageContaining("mcp.* is read only on an MCP route");
    }

    static String toolsHeader(Decision d) {
        return d.headersSet().stream()
                .filter(h -> h.name().equals(io.meshguard.contract.OwnedHeaderNames.MCP_TOOLS))
                .map(io.meshguard.authz.request.HeaderMutation::value)
                .findFirst()
                .orElse("(not set)");
    }

    @Test
    void toolsList_namesOnlyTheToolsTheCallerMayCall_forTheDlpServersFilter() {
        String[] list = {V, "2026-07-28", "mcp-method", "tools/list"};
        Decision agent = call("/mcp", AGENT, list);
        assertThat(agent.allowed()).as(agent.description()).isTrue();
        // create_payment needs the payments role; its condition on an argument is decided on each call, not here
        assertThat(toolsHeader(agent)).isEqualTo("[\"get_balance\",\"r\\u00e9sum\\u00e9\"]");
        assertThat(agent.headersRemoved()).doesNotContain(io.meshguard.contract.OwnedHeaderNames.MCP_TOOLS);
        assertThat(toolsHeader(call("/mcp", PAYER, list)))
                .isEqualTo("[\"get_balance\",\"create_payment\",\"r\\u00e9sum\\u00e9\"]");
    }

    @Test
    void toolsHeaderAClientSends_isRemovedOnEveryOtherAllow() {
        String forged = "[\"delete_account\"]";
        Decision callAllowed = call(
                "/mcp",
                AGENT,
                V,
                "2026-07-28",
                "mcp-method",
                "tools/call",
                "mcp-name",
                "get_balance",
                io.meshguard.contract.OwnedHeaderNames.MCP_TOOLS,
                forged);
        assertThat(callAllowed.allowed()).isTrue();
        assertThat(toolsHeader(callAllowed)).isEqualTo("(not set)");
        assertThat(callAllowed.headersRemoved()).contains(io.meshguard.contract.OwnedHeaderNames.MCP_TOOLS);
        // a route without a tool list lets every tool through: no list to filter by, and the client's is removed
        Decision open = call(
                "/open",
                AGENT,
                V,
                "2026-07-28",
                "mcp-method",
                "tools/list",
                io.meshguard.contract.OwnedHeaderNames.MCP_TOOLS,
                forged);
        assertThat(open.allowed()).as(open.description()).isTrue();
        assertThat(toolsHeader(open)).isEqualTo("(not set)");
        assertThat(open.headersRemoved()).contains(io.meshguard.contract.OwnedHeaderNames.MCP_TOOLS);
    }
}
