package io.meshguard.authz.policy;

import io.meshguard.authz.condition.Condition;
import io.meshguard.authz.mesh.SourceRule;
import java.util.List;
import java.util.Optional;

/**
 * What a selected route requires of its caller beyond the credential: the mTLS peer ({@code from:}, one entry must
 * match, checked before the credential), conditions ({@code when:}, all must hold, checked after it), and whether the
 * request must come through a trusted gateway hop ({@code via_gateway}). None of these take part in route selection: a
 * route that fails them denies, it never falls through to a later route. An MCP route ({@code mcp:}) also holds the
 * request's MCP headers to the era and the method and tool rules of {@link McpRoute}.
 */
public record RouteAccess(List<SourceRule> from, List<Condition> when, boolean viaGateway, Optional<McpRoute> mcp) {
    public static final RouteAccess OPEN = new RouteAccess(List.of(), List.of(), false);

    public RouteAccess(List<SourceRule> from, List<Condition> when, boolean viaGateway) {
        this(from, when, viaGateway, Optional.empty());
    }
}
