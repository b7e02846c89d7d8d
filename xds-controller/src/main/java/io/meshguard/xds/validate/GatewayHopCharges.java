package io.meshguard.xds.validate;

import io.meshguard.authz.policy.AuthMode;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.QuotaPolicy;
import io.meshguard.authz.policy.RouteIndex;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.HostnamePlan;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Warns where a gateway route's requests are counted only by the sidecar behind it: the route's authz rule is in no
 * quota (or has {@code rate_limit: off}) that the rule the upstream's sidecar decides the hop with is in.
 *
 * <p>Why exactly this: extauthz charges a gateway hop at the sidecar for every quota that covers the sidecar's rule
 * and that the gateway did not name in {@code x-meshguard-quota-charged} (and rate-limits it unless the gateway named
 * its rule in {@code x-meshguard-rate-limited-at}; {@code AuthzEngine.decide}). So such a request is charged — but
 * only when that sidecar runs meshguard's check (a workload labelled {@code meshguard.io/protected=true},
 * manifests/istio/base/authorization-policy.yaml) and sees the request as the sidecar rule expects. Behind an
 * unprotected workload the request is charged by no one; a policy check cannot see labels, so it says so.
 *
 * <p>The sidecar's rule is the one the policy selects for the host the sidecar sees — the upstream's DNS name, which
 * the gateway writes into {@code Host} ({@code auto_host_rewrite}, SnapshotBuilder), or the client's host for an
 * upstream of IP literals (left alone) — the route's full path and its methods. Not warned, because no such request
 * is let through uncharged: a policy without {@code mesh.trusted_gateways} (no gateway hop: the sidecar asks for the
 * credential the gateway stripped), a public gateway rule ({@code x-auth-method: none}: the sidecar refuses the hop,
 * {@code GatewayHop}), a sidecar rule that accepts none of the credentials the gateway's rule hands on (refused
 * likewise), a public sidecar rule (no caller: quotas never count it at either hop). Regex paths are skipped: there is
 * no concrete path to select the sidecar's rule with.
 */
public final class GatewayHopCharges {
    /** Methods tried for a gateway route that lists none. */
    private static final List<String> ANY_METHOD = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE");

    private GatewayHopCharges() {}

    /** One warning per gateway route, upstream, sidecar rule and quota (or rate limit) charged only at the sidecar. */
    public static List<Problem> check(GatewayConfig config, AuthzPolicy authz) {
        if (authz.mesh().trustedGateways().isEmpty()) {
            return List.of();
        }
        RouteIndex rules = RouteIndex.of(authz.routes());
        Set<String> seen = new LinkedHashSet<>();
        List<Problem> out = new ArrayList<>();
        for (Route r : config.routes()) {
            Optional<RoutePolicy> gatewayRule = rules.named(r.authzProfile());
            Optional<GatewayGroup> group = config.group(r.group());
            Optional<Api> api = config.api(r.api());
            if (gatewayRule.isEmpty()
                    || group.isEmpty()
                    || api.isEmpty()
                    || !handsOver(api.get(), r)
                    || gatewayRule.get().auth() == AuthMode.NONE) {
                continue;
            }
            RoutePolicy g = gatewayRule.get();
            for (Route.Destination d : r.destinations()) {
                Optional<Upstream> u = config.upstream(d.upstream());
                if (d.weight() <= 0 || u.isEmpty()) {
                    continue;
                }
                for (String host : hostsSeenBySidecar(u.get(), HostnamePlan.hostnames(group.get(), api.get()))) {
                    for (String path : paths(api.get(), r)) {
                        for (String method : r.match().methods().isEmpty()
                                ? ANY_METHOD
                                : r.match().methods()) {
                            Optional<RoutePolicy> s = rules.select(host, path, method);
                            if (s.isEmpty()
                                    || s.get().name().equals(g.name())
                                    || !takesTheHop(g.auth(), s.get().auth())) {
                                continue;
                            }
                            warn(authz, r, u.get().name(), g, s.get(), seen, out);
                        }
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    private static void warn(
            AuthzPolicy authz,
            Route r,
            String upstream,
            RoutePolicy g,
            RoutePolicy s,
            Set<String> seen,
            List<Problem> out) {
        String path = "routes[" + r.group() + "/" + r.name() + "].authz_profile";
        String behind = "the sidecar of upstream " + upstream + " decides route " + r.name() + "'s requests with rule '"
                + s.name() + "'";
        String unprotected = "they are charged only there, and by no one when that workload has no meshguard check"
                + " (label meshguard.io/protected=true)";
        for (QuotaPolicy q : authz.quotas()) {
            if (q.covers(s.name())
                    && !q.covers(g.name())
                    && seen.add(path + "\u0000quota\u0000" + q.name() + "\u0000" + upstream)) {
                out.add(Problem.warning(
                        ProblemCode.HOP_QUOTA_NOT_AT_GATEWAY,
                        path,
                        behind + ", which quota '" + q.name() + "' counts, but the gateway's rule '"
                                + g.name() + "' is not in it: " + unprotected + "; list '" + g.name()
                                + "' in the quota's routes"
                                + " to charge at the gateway (the sidecar then skips it)"));
            }
        }
        if (authz.rateLimits().isPresent()
                && s.rateLimited()
                && !g.rateLimited()
                && seen.add(path + "\u0000rate\u0000" + upstream)) {
            out.add(Problem.warning(
                    ProblemCode.HOP_RATE_LIMIT_OFF_AT_GATEWAY,
                    path,
                    behind + ", which is rate-limited, but the gateway's rule '" + g.name()
                            + "' has rate_limit: off: " + unprotected + "; rate-limit '" + g.name()
                            + "' to limit at the gateway"
                            + " (the sidecar then skips its own limit)"));
        }
    }

    /** Whether a sidecar rule accepts some identity the gateway's rule hands on ({@code GatewayHop.identity}). */
    private static boolean takesTheHop(AuthMode gateway, AuthMode sidecar) {
        return switch (gateway) {
            case JWT -> sidecar.acceptsJwt();
            case APIKEY -> sidecar.acceptsApiKey();
            case JWT_OR_APIKEY -> sidecar.acceptsJwt() || sidecar.acceptsApiKey();
            case MTLS -> sidecar == AuthMode.MTLS;
            case NONE -> false;
        };
    }

    /** The upstream's DNS names, which the gateway writes into Host; the client's hosts for IP-literal endpoints. */
    private static List<String> hostsSeenBySidecar(Upstream u, List<String> clientHosts) {
        if (u.discovery() == Upstream.Discovery.LOGICAL_DNS || u.discovery() == Upstream.Discovery.STRICT_DNS) {
            return u.endpoints().stream()
                    .map(Upstream.Endpoint::address)
                    .distinct()
                    .toList();
        }
        return clientHosts;
    }

    /** The full request paths the route serves (under the versioned root, and the bare one for the default version). */
    private static List<String> paths(Api api, Route r) {
        Optional<String> relative = r.match().pathPrefix().or(() -> r.match().pathExact());
        if (relative.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>(2);
        out.add(api.basePath() + "/" + r.version() + relative.get());
        if (r.version().equals(api.defaultVersion())) {
            out.add(api.basePath() + relative.get());
        }
        return out;
    }

    private static boolean handsOver(Api api, Route r) {
        return api.version(r.version())
                .map(Api.ApiVersion::status)
                .map(s -> s == Api.Status.ACTIVE || s == Api.Status.DEPRECATED)
                .orElse(true);
    }
}
