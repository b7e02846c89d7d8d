package io.meshguard.extauthz.audit;

import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.decision.Decision;
import io.meshguard.extauthz.decision.HttpRequestView;
import io.meshguard.extauthz.decision.Identity;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Maps a decision to its audit event. The path is recorded without query string (it may hold personal data). */
public final class DecisionEvents {
    private DecisionEvents() {}

    public static AuthzDecisionEvent of(HttpRequestView request, Decision d, Instant time, long latencyMicros) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("description", d.description());
        d.identity().ifPresent(id -> {
            details.put("auth_method", id.authMethod());
            details.put("issuer", id.issuer());
            id.credentialId().ifPresent(k -> details.put("api_key_id", k));
            id.tier().ifPresent(t -> details.put("tier", t));
        });
        details.put("token_cached", Boolean.toString(d.tokenFromCache()));
        // what the gateway route handed over (operator config), cut so a misconfigured proxy cannot bloat rows
        for (String key : RouteContract.AuthzContext.ALL) {
            String value = request.contextExtensions().get(key);
            if (value != null) {
                details.put(key.substring(RouteContract.AuthzContext.PREFIX.length()),
                        value.length() > 128 ? value.substring(0, 128) : value);
            }
        }
        if (!request.sourcePrincipal().isEmpty()) {
            details.put("source_principal", request.sourcePrincipal());
        }
        Optional<Identity> id = d.identity();
        return new AuthzDecisionEvent(time, d.requestId(), traceId(request), id.flatMap(Identity::tenant),
                id.map(Identity::subject), id.flatMap(Identity::clientId), request.first("x-dwp-source"),
                request.first("x-dwp-caller-type"), request.method(), request.host(), request.path(), d.route(), d.status(),
                d.allowed() ? "allow" : "deny", d.reason().code(), latencyMicros, Map.copyOf(details));
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
