package io.meshguard.bench.extauthz;

import com.nimbusds.jose.JWSAlgorithm;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What deciding a tool call on its MCP headers adds to a Check (issue goal: at most 1.1×), as CPU per Check in-process
 * ({@link DecisionCost}): the same JWT Check with the same MCP headers, (a) on a route without MCP rules, (b) on an
 * MCP route with a method list and a listed tool with its own role and scope, (c) as (b) with a tool condition on a
 * mirrored argument ({@code mcp.param}).
 *
 * <p>Run: {@code java -cp bench.jar io.meshguard.bench.extauthz.McpCheckBench [rounds] [checksPerRound]}.
 */
public final class McpCheckBench {
    static final String ROUTES = """
            routes:
              - name: mcp
                match: {path: /mcp, methods: [POST]}
                auth: jwt
                roles: [user]
            %s
            """;
    static final String TOOLS = """
                mcp:
                  methods: [tools/list, tools/call]
                  tools:
                    - {name: get_balance, roles: [user], scopes: [read]}
                    - name: transfer_funds
                      scopes: [pay]
                      %s
            """;

    private McpCheckBench() {}

    static String policy(String mcp) {
        String base = ReplayBench.policy();
        return base.substring(0, base.indexOf("deny:")) + ROUTES.formatted(mcp);
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        TestKeys rs = TestKeys.generate("bench-rs", JWSAlgorithm.RS256);
        var keys = TestKeys.publicSet(List.of(rs));
        String token = ReplayBench.token(rs, "agent-7", "acme", List.of("user"), List.of("pwd"));
        CheckRequest getBalance = request(token, "get_balance");
        CheckRequest transfer = request(token, "transfer_funds");
        List<DecisionCost.Case> cases = List.of(
                new DecisionCost.Case(
                        "(a) JWT route without MCP rules", DecisionCost.pipeline(policy(""), keys), getBalance),
                new DecisionCost.Case(
                        "(b) MCP route: methods and a listed tool (role, scope)",
                        DecisionCost.pipeline(policy(TOOLS.formatted("")), keys),
                        getBalance),
                new DecisionCost.Case(
                        "(c) MCP route: a tool condition on a mirrored argument",
                        DecisionCost.pipeline(
                                policy(TOOLS.formatted("when: 'mcp.param.currency in [\"EUR\", \"CHF\"]'")), keys),
                        transfer));
        System.out.printf(
                "JDK %s, %d processors%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors());
        DecisionCost.run(cases, rounds, ops);
        System.exit(0);
    }

    static CheckRequest request(String token, String tool) {
        Map<String, List<String>> h = new LinkedHashMap<>();
        h.put("authorization", List.of(token));
        h.put("x-tenant-id", List.of("acme"));
        h.put("content-type", List.of("application/json"));
        h.put("accept", List.of("application/json, text/event-stream"));
        h.put("mcp-protocol-version", List.of("2026-07-28"));
        h.put("mcp-method", List.of("tools/call"));
        h.put("mcp-name", List.of(tool));
        h.put("mcp-param-currency", List.of("EUR"));
        h.put("x-request-id", List.of("bench-mcp-1"));
        return CheckRequests.of("POST", "mcp.local", "/mcp", h, Map.of(), CheckRequests.Encoding.HEADERS);
    }
}
