package io.meshguard.envoygateway.apply;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the cluster's controllers (Envoy Gateway, the Gateway API implementation) say about one applied resource:
 * its {@code status.conditions} (Gateway, Backend), per parent {@code status.parents[].conditions} (HTTPRoute) or per
 * ancestor {@code status.ancestors[].conditions} (the policies), as read back by the zone.
 *
 * @param revision the {@code meshguard.io/revision} label of the live object: which revision the status is about
 * @param generation the object's {@code metadata.generation} (0 when the server keeps none)
 */
public record GatewayResourceStatus(ResourceKey key, long revision, long generation, List<Condition> conditions) {

    /** The conditions the zone reports per kind; a kind absent here has no status (ReferenceGrant). */
    public static final Map<String, List<String>> REPORTED = Map.of(
            "Gateway", List.of("Accepted", "Programmed"),
            "HTTPRoute", List.of("Accepted", "ResolvedRefs"),
            "Backend", List.of("Accepted"),
            "SecurityPolicy", List.of("Accepted"),
            "EnvoyExtensionPolicy", List.of("Accepted"),
            "BackendTrafficPolicy", List.of("Accepted"));

    public GatewayResourceStatus {
        conditions = List.copyOf(conditions);
    }

    /**
     * One condition as written by a controller.
     *
     * @param parent the parent (HTTPRoute) or ancestor (policy) it is about, {@code Kind/name}; empty for the object's
     *     own conditions
     * @param status {@code True}, {@code False} or {@code Unknown}
     * @param observedGeneration the generation the controller looked at (0 when not given)
     */
    public record Condition(
            String type, String status, String reason, String message, String parent, long observedGeneration) {}

    /**
     * Per reported condition type, the worst status over all parents or ancestors: {@code False} before
     * {@code Unknown} before {@code True}. A condition no controller wrote yet, or one written for an older
     * generation of the object (the controller has not looked at the current spec), is {@code Unknown}.
     */
    public Map<String, String> summary() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String type : REPORTED.getOrDefault(key.kind(), List.of())) {
            List<Condition> matching =
                    conditions.stream().filter(c -> c.type().equals(type)).toList();
            String worst = matching.isEmpty() ? "Unknown" : "True";
            for (Condition c : matching) {
                String s = current(c) ? c.status() : "Unknown";
                if (rank(s) < rank(worst)) {
                    worst = s;
                }
            }
            out.put(type, worst);
        }
        return out;
    }

    /** The first condition that is not {@code True}, for a message beside the summary. */
    public Optional<Condition> firstProblem() {
        return conditions.stream()
                .filter(c -> REPORTED.getOrDefault(key.kind(), List.of()).contains(c.type()))
                .filter(c -> !c.status().equals("True"))
                .findFirst();
    }

    private boolean current(Condition c) {
        return generation == 0 || c.observedGeneration() == 0 || c.observedGeneration() >= generation;
    }

    private static int rank(String status) {
        return switch (status) {
            case "False" -> 0;
            case "True" -> 2;
            default -> 1;
        };
    }
}
