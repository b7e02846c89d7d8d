package io.meshguard.authz.policy;

import io.meshguard.authz.condition.Condition;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A route that serves MCP ({@code mcp:} on the rule): its requests are decided on the transport's metadata headers
 * ({@code Mcp-Method}, {@code Mcp-Name}, {@code Mcp-Param-*}, {@code MCP-Protocol-Version}), which the DLP server holds
 * to the JSON-RPC body.
 *
 * @param methods the JSON-RPC methods the route takes ({@code methods:}); empty takes any
 * @param tools the tools a {@code tools/call} may name ({@code tools:}), each with its own caller requirements; empty
 *     when the rule lists none ({@link #toolsListed} false): any tool
 * @param toolsListed the rule has a {@code tools:} list: a tool not in it is refused
 * @param conditionsReadMcp the route's {@code when:} read an {@code mcp.*} variable
 * @param resource the MCP server as an OAuth protected resource ({@code resource:}): tokens must name it in {@code aud},
 *     its metadata is served and the route's 401/403 answers carry the MCP authorization spec's challenges
 * @param tokenExchange the caller's token is exchanged for one issued to the MCP server before the request goes on
 */
public record McpRoute(
        Set<String> methods,
        List<Tool> tools,
        boolean toolsListed,
        boolean conditionsReadMcp,
        Optional<McpResource> resource,
        Optional<McpTokenExchange> tokenExchange) {
    public McpRoute {
        methods = Set.copyOf(methods);
        tools = List.copyOf(tools);
    }

    /**
     * One tool the route admits and who may call it: every listed role requirement, scope and condition must hold
     * (on top of the route's own).
     */
    public record Tool(String name, RoleRequirement roles, Set<String> scopes, List<Condition> when, int line) {
        public Tool {
            scopes = Set.copyOf(scopes);
            when = List.copyOf(when);
        }
    }

    /**
     * The route's rules decide on the MCP headers: then a request of an older protocol version, whose servers never
     * check the headers against the body, cannot be decided on them and is refused.
     */
    public boolean decidesOnHeaders() {
        return !methods.isEmpty() || toolsListed || conditionsReadMcp;
    }

    /** The route's MCP headers a decision on it reads, kept in its decision row so that it can be replayed. */
    public static final Set<String> KEPT_HEADERS = Set.of(
            io.meshguard.contract.McpHeaders.PROTOCOL_VERSION,
            io.meshguard.contract.McpHeaders.METHOD,
            io.meshguard.contract.McpHeaders.NAME);

    /** Whether a tool's conditions read mirrored arguments ({@code mcp.param}), which no decision row keeps. */
    public boolean toolsReadArguments() {
        return tools.stream().anyMatch(t -> t.when().stream().anyMatch(Condition::readsMcpArguments));
    }

    /** Every tool's conditions. */
    public List<Condition> toolConditions() {
        return tools.stream().flatMap(t -> t.when().stream()).toList();
    }

    public Optional<Tool> tool(String name) {
        for (Tool t : tools) {
            if (t.name().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
