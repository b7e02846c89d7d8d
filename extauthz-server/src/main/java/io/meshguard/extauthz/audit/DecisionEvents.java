package io.meshguard.extauthz.audit;

import io.meshguard.authz.replay.KeptFacts;
import io.meshguard.authz.replay.ReplayFacts;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.McpCall;
import io.meshguard.authz.request.Reason;
import io.meshguard.contract.CanonicalPath;
import io.meshguard.contract.McpHeaders;
import io.meshguard.contract.RouteContract;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Maps a decision to its audit event. The path is the canonical one (the raw path too when it differs, or the raw
 * path alone when it was refused), always without query string (it may hold personal data). Contract headers
 * ({@code x-dwp-source}, {@code x-dwp-caller-type}) are recorded as meshguard set them for the upstream, never as
 * the client sent them.
 */
public final class DecisionEvents {
    /** The route contract's context keys and, in the same order, their names in the details (without the prefix). */
    private static final List<String> CONTEXT_KEYS = RouteContract.AuthzContext.ALL;

    private static final List<String> CONTEXT_NAMES = CONTEXT_KEYS.stream()
            .map(k -> k.substring(RouteContract.AuthzContext.PREFIX.length()))
            .toList();

    private DecisionEvents() {}

    /** The event without replay facts (tools and benchmarks that decide without a running policy). */
    public static AuthzDecisionEvent of(HttpRequestView request, Decision d, Instant time, long latencyMicros) {
        return of(request, d, time, latencyMicros, Optional.empty());
    }

