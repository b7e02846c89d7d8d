package io.meshguard.xds.validate;

import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tenant's upstream names Kubernetes Services only in namespaces an operator assigned to its tenant: in every gateway
 * group a route sends to it from (the group's assignment, {@code cluster_group.service_namespaces}), and, for an
 * upstream no route uses yet, in some group. Otherwise a tenant's route would reach any namespace's Service from the
 * gateway ({@code vault.vault.svc.cluster.local}) with the gateway's identity. A Service is named by an endpoint
 * address or the upstream's {@code host} (the gateway's sidecar routes by Host) as {@code <svc>.<ns>},
 * {@code <svc>.<ns>.svc} or {@code <svc>.<ns>.svc.<cluster domain>} (the first two through the pod's DNS search
 * domains). Operators' own upstreams are not confined.
 *
 * <p>The messages name the caller's own upstream, the namespace it named, and the route's group and tenant only.
 */
public final class ServiceNamespaces {
    private static final String LABEL = "[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?";
    private static final Pattern SERVICE =
            Pattern.compile("^" + LABEL + "\\.(" + LABEL + ")(?:\\.svc(?:\\.[a-z0-9-]+)*)?\\.?$");

    private ServiceNamespaces() {}

    /**
     * The violations {@code after} has that {@code before} did not (one made earlier is not every later writer's to
     * answer for).
     *
     * @param tenantOf the tenant owning an upstream, by name
     * @param operatorTenant the owner of the operators' own objects (not confined)
     * @param assigned per gateway group, each tenant's namespaces
     */
    public static List<Problem> newViolations(
            GatewayConfig before,
            GatewayConfig after,
            Function<String, String> tenantOf,
            String operatorTenant,
            Map<String, Map<String, Set<String>>> assigned) {
        Set<Problem> old = new LinkedHashSet<>(violations(before, tenantOf, operatorTenant, assigned));
        List<Problem> out = new ArrayList<>();
        for (Problem p : violations(after, tenantOf, operatorTenant, assigned)) {
            if (!old.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }

    static List<Problem> violations(
            GatewayConfig config,
            Function<String, String> tenantOf,
            String operatorTenant,
            Map<String, Map<String, Set<String>>> assigned) {
        Map<String, Set<String>> groupsOf = new TreeMap<>();
        for (Route r : config.routes()) {
            for (Route.Destination d : r.destinations()) {
                groupsOf.computeIfAbsent(d.upstream(), u -> new TreeSet<>()).add(r.group());
            }
        }
        List<Problem> out = new ArrayList<>();
        for (Upstream u : config.upstreams()) {
            String tenant = tenantOf.apply(u.name());
            if (tenant.equals(operatorTenant)) {
                continue;
            }
            Set<String> named = new TreeSet<>();
            u.endpoints().forEach(e -> namespace(e.address()).ifPresent(named::add));
            u.host().flatMap(ServiceNamespaces::namespace).ifPresent(named::add);
            Set<String> groups = groupsOf.getOrDefault(u.name(), Set.of());
            for (String ns : named) {
                if (groups.isEmpty()) {
                    boolean anywhere = assigned.values().stream()
                            .anyMatch(byTenant ->
                                    byTenant.getOrDefault(tenant, Set.of()).contains(ns));
                    if (!anywhere) {
                        out.add(problem(u, ns, tenant, "in any gateway group"));
                    }
                    continue;
                }
                for (String group : groups) {
                    if (!assigned.getOrDefault(group, Map.of())
                            .getOrDefault(tenant, Set.of())
                            .contains(ns)) {
                        out.add(problem(u, ns, tenant, "for gateway group " + group + ", where a route sends to it"));
                    }
                }
            }
        }
        return out;
    }

    private static Problem problem(Upstream u, String ns, String tenant, String where) {
        return Problem.error(
                ProblemCode.UPSTREAM_NAMESPACE_NOT_IN_TENANTS,
                "upstreams[" + u.name() + "]",
                "upstream " + u.name() + " names a Service in namespace " + ns + ", which no operator assigned to"
                        + " tenant " + tenant + " " + where + ": an operator assigns a tenant's namespaces with the"
                        + " group (PUT /v1/operator/clusters/{id}, service_namespaces)");
    }

    /** The namespace a host names a Service in, when it has a Service name's shape. */
    static Optional<String> namespace(String host) {
        Matcher m = SERVICE.matcher(host.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(m.group(1));
    }
}
