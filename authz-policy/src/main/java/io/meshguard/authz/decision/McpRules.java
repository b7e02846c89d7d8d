package io.meshguard.authz.decision;

import io.meshguard.authz.mesh.Caller;
import io.meshguard.authz.policy.McpRoute;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.McpCall;
import io.meshguard.authz.request.Reason;
import io.meshguard.contract.McpHeaders;
import io.meshguard.contract.OwnedHeaderNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An MCP route's two stages, on the request's metadata headers alone ({@link McpCall}): before the credential, whether
 * the headers can be decided on at all; after the route's own requirements, whether the caller may make this call
 * (the route's methods, the listed tool's roles, scopes and conditions). The DLP server refuses a body that disagrees
 * with these headers, so what is decided here is what the MCP server executes.
 */
final class McpRules {
    private final RuleConditions conditions;

    McpRules(RuleConditions conditions) {
        this.conditions = conditions;
    }

    /**
     * Headers that cannot be believed (repeated, badly encoded), a header-era request lacking one its method requires,
     * or an older-era request on a route that decides on the headers: the transport's intermediaries "SHOULD reject
     * rather than trusting unvalidated header values", since servers of those versions never compare them to the body.
     */
    static Optional<Decision> headersRefused(HttpRequestView request, RoutePolicy r, McpRoute mcp) {
        McpCall call = request.mcp();
        if (call.problem().isPresent()) {
            String header = call.problem().get().header();
            return refuse(
                    request,
                    r,
                    call.problem().get().description(),
                    header,
                    header.equals(McpHeaders.PROTOCOL_VERSION)
                            ? McpHeaders.UNSUPPORTED_PROTOCOL_VERSION
                            : McpHeaders.HEADER_MISMATCH);
        }
        if (call.headerEra()) {
            if (call.method().filter(m -> !m.isEmpty()).isEmpty()) {
                return refuse(
                        request,
                        r,
                        "MCP request without the Mcp-Method header",
                        McpHeaders.METHOD,
                        McpHeaders.HEADER_MISMATCH);
            }
            if (McpHeaders.NAMED_METHODS.contains(call.method().get())
                    && call.name().filter(n -> !n.isEmpty()).isEmpty()) {
                return refuse(
                        request,
                        r,
                        "MCP request without the Mcp-Name header its method requires",
                        McpHeaders.NAME,
                        McpHeaders.HEADER_MISMATCH);
            }
            return Optional.empty();
        }
        if (mcp.decidesOnHeaders()) {
            return refuse(
                    request,
                    r,
                    "this route decides on MCP headers; a request without MCP-Protocol-Version " + McpHeaders.HEADER_ERA
                            + " or later is not held to them",
                    McpHeaders.PROTOCOL_VERSION,
                    McpHeaders.UNSUPPORTED_PROTOCOL_VERSION);
        }
        return Optional.empty();
    }

    /**
     * Answered the way an MCP server answers a request it cannot take: 400 with a JSON-RPC error carrying the
     * request's id ({@link DenyResponse#jsonRpc}).
     */
    private static Optional<Decision> refuse(
            HttpRequestView request, RoutePolicy r, String why, String header, int code) {
        return Optional.of(DenyResponse.jsonRpc(
                DenyResponse.of(
                        request,
                        Optional.of(r.name()),
                        Optional.empty(),
                        Reason.MCP_HEADERS_INVALID,
                        why,
                        Map.of("header", header),
                        false),
                request,
                code,
                Map.of("header", header)));
    }

    /** The route's method list and, for {@code tools/call}, the listed tool's requirements. */
    Optional<Decision> callRefused(
            HttpRequestView request,
            RoutePolicy r,
            McpRoute mcp,
            Caller caller,
            Optional<Identity> who,
            boolean cached) {
        if (!mcp.decidesOnHeaders()) {
            return Optional.empty();
        }
        // headersRefused let only header-era requests with their method (and name) through to here
        McpCall call = request.mcp();
        String method = call.method().orElse("");
        if (!mcp.methods().isEmpty() && !mcp.methods().contains(method)) {
            return Optional.of(DenyResponse.of(
                    request,
                    Optional.of(r.name()),
                    who,
                    Reason.MCP_METHOD_NOT_ALLOWED,
                    "this route does not take this MCP method",
                    Map.of(),
                    cached));
        }
        if (!mcp.toolsListed() || !method.equals("tools/call")) {
            return Optional.empty();
        }
        Optional<McpRoute.Tool> tool = mcp.tool(call.name().orElse(""));
        if (tool.isEmpty()) {
            return toolRefused(request, r, who, cached, "this route does not list the tool");
        }
        McpRoute.Tool t = tool.get();
        if (!rolesHeld(t, who)) {
            return toolRefused(request, r, who, cached, "caller lacks a role the tool requires");
        }
        if (!scopesHeld(t, who)) {
            // the spec's insufficient_scope: the client can ask for a token with the scopes the challenge names
            return Optional.of(DenyResponse.of(
                    request,
                    Optional.of(r.name()),
                    who,
                    Reason.INSUFFICIENT_SCOPE,
                    "caller lacks a scope the tool requires",
                    Map.of(),
                    cached));
        }
        return toolConditionsUnmet(t.when(), request, r, caller, who, cached);
    }

