package io.meshguard.xds.validate;

import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.HostnamePlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Hostnames and path spaces belong to one tenant. In a gateway group, two APIs of different tenants may not serve
 * overlapping hostnames (equal, or a wildcard covering the other) when either names the hostname itself (an API's own
 * {@code hostnames}), nor overlapping base paths (equal, or one a prefix of the other) on a hostname they share (the
 * group's hostnames). Otherwise the more specific route, whoever's it is, takes the other tenant's requests: globex's
 * {@code /accounts/v1} on acme's {@code accounts.acme.example} received acme's customers' calls, bodies and identity
 * headers, on meshguard's gateway and on Envoy Gateway alike. Within one tenant an overlap is served most specific
 * first (longest base path first on meshguard's gateway, Gateway API's precedence on Envoy Gateway).
 *
 * <p>The messages name the caller's own API, hostname and base path only: the other side may be another tenant's.
 */
public final class HostOwnership {
    private HostOwnership() {}

    /**
     * The clashes {@code after} has that {@code before} did not (a clash made earlier is not every later writer's to
     * answer for), one problem per side.
     *
     * @param tenantOf the tenant owning an API, by name; an API whose owner is unknown must map to a value no other API
     *     shares, so that it clashes with everyone (fail closed)
     */
    public static List<Problem> newClashes(
            GatewayConfig before, GatewayConfig after, Function<String, String> tenantOf) {
        Map<String, List<Problem>> old = clashes(before, tenantOf);
        List<Problem> out = new ArrayList<>();
        clashes(after, tenantOf).forEach((key, problems) -> {
            if (!old.containsKey(key)) {
                out.addAll(problems);
            }
        });
        return out;
    }

    /** Every cross-tenant clash of {@code config}, keyed by group, hostnames and the two APIs. */
    static Map<String, List<Problem>> clashes(GatewayConfig config, Function<String, String> tenantOf) {
        Map<String, List<Problem>> out = new LinkedHashMap<>();
        for (GatewayGroup g : config.groups()) {
            List<Api> apis = config.apisOf(g.name());
            for (int i = 0; i < apis.size(); i++) {
                Api a = apis.get(i);
                String ta = tenantOf.apply(a.name());
                for (int j = i + 1; j < apis.size(); j++) {
                    Api b = apis.get(j);
                    if (ta.equals(tenantOf.apply(b.name()))) {
                        continue;
                    }
                    clash(g, a, b).ifPresent(hosts -> {
                        String key = g.name() + "|" + a.name() + "|" + b.name() + "|" + hosts[0] + "|" + hosts[1];
                        out.put(key, List.of(problem(g, a, hosts[0]), problem(g, b, hosts[1])));
                    });
                }
            }
        }
        return out;
    }

    /** The two overlapping hostnames ({@code a}'s, {@code b}'s) where the APIs clash, if they do. */
    private static java.util.Optional<String[]> clash(GatewayGroup g, Api a, Api b) {
        boolean named = !a.hostnames().isEmpty() || !b.hostnames().isEmpty();
        for (String ha : HostnamePlan.hostnames(g, a)) {
            for (String hb : HostnamePlan.hostnames(g, b)) {
                if (HostnamePlan.overlap(ha, hb) && (named || pathsOverlap(a.basePath(), b.basePath()))) {
                    return java.util.Optional.of(new String[] {ha, hb});
                }
            }
        }
        return java.util.Optional.empty();
    }

    /** Whether one base path is a prefix of the other (Envoy's prefix match is by characters, so no segment rule). */
    static boolean pathsOverlap(String p, String q) {
        String x = p.isEmpty() ? "/" : p;
        String y = q.isEmpty() ? "/" : q;
        return x.startsWith(y) || y.startsWith(x);
    }

    private static Problem problem(GatewayGroup g, Api api, String host) {
        return Problem.error(
                ProblemCode.HOSTNAME_OTHER_TENANT,
                "apis[" + api.name() + "].hostnames",
                "hostname " + host + " with base path '" + api.basePath() + "' in group " + g.name()
                        + " overlaps what another tenant serves there: a hostname an API names, and a path space on a"
                        + " shared hostname, belong to one tenant");
    }
}
