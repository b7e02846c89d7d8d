package io.meshguard.authz.decision;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.IssuerPolicy;
import io.meshguard.authz.policy.McpResource;
import io.meshguard.authz.policy.McpRoute;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.McpCall;
import io.meshguard.authz.request.Reason;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * OAuth for MCP routes the way the MCP authorization spec asks it of the server: the Protected Resource Metadata
 * (RFC 9728) at the well-known URI of a route's {@code resource:}, tokens bound to that resource (RFC 8707), and the
 * {@code WWW-Authenticate} challenges of 401 and 403 answers, naming the metadata and the full scope set the call needs.
 */
final class McpAuthorization {
    private McpAuthorization() {}

    /**
     * The metadata of the MCP server whose well-known URI a {@code GET}/{@code HEAD} asks for, among {@code candidates}
     * (the route a gateway names, or every route); empty when the request asks for none of them.
     */
    static Optional<Decision> metadata(HttpRequestView request, AuthzPolicy policy, List<RoutePolicy> candidates) {
        if (!request.path().startsWith(McpResource.WELL_KNOWN)
                || !(request.method().equals("GET") || request.method().equals("HEAD"))) {
            return Optional.empty();
        }
        for (RoutePolicy r : candidates) {
            Optional<McpResource> resource = r.access().mcp().flatMap(McpRoute::resource);
            if (resource.isPresent()
                    && resource.get().host().equals(request.host())
                    && resource.get().metadataPath().equals(request.path())) {
                return Optional.of(document(request, policy, r, resource.get()));
            }
        }
        return Optional.empty();
    }

    private static Decision document(HttpRequestView request, AuthzPolicy policy, RoutePolicy r, McpResource res) {
        StringBuilder body = new StringBuilder("{\"resource\":");
        Json.quote(body, res.uri());
        body.append(",\"authorization_servers\":");
        array(body, authorizationServers(policy, r, res));
        List<String> scopes = List.copyOf(scopesSupported(r));
        if (!scopes.isEmpty()) {
            body.append(",\"scopes_supported\":");
            array(body, scopes);
        }
        body.append(",\"bearer_methods_supported\":[\"header\"]}");
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("content-type", "application/json");
        headers.put("cache-control", "max-age=300");
        headers.put("x-request-id", request.requestId());
        return new Decision(
                false,
                Reason.RESOURCE_METADATA.status(),
                Reason.RESOURCE_METADATA,
                "protected resource metadata of " + res.uri(),
                request.requestId(),
                Optional.of(r.name()),
                Optional.empty(),
                List.of(),
                List.of(),
                Map.copyOf(headers),
                body.toString(),
                false,
                Optional.empty(),
                Optional.empty());
    }

    /** The route's {@code authorization_servers:}, else the {@code iss} of every issuer whose tokens it accepts. */
    private static List<String> authorizationServers(AuthzPolicy policy, RoutePolicy r, McpResource res) {
        if (!res.authorizationServers().isEmpty()) {
            return res.authorizationServers();
        }
        List<String> out = new ArrayList<>();
        for (IssuerPolicy i : policy.issuers()) {
            if (r.options().issuers().isEmpty() || r.options().issuers().contains(i.name())) {
                out.add(i.issuer());
            }
        }
        return out;
    }

    /** Every scope a call on the route can need: the route's and each listed tool's. */
    private static TreeSet<String> scopesSupported(RoutePolicy r) {
        TreeSet<String> all = new TreeSet<>(r.scopes());
        r.access().mcp().ifPresent(m -> m.tools().forEach(t -> all.addAll(t.scopes())));
        return all;
    }

    /** The scopes this request needs: the route's, and for a {@code tools/call} of a listed tool, the tool's. */
    private static TreeSet<String> scopesNeeded(RoutePolicy r, McpRoute mcp, HttpRequestView request) {
        TreeSet<String> needed = new TreeSet<>(r.scopes());
        McpCall call = request.mcp();
        if (call.problem().isEmpty()
                && call.method().filter("tools/call"::equals).isPresent()) {
            call.name().flatMap(mcp::tool).ifPresent(t -> needed.addAll(t.scopes()));
        }
        return needed;
    }

