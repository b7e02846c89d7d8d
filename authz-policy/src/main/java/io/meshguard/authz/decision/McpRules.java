package io.meshguard.authz.decision;

import io.meshguard.authz.mesh.Caller;
import io.meshguard.authz.policy.McpRoute;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.McpCall;
import io.meshguard.authz.request.Reason;
import io.meshguard.contract.McpHeaders;
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
        McpCall call = McpCall.of(request);
        if (call.problem().isPresent()) {
            return refuse(
                    request,
                    r,
                    call.problem().get().description(),
                    call.problem().get().header());
        }
        if (call.headerEra()) {
            if (call.method().filter(m -> !m.isEmpty()).isEmpty()) {
                return refuse(request, r, "MCP request without the Mcp-Method header", McpHeaders.METHOD);
            }
            if (McpHeaders.NAMED_METHODS.contains(call.method().get())
                    && call.name().filter(n -> !n.isEmpty()).isEmpty()) {
                return refuse(
                        request, r, "MCP request without the Mcp-Name header its method requires", McpHeaders.NAME);
            }
            return Optional.empty();
        }
        if (mcp.decidesOnHeaders()) {
            return refuse(
                    request,
                    r,
                    "this route decides on MCP headers; a request without MCP-Protocol-Version " + McpHeaders.HEADER_ERA
                            + " or later is not held to them",
                    McpHeaders.PROTOCOL_VERSION);
        }
        return Optional.empty();
    }

    private static Optional<Decision> refuse(HttpRequestView request, RoutePolicy r, String why, String header) {
        return Optional.of(DenyResponse.of(
                request,
                Optional.of(r.name()),
                Optional.empty(),
                Reason.MCP_HEADERS_INVALID,
                why,
                Map.of("header", header),
                false));
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
        McpCall call = McpCall.of(request);
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
        Identity id = who.orElse(null);
        if (!t.roles().equals(io.meshguard.authz.policy.RoleRequirement.NONE)
                && (id == null || !t.roles().satisfiedBy(id.roles()))) {
            return toolRefused(request, r, who, cached, "caller lacks a role the tool requires");
        }
        if (!t.scopes().isEmpty() && (id == null || !id.scopes().containsAll(t.scopes()))) {
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
        return conditions.unmet(
                t.when(),
                r,
                request,
                caller,
                who,
                cached,
                false,
                Reason.MCP_TOOL_NOT_ALLOWED,
                "a condition of the tool is not met");
    }

    private static Optional<Decision> toolRefused(
            HttpRequestView request, RoutePolicy r, Optional<Identity> who, boolean cached, String why) {
        return Optional.of(DenyResponse.of(
                request, Optional.of(r.name()), who, Reason.MCP_TOOL_NOT_ALLOWED, why, Map.of(), cached));
    }
}
