package io.meshguard.authz.decision;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.IdentityHeaders;
import io.meshguard.authz.policy.OwnedHeaders;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.Reason;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The allow's header set for the upstream: meshguard's identity headers, the edge's client address, the route's
 * service credential, the contract defaults, and the removals (credentials, API key, owned headers the client sent).
 * One per policy: the removable names are worked out once.
 */
final class UpstreamHeaders {
    private final AuthzPolicy policy;
    private final SecretFiles secrets;
    private final OwnedHeaders owned;
    /** Credential headers, the API-key header and the owned headers, distinct, in the order they are removed. */
    private final String[] removable;

    private final Set<String> removableSet;

    UpstreamHeaders(AuthzPolicy policy, SecretFiles secrets) {
        this.policy = policy;
        this.secrets = secrets;
        this.owned = OwnedHeaders.of(policy);
        Set<String> names = new LinkedHashSet<>(policy.credentialHeaders());
        names.add(policy.apiKeyHeader());
        names.addAll(owned.owned());
        this.removable = names.toArray(String[]::new);
        this.removableSet = Set.copyOf(names);
    }

    /** The allow, or a deny when the route's upstream credential cannot be read. */
    Decision allow(
            HttpRequestView request,
            RoutePolicy route,
            Optional<Identity> who,
            Reason reason,
            boolean cached,
            Map<String, String> responseHeaders) {
        IdentityHeaders names = policy.identityHeaders();
        Map<String, HeaderMutation> set = new LinkedHashMap<>(32);
        if (who.isPresent() && who.get().authMethod().equals(MeshCaller.MTLS)) {
            // a workload called with its mTLS identity: no user, the peer says who it is
            Identity id = who.get();
            overwrite(set, names.callerType(), "workload");
            overwrite(set, names.callerPrincipal(), id.subject());
            overwrite(set, names.authMethod(), id.authMethod());
        } else if (who.isPresent()) {
            Identity id = who.get();
            overwrite(set, names.subject(), id.subject());
            overwrite(set, names.callerType(), id.authMethod().equals("apikey") ? "api_key" : "user");
            overwrite(set, names.issuer(), id.issuer());
            id.credentialId().ifPresent(k -> overwrite(set, names.credentialId(), k));
            id.tenant().ifPresent(t -> overwrite(set, names.tenant(), t));
            if (!id.roles().isEmpty()) {
                overwrite(set, names.roles(), String.join(",", id.roles()));
            }
            if (!id.scopes().isEmpty()) {
                overwrite(set, names.scopes(), String.join(" ", id.scopes()));
            }
            id.clientId().ifPresent(c -> overwrite(set, names.clientId(), c));
            overwrite(set, names.authMethod(), id.authMethod());
        } else {
            overwrite(set, names.authMethod(), "none");
        }
        if (ClientAddress.atEdge(request)) {
            // the edge's verdict on the client, for the workload's sidecar check (believed there only from the gateway)
            ClientAddress.of(request, policy.mesh()).ifPresent(a -> overwrite(set, ClientAddress.HEADER, a));
        }
        if (route.upstreamCredential().isPresent()) {
            var cred = route.upstreamCredential().get();
            Optional<String> secret = secrets.read(cred.file());
            if (secret.isEmpty()) {
                return DenyResponse.of(
                        request,
                        Optional.of(route.name()),
                        who,
                        Reason.UPSTREAM_CREDENTIAL_UNAVAILABLE,
                        "service credential for the upstream is unavailable",
                        Map.of(),
                        cached);
            }
            overwrite(set, cred.header(), cred.prefix() + secret.get());
        }
        String tenantHeader = policy.headerContract().tenantHeader();
        if (!set.containsKey(tenantHeader)) {
            // the client's tenant header was checked against the token; the upstream still gets meshguard's value
            who.flatMap(Identity::tenant).ifPresent(t -> overwrite(set, tenantHeader, t));
        }
        if (!route.headerContractExempt()) {
            // contract defaults are meshguard's to set: a client-sent x-dwp-caller-type never reaches the upstream
            for (Map.Entry<String, String> d :
                    policy.headerContract().defaults().entrySet()) {
                if (!set.containsKey(d.getKey()) && !names.all().contains(d.getKey())) {
                    overwrite(set, d.getKey(), d.getValue());
                }
            }
        }
        // Envoy applies headers_to_remove after the sets: remove only what we do not set ourselves. The policy's
        // removable names (credentials, API key, owned; distinct, in that order) are worked out once per policy.
        List<String> remove = new ArrayList<>(removable.length + 4);
        for (String n : removable) {
            if (!set.containsKey(n)) {
                remove.add(n);
            }
        }
        for (String n : request.headers().keySet()) {
            if (!set.containsKey(n)
                    && !removableSet.contains(n)
                    && owned.strip(n, route.options().passHeaders())) {
                remove.add(n);
            }
        }
        return new Decision(
                true,
                200,
                reason,
                reason == Reason.PUBLIC_ROUTE ? "public route" : "allowed",
                request.requestId(),
                Optional.of(route.name()),
                who,
                List.copyOf(set.values()),
                List.copyOf(remove),
                responseHeaders,
                "",
                cached,
                Optional.empty(),
                Optional.empty());
    }

    private static void overwrite(Map<String, HeaderMutation> set, String name, String value) {
        set.put(name, new HeaderMutation(name, sanitize(value), HeaderMutation.Mode.OVERWRITE));
    }

    /** Claim values go into header values: drop control characters so a claim can never split a header. */
    private static String sanitize(String value) {
        StringBuilder sb = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                if (sb == null) {
                    sb = new StringBuilder(value.substring(0, i));
                }
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? value : sb.toString();
    }
}