    /**
     * A valid token of an MCP route's issuer that was not issued for the route's server: refused as the spec asks
     * ("MUST validate that access tokens were issued specifically for them"), whatever else it would allow.
     */
    static Optional<Decision> audienceRefused(
            HttpRequestView request, RoutePolicy r, Identity id, Optional<Identity> who, boolean cached) {
        Optional<McpResource> resource = r.access().mcp().flatMap(McpRoute::resource);
        if (resource.isEmpty() || resource.get().namedBy(id.claims().get("aud"))) {
            return Optional.empty();
        }
        return Optional.of(DenyResponse.of(
                request,
                Optional.of(r.name()),
                who,
                Reason.WRONG_AUDIENCE,
                "the token was not issued for this MCP server (its aud does not name "
                        + resource.get().uri() + ")",
                Map.of(),
                cached));
    }

    /**
     * A token bound to an MCP server (its {@code aud} names one of the policy's MCP servers) on a route that is not
     * one of that server's: refused, so an agent's credential (or one an MCP server let out) is not spent on the other
     * APIs that trust the same issuer. A token naming several servers is accepted on each of their routes.
     */
    static Optional<Decision> boundElsewhere(
            HttpRequestView request,
            RoutePolicy r,
            List<McpResource> servers,
            Identity id,
            Optional<Identity> who,
            boolean cached) {
        Object aud = id.claims().get("aud");
        if (aud == null || servers.isEmpty()) {
            return Optional.empty();
        }
        Optional<McpResource> own = r.access().mcp().flatMap(McpRoute::resource);
        if (own.isPresent() && own.get().namedBy(aud)) {
            return Optional.empty();
        }
        for (McpResource server : servers) {
            if (server.namedBy(aud)) {
                return Optional.of(DenyResponse.of(
                        request,
                        Optional.of(r.name()),
                        who,
                        Reason.WRONG_AUDIENCE,
                        "the token was issued for the MCP server " + server.uri()
                                + " and is accepted only on that server's routes",
                        Map.of(),
                        cached));
            }
        }
        return Optional.empty();
    }

    /** The MCP servers a policy names ({@code mcp.resource:} of its routes), each once. */
    static List<McpResource> servers(AuthzPolicy policy) {
        return policy.routes().stream()
                .flatMap(r -> r.access().mcp().flatMap(McpRoute::resource).stream())
                .distinct()
                .toList();
    }

    /**
     * On an MCP route's 401 and scope 403, the spec's challenge in place of the generic one: {@code resource_metadata}
     * (when the route names its resource) and {@code scope}, the full set the call needs, so that one new token
     * suffices; a request that sent no credential gets no {@code error} (RFC 6750 §3.1).
     */
    static Decision challenged(Decision d, RoutePolicy r, HttpRequestView request) {
        Optional<McpRoute> mcp = r.access().mcp();
        if (d.allowed() || mcp.isEmpty() || (d.status() != 401 && d.reason() != Reason.INSUFFICIENT_SCOPE)) {
            return d;
        }
        List<String> params = new ArrayList<>(4);
        if (d.reason() == Reason.INSUFFICIENT_SCOPE) {
            params.add("error=\"insufficient_scope\"");
        } else if (d.reason() != Reason.MISSING_CREDENTIAL) {
            params.add("error=\"invalid_token\"");
        }
        TreeSet<String> scopes = scopesNeeded(r, mcp.get(), request);
        if (!scopes.isEmpty()) {
            params.add("scope=\"" + DenyResponse.quotable(String.join(" ", scopes)) + "\"");
        }
        mcp.get().resource().ifPresent(res -> params.add("resource_metadata=\"" + res.metadataUrl() + "\""));
        if (d.reason() != Reason.MISSING_CREDENTIAL) {
            params.add("error_description=\"" + DenyResponse.quotable(d.description()) + "\"");
        }
        if (params.isEmpty()) {
            params.add("realm=\"" + r.name() + "\"");
        }
        Map<String, String> headers = new LinkedHashMap<>(d.responseHeaders());
        headers.put("www-authenticate", "Bearer " + String.join(", ", params));
        return d.withHeaders(d.headersSet(), d.headersRemoved(), Map.copyOf(headers));
    }

    private static void array(StringBuilder sb, List<String> values) {
        sb.append('[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            Json.quote(sb, values.get(i));
        }
        sb.append(']');
    }
}
