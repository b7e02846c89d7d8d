package io.meshguard.authz.replay;

import io.meshguard.authz.condition.ConditionReads;
import io.meshguard.authz.decision.ClientAddress;
import io.meshguard.authz.decision.WaypointPeer;
import io.meshguard.authz.mesh.SourceRule;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.DenyRule;
import io.meshguard.authz.policy.McpRoute;
import io.meshguard.authz.policy.MeshSettings;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.contract.OwnedHeaderNames;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a decision record keeps of the request, derived from one policy: the header values its rules read (the
 * {@code when:} conditions' headers, the tenant header, meshguard's identity and gateway-hop headers), the headers
 * whose presence alone counts (required headers, the credential headers: never their values), the query parameters
 * and claims its conditions read, and the client address only when a rule reads addresses. Also what each rule of the
 * policy needs, so a replay can tell when a draft reads a fact that was not kept.
 *
 * @param headerValues headers kept with their values
 * @param headerPresence headers kept as "present" or "blank" only
 * @param mesh the policy's mesh settings: which waypoints' XFCC names the caller ({@link #caller})
 */
public record KeptFacts(
        Set<String> headerValues,
        Set<String> headerPresence,
        Set<String> query,
        Set<String> claims,
        boolean address,
        Map<String, ConditionReads> byRoute,
        ConditionReads denyRules,
        MeshSettings mesh) {

    public KeptFacts {
        headerValues = Set.copyOf(headerValues);
        headerPresence = Set.copyOf(headerPresence);
        query = Set.copyOf(query);
        claims = Set.copyOf(claims);
        byRoute = Map.copyOf(byRoute);
    }

    public static KeptFacts of(AuthzPolicy policy) {
        ConditionReads deny = ConditionReads.NONE;
        for (DenyRule rule : policy.denyRules()) {
            deny = deny.and(ConditionReads.of(rule.when())).and(addressReads(rule.from()));
        }
        Map<String, ConditionReads> byRoute = new HashMap<>();
        ConditionReads all = deny;
        // once a route names its MCP server, every route decides on the token's audience (RFC 8707): a token bound
        // to that server is refused elsewhere, so the aud claim is kept on every row
        boolean audience = policy.routes().stream()
                .anyMatch(r -> r.access().mcp().flatMap(McpRoute::resource).isPresent());
        ConditionReads audienceReads =
                new ConditionReads(Set.of(), Set.of(), audience ? Set.of("aud") : Set.of(), false, false, false, false);
        for (RoutePolicy r : policy.routes()) {
            ConditionReads reads = ConditionReads.of(r.access().when())
                    .and(addressReads(r.access().from()))
                    .and(audienceReads);
            if (r.access().mcp().isPresent()) {
                // an MCP route decides on the method, name and version headers (never kept: the arguments)
                reads = reads.and(ConditionReads.of(r.access().mcp().get().toolConditions()))
                        .and(new ConditionReads(McpRoute.KEPT_HEADERS, Set.of(), Set.of(), false, false, false, false));
            }
            byRoute.put(r.name(), reads);
            all = all.and(reads);
        }
        Set<String> values = new TreeSet<>(all.headers());
        values.add(policy.headerContract().tenantHeader());
        values.addAll(policy.identityHeaders().all());
        values.add(OwnedHeaderNames.RATE_LIMITED_AT);
        values.add(OwnedHeaderNames.QUOTA_CHARGED);
        if (all.address()) {
            // which address a rule sees depends on these (ClientAddress)
            values.add(ClientAddress.HEADER);
            values.add(ClientAddress.ENVOY_EXTERNAL_ADDRESS);
        }
        Set<String> presence = new TreeSet<>(policy.headerContract().required());
        presence.add("authorization");
        presence.add(policy.apiKeyHeader());
        presence.removeAll(values);
        return new KeptFacts(values, presence, all.query(), all.claims(), all.address(), byRoute, deny, policy.mesh());
    }

    /**
     * The caller the decision saw: the Check's peer, or in ambient mode the client a trusted waypoint named
     * ({@link WaypointPeer}). Recorded instead of the raw peer, so a waypoint's decision replays with its caller and
     * the audit row names who called, not an empty principal.
     */
    public String caller(HttpRequestView request) {
        return WaypointPeer.principal(request, mesh);
    }

    /** The facts one draft rule path needs: the deny rules' and the selected route's. */
    ConditionReads needs(java.util.Optional<String> route) {
        return route.map(r -> denyRules.and(byRoute.getOrDefault(r, ConditionReads.NONE)))
                .orElse(denyRules);
    }

    private static ConditionReads addressReads(List<SourceRule> from) {
        for (SourceRule s : from) {
            if (!s.ipBlocks().isEmpty()
                    || !s.notIpBlocks().isEmpty()
                    || !s.remoteIpBlocks().isEmpty()
                    || !s.notRemoteIpBlocks().isEmpty()) {
                return new ConditionReads(Set.of(), Set.of(), Set.of(), false, false, false, true);
            }
        }
        return ConditionReads.NONE;
    }
}