    private Optional<Decision> toolConditionsUnmet(
            List<io.meshguard.authz.condition.Condition> when,
            HttpRequestView request,
            RoutePolicy r,
            Caller caller,
            Optional<Identity> who,
            boolean cached) {
        return conditions.unmet(
                when,
                r,
                request,
                caller,
                who,
                cached,
                false,
                Reason.MCP_TOOL_NOT_ALLOWED,
                "a condition of the tool is not met");
    }

    private static boolean rolesHeld(McpRoute.Tool t, Optional<Identity> who) {
        return t.roles().equals(io.meshguard.authz.policy.RoleRequirement.NONE)
                || who.filter(id -> t.roles().satisfiedBy(id.roles())).isPresent();
    }

    private static boolean scopesHeld(McpRoute.Tool t, Optional<Identity> who) {
        return t.scopes().isEmpty()
                || who.filter(id -> id.scopes().containsAll(t.scopes())).isPresent();
    }

    /**
     * On the allow of a {@code tools/list} on a route that lists its tools: the tools this caller may call, in
     * {@link OwnedHeaderNames#MCP_TOOLS} for the DLP server, which lists only those in the answer (a caller is not shown
     * tools it would be refused). A tool is callable when the caller holds its roles and scopes and its conditions hold;
     * conditions that read the call itself ({@code mcp.*}: its name, its arguments) are decided on each
     * {@code tools/call}, since a list request carries no call to decide them on.
     */
    Decision withCallableTools(
            Decision d, HttpRequestView request, RoutePolicy r, Caller caller, Optional<Identity> who, boolean cached) {
        Optional<McpRoute> mcp = r.access().mcp();
        if (!d.allowed() || mcp.isEmpty() || !mcp.get().toolsListed()) {
            return d;
        }
        McpCall call = request.mcp();
        if (call.problem().isPresent()
                || call.method().filter("tools/list"::equals).isEmpty()) {
            return d;
        }
        List<String> callable = new ArrayList<>();
        for (McpRoute.Tool t : mcp.get().tools()) {
            List<io.meshguard.authz.condition.Condition> decidable =
                    t.when().stream().filter(c -> !c.readsMcp()).toList();
            if (rolesHeld(t, who)
                    && scopesHeld(t, who)
                    && toolConditionsUnmet(decidable, request, r, caller, who, cached)
                            .isEmpty()) {
                callable.add(t.name());
            }
        }
        List<HeaderMutation> set = new ArrayList<>(d.headersSet());
        set.add(new HeaderMutation(OwnedHeaderNames.MCP_TOOLS, toolsHeader(callable), HeaderMutation.Mode.OVERWRITE));
        return d.withHeaders(
                List.copyOf(set),
                d.headersRemoved().stream()
                        .filter(n -> !n.equals(OwnedHeaderNames.MCP_TOOLS))
                        .toList(),
                d.responseHeaders());
    }

    /** {@link OwnedHeaderNames#MCP_TOOLS}'s value: a JSON array of the names, ASCII only (a header value's safe set). */
    static String toolsHeader(List<String> names) {
        StringBuilder sb = new StringBuilder("[");
        for (String name : names) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append('"');
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                if (c == '"' || c == '\\') {
                    sb.append('\\').append(c);
                } else if (c < 0x20 || c > 0x7e) {
                    sb.append(String.format("\\u%04x", (int) c));
                } else {
                    sb.append(c);
                }
            }
            sb.append('"');
        }
        return sb.append(']').toString();
    }

    private static Optional<Decision> toolRefused(
            HttpRequestView request, RoutePolicy r, Optional<Identity> who, boolean cached, String why) {
        return Optional.of(DenyResponse.of(
                request, Optional.of(r.name()), who, Reason.MCP_TOOL_NOT_ALLOWED, why, Map.of(), cached));
    }
}
