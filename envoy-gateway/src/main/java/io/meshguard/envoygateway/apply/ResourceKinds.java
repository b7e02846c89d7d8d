package io.meshguard.envoygateway.apply;

import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.List;
import java.util.Optional;

/**
 * The kinds the renderer emits, with their REST names: the zone addresses them without discovery and without
 * generated model classes (fabric8's generic resources), so every kind it may have applied is also one it lists when
 * pruning.
 */
final class ResourceKinds {
    private ResourceKinds() {}

    private static final String GATEWAY_API = "gateway.networking.k8s.io";
    private static final String ENVOY_GATEWAY = "gateway.envoyproxy.io";

    /**
     * In apply order: the Gateway and its listener policy first, then what routes send to, then the policies that
     * target the routes, the routes last. Envoy Gateway serves a route without its ext_authz and ext_proc filters
     * until a SecurityPolicy and an EnvoyExtensionPolicy attach to it (the filters are in the chain disabled and
     * enabled per route by the policy), so a route applied before its policies is open to every caller, without a
     * Check and without DLP, until they land; a policy whose target appears later is resolved when it does. Deletes
     * run in reverse: the route goes before its policies.
     */
    static final List<ResourceDefinitionContext> ALL = List.of(
            context(GATEWAY_API, "v1", "Gateway", "gateways"),
            context(ENVOY_GATEWAY, "v1alpha1", "ClientTrafficPolicy", "clienttrafficpolicies"),
            context(GATEWAY_API, "v1beta1", "ReferenceGrant", "referencegrants"),
            context(ENVOY_GATEWAY, "v1alpha1", "Backend", "backends"),
            context(ENVOY_GATEWAY, "v1alpha1", "BackendTrafficPolicy", "backendtrafficpolicies"),
            context(ENVOY_GATEWAY, "v1alpha1", "SecurityPolicy", "securitypolicies"),
            context(ENVOY_GATEWAY, "v1alpha1", "EnvoyExtensionPolicy", "envoyextensionpolicies"),
            context(GATEWAY_API, "v1", "HTTPRoute", "httproutes"));

    private static ResourceDefinitionContext context(String group, String version, String kind, String plural) {
        return new ResourceDefinitionContext.Builder()
                .withGroup(group)
                .withVersion(version)
                .withKind(kind)
                .withPlural(plural)
                .withNamespaced(true)
                .build();
    }

    /** The context of a rendered resource's {@code apiVersion} and {@code kind}. */
    static Optional<ResourceDefinitionContext> of(String apiVersion, String kind) {
        return ALL.stream()
                .filter(c -> c.getKind().equals(kind) && (c.getGroup() + "/" + c.getVersion()).equals(apiVersion))
                .findFirst();
    }

    /** Position in {@link #ALL}: the order applies run in, and deletes in reverse (routes first, the Gateway last). */
    static int order(String kind) {
        for (int i = 0; i < ALL.size(); i++) {
            if (ALL.get(i).getKind().equals(kind)) {
                return i;
            }
        }
        return ALL.size();
    }
}