    /**
     * @param kept what the policy the decision was made on reads: kept in the row's details under {@value #REPLAY}
     *     (written by the audit writer's thread, {@link AuthzDecisionEvent#replay()}) so the decision can be replayed
     *     against a draft ({@code meshguard policy impact})
     */
    public static AuthzDecisionEvent of(
            HttpRequestView request, Decision d, Instant time, long latencyMicros, Optional<KeptFacts> kept) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("description", d.description());
        d.identity().ifPresent(id -> {
            details.put("auth_method", id.authMethod());
            details.put("issuer", id.issuer());
            id.credentialId().ifPresent(k -> details.put("api_key_id", k));
            id.tier().ifPresent(t -> details.put("tier", t));
        });
        details.put("token_cached", Boolean.toString(d.tokenFromCache()));
        d.subscription().ifPresent(s -> details.put(io.meshguard.catalogmodel.SubscriptionUsage.AUDIT_DETAIL, s));
        // what the gateway route handed over (operator config), cut so a misconfigured proxy cannot bloat rows
        Map<String, String> context = request.contextExtensions();
        for (int i = 0; i < CONTEXT_KEYS.size(); i++) {
            String value = context.get(CONTEXT_KEYS.get(i));
            if (value != null) {
                details.put(CONTEXT_NAMES.get(i), cut(value));
            }
        }
        setByMeshguard(d, io.meshguard.authz.quota.QuotaVerdict.FLAG_HEADER)
                .ifPresent(q -> details.put("quota_exceeded", q));
        if (d.responseHeaders().containsKey(io.meshguard.authz.quota.QuotaResponses.NAME)) {
            details.put("quota", d.responseHeaders().get(io.meshguard.authz.quota.QuotaResponses.NAME));
            details.put(
                    "quota_remaining",
                    d.responseHeaders().getOrDefault(io.meshguard.authz.quota.QuotaResponses.REMAINING, ""));
        }
        // an MCP call is recorded by its method and tool (prompt, resource), never by its mirrored arguments
        if (request.headers().containsKey(McpHeaders.METHOD)) {
            McpCall mcp = request.mcp();
            mcp.method().ifPresent(m -> details.put("mcp_method", cut(m)));
            mcp.name().ifPresent(n -> details.put("mcp_name", cut(n)));
            mcp.protocolVersion().ifPresent(v -> details.put("mcp_protocol_version", v));
        }
        // at an ambient waypoint the Check has no peer: the caller is the client a trusted waypoint named in XFCC
        String caller = kept.map(k -> k.caller(request)).orElse(request.sourcePrincipal());
        if (!caller.isEmpty()) {
            details.put("source_principal", caller);
            if (request.sourcePrincipal().isEmpty()) {
                details.put("source_principal_from", "waypoint_xfcc");
            }
        }
        if (d.reason() == Reason.INVALID_PATH) {
            details.put(
                    "path_problem",
                    request.target()
                            .problem()
                            .orElse(CanonicalPath.Problem.PATH_PARAMETERS)
                            .code());
        }
        String path = request.target().canonical() ? request.path() : request.rawPath();
        if (request.target().canonical() && !request.rawPath().equals(request.path())) {
            details.put("raw_path", request.rawPath());
        }
        Optional<Identity> id = d.identity();
        return new AuthzDecisionEvent(
                time,
                d.requestId(),
                traceId(request),
                id.flatMap(Identity::tenant),
                id.map(Identity::subject),
                id.flatMap(Identity::clientId),
                setByMeshguard(d, "x-dwp-source"),
                setByMeshguard(d, "x-dwp-caller-type"),
                request.method(),
                request.host(),
                path,
                d.route(),
                d.status(),
                d.allowed() ? "allow" : "deny",
                d.reason().code(),
                latencyMicros,
                // nobody else holds the map: a view keeps it in insertion order and costs no second hashing pass
                java.util.Collections.unmodifiableMap(details),
                // made on the audit writer's thread from the immutable inputs: the Check does not pay for them
                kept.map(k -> new ReplayFacts(request, d, time, k)));
    }

    /**
     * The event of a Check Envoy cancelled before it was answered (the downstream reset): the same row, marked
     * {@code client_cancelled}, so the log says the decision reached no one and charged no calendar quota.
     */
    public static AuthzDecisionEvent cancelled(AuthzDecisionEvent e) {
        return withDetail(e, "client_cancelled", "true");
    }

    /**
     * The event of an allow that went back to the proxy with {@code nonce} in its dynamic metadata: the row keeps it
     * under {@value NONCE_DETAIL}, the key proof of coverage joins the proxy's access-log row on.
     */
    public static AuthzDecisionEvent withNonce(AuthzDecisionEvent e, String nonce) {
        return withDetail(e, NONCE_DETAIL, nonce);
    }

    /** The details key of an allow's nonce: the same key the access-log row keeps the proxy's copy under. */
    public static final String NONCE_DETAIL = io.meshguard.audit.als.AccessLogMapper.NONCE_DETAIL;

    /** The event with {@code added} in its details (what the server did after the policy's decision, e.g. an exchange). */
    public static AuthzDecisionEvent withDetails(AuthzDecisionEvent e, Map<String, String> added) {
        return withDetail(e, added);
    }

    private static AuthzDecisionEvent withDetail(AuthzDecisionEvent e, String key, String value) {
        return withDetail(e, Map.of(key, value));
    }

    private static AuthzDecisionEvent withDetail(AuthzDecisionEvent e, Map<String, String> added) {
        Map<String, String> details = new java.util.LinkedHashMap<>(e.details());
        details.putAll(added);
        return new AuthzDecisionEvent(
                e.time(),
                e.requestId(),
                e.traceId(),
                e.tenant(),
                e.subject(),
                e.clientId(),
                e.source(),
                e.callerType(),
                e.method(),
                e.authority(),
                e.path(),
                e.route(),
                e.status(),
                e.decision(),
                e.reason(),
                e.latencyMicros(),
                java.util.Collections.unmodifiableMap(details),
                e.replay());
    }

    /** Values a client or a misconfigured proxy chose are cut, so that neither can bloat rows. */
    private static String cut(String value) {
        return value.length() > 128 ? value.substring(0, 128) : value;
    }

    private static Optional<String> setByMeshguard(Decision d, String header) {
        for (HeaderMutation m : d.headersSet()) {
            if (m.name().equals(header)) {
                return Optional.of(m.value());
            }
        }
        return Optional.empty();
    }

    /** W3C traceparent's trace id, else B3. */
    private static Optional<String> traceId(HttpRequestView request) {
        Optional<String> tp = request.first("traceparent");
        if (tp.isPresent()) {
            String[] parts = tp.get().split("-");
            if (parts.length >= 2 && parts[1].length() == 32) {
                return Optional.of(parts[1]);
            }
        }
        return request.first("x-b3-traceid").filter(t -> t.length() <= 32);
    }
}
