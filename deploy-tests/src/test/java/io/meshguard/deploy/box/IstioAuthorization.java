package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * What an injected pod's inbound sidecar decides for a connection, from the shipped PeerAuthentications and
 * AuthorizationPolicies, following Istio's documented semantics:
 * <ul>
 * <li>mTLS mode (https://istio.io/latest/docs/reference/config/security/peer_authentication/): the workload's
 *     selector policy, else its namespace's policy without selector, else the root namespace's ({@value #ROOT}),
 *     else PERMISSIVE; {@code portLevelMtls} overrides per port; {@code UNSET} inherits. STRICT refuses a peer
 *     without mTLS (the TLS handshake fails: a reset);</li>
 * <li>authorization (https://istio.io/latest/docs/concepts/security/#authorization-policies): policies of the
 *     workload's namespace and of the root namespace whose selector matches; CUSTOM first, then DENY, then ALLOW;
 *     with ALLOW policies present a request no ALLOW rule matches is denied ("RBAC: access denied"); a rule is
 *     {@code from} (any source) AND {@code to} (any operation) AND {@code when}; inside a source or operation every
 *     field set must match, and a field matches when any of its values does; {@code "*"}, {@code "prefix*"} and
 *     {@code "*suffix"} as Istio matches strings; {@code principals} and {@code namespaces} need an mTLS peer.</li>
 * </ul>
 * Fields this connection-level model cannot decide (paths, methods, hosts, request principals, {@code when}) are
 * errors, never ignored. A CUSTOM policy's match is reported with the decision ({@link Decision#customProvider}): the
 * pod's sidecar then runs the provider's ext_authz filter ({@link IstioExtensions}) before the RBAC verdict.
 *
 * <p>The stand-in for mTLS: a connection from an injected pod's address carries that pod's service account identity
 * ({@code cluster.local/ns/NS/sa/SA}), as its sidecar's certificate would; from any other address it is plaintext.
 */
final class IstioAuthorization {
    static final String ROOT = "istio-system";
    private static final Set<String> SOURCE_FIELDS =
            Set.of("principals", "notPrincipals", "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks");
    private static final Set<String> OPERATION_FIELDS = Set.of("ports", "notPorts");

    private final List<JsonNode> istio;

    IstioAuthorization(List<JsonNode> istio) {
        this.istio = List.copyOf(istio);
    }

    /** A connection's outcome at the target's sidecar. */
    record Decision(boolean allowed, Optional<String> peerPrincipal, String reason, Optional<String> customProvider) {
        Decision(boolean allowed, Optional<String> peerPrincipal, String reason) {
            this(allowed, peerPrincipal, reason, Optional.empty());
        }

        Decision withCustom(Optional<String> provider) {
            return new Decision(allowed, peerPrincipal, reason, provider);
        }
    }

    /**
     * The peer's identity as its sidecar presents it (or, in an ambient namespace, ztunnel or its waypoint), or empty
     * for a peer outside the mesh.
     */
    static Optional<String> principal(BoxPod pod, Function<String, Map<String, String>> namespaceLabels) {
        Map<String, String> labels = namespaceLabels.apply(pod.namespace());
        if (!pod.injected(labels) && !"ambient".equals(labels.get("istio.io/dataplane-mode"))) {
            return Optional.empty();
        }
        String sa = Optional.ofNullable(pod.spec().getServiceAccountName()).orElse("default");
        return Optional.of("cluster.local/ns/" + pod.namespace() + "/sa/" + sa);
    }

    Decision decide(BoxPod target, int port, Optional<String> peerPrincipal, String peerIp) {
        String mode = mtlsMode(target, port);
        Optional<String> peer = mode.equals("DISABLE") ? Optional.empty() : peerPrincipal;
        if (mode.equals("STRICT") && peer.isEmpty()) {
            return new Decision(false, peer, "STRICT mTLS: plaintext from " + peerIp + " reset");
        }
        List<JsonNode> policies = istio.stream()
                .filter(d -> d.path("kind").asText().equals("AuthorizationPolicy"))
                .filter(d -> applies(d, target))
                .toList();
        // CUSTOM first: its ext_authz filter runs before the RBAC filters of DENY and ALLOW (istio/istio
        // pilot/pkg/security/authz/builder/builder.go), and only for requests its rules match (the shadow RBAC rules
        // behind the filter-enabled metadata); one provider per workload (extauthz.go getExtAuthz)
        Optional<String> custom = Optional.empty();
        for (JsonNode p : policies) {
            if (action(p).equals("CUSTOM")) {
                String provider = customProvider(p);
                if (custom.isPresent() && !custom.get().equals(provider)) {
                    throw new IllegalStateException("CUSTOM policies name providers " + custom.get() + " and "
                            + provider + " for " + target.describe() + ": only 1 provider can be used per workload");
                }
                if (matches(p, port, peer, peerIp)) {
                    custom = Optional.of(provider);
                }
            }
        }
        return rbac(target, port, peer, peerIp, policies).withCustom(custom);
    }

    private Decision rbac(BoxPod target, int port, Optional<String> peer, String peerIp, List<JsonNode> policies) {
        for (JsonNode p : policies) {
            if (action(p).equals("DENY") && matches(p, port, peer, peerIp)) {
                return new Decision(false, peer, "RBAC: access denied (DENY policy " + name(p) + ")");
            }
        }
        List<JsonNode> allows =
                policies.stream().filter(p -> action(p).equals("ALLOW")).toList();
        if (allows.isEmpty()) {
            return new Decision(true, peer, "no ALLOW policy selects the workload");
        }
        for (JsonNode p : allows) {
            if (matches(p, port, peer, peerIp)) {
                return new Decision(true, peer, "ALLOW policy " + name(p));
            }
        }
        return new Decision(
                false,
                peer,
                "RBAC: access denied (no rule of "
                        + allows.stream().map(this::name).toList() + " matches " + peer.orElse("a plaintext peer")
                        + " on port " + port + ")");
    }

    /** A CUSTOM policy's provider; any other field than Istio's selector, action, provider and rules fails. */
    private String customProvider(JsonNode p) {
        p.path("spec").fieldNames().forEachRemaining(f -> {
            if (!Set.of("selector", "action", "provider", "rules").contains(f)) {
                throw new IllegalStateException(
                        "AuthorizationPolicy " + name(p) + " (CUSTOM): " + f + " is not modelled by the box");
            }
        });
        JsonNode provider = p.path("spec").path("provider");
        provider.fieldNames().forEachRemaining(f -> {
            if (!f.equals("name")) {
                throw new IllegalStateException(
                        "AuthorizationPolicy " + name(p) + " (CUSTOM): provider." + f + " is not modelled by the box");
            }
        });
        if (provider.path("name").asText("").isEmpty()) {
            throw new IllegalStateException("AuthorizationPolicy " + name(p) + " (CUSTOM) names no provider");
        }
        return provider.path("name").asText();
    }

    String mtlsMode(BoxPod target, int port) {
        List<JsonNode> pas = istio.stream()
                .filter(d -> d.path("kind").asText().equals("PeerAuthentication"))
                .toList();
        Optional<JsonNode> workload = pas.stream()
                .filter(d -> namespace(d).equals(target.namespace()))
                .filter(d -> d.path("spec").has("selector"))
                .filter(d -> selects(d.path("spec").path("selector"), target))
                .findFirst();
        Optional<JsonNode> namespace = pas.stream()
                .filter(d -> namespace(d).equals(target.namespace()))
                .filter(d -> !d.path("spec").has("selector"))
                .findFirst();
        Optional<JsonNode> mesh = pas.stream()
                .filter(d -> namespace(d).equals(ROOT))
                .filter(d -> !d.path("spec").has("selector"))
                .findFirst();
        String mode = "PERMISSIVE";
        for (Optional<JsonNode> level : List.of(mesh, namespace, workload)) {
            if (level.isPresent()) {
                String m = level.get().path("spec").path("mtls").path("mode").asText("UNSET");
                if (!m.equals("UNSET")) {
                    mode = m;
                }
                JsonNode portLevel =
                        level.get().path("spec").path("portLevelMtls").path(Integer.toString(port));
                if (!portLevel.isMissingNode()
                        && !portLevel.path("mode").asText("UNSET").equals("UNSET")) {
                    mode = portLevel.path("mode").asText();
                }
            }
        }
        return mode;
    }

    private boolean applies(JsonNode policy, BoxPod target) {
        String ns = namespace(policy);
        if (!ns.equals(target.namespace()) && !ns.equals(ROOT)) {
            return false;
        }
        JsonNode selector = policy.path("spec").path("selector");
        if (policy.path("spec").has("targetRef") || policy.path("spec").has("targetRefs")) {
            throw new IllegalStateException("AuthorizationPolicy " + name(policy) + ": targetRef is not modelled");
        }
        return selector.isMissingNode() || selects(selector, target);
    }

    private static boolean selects(JsonNode selector, BoxPod target) {
        Iterator<Map.Entry<String, JsonNode>> labels =
                selector.path("matchLabels").fields();
        while (labels.hasNext()) {
            Map.Entry<String, JsonNode> e = labels.next();
            if (!e.getValue().asText().equals(target.labels().get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    private boolean matches(JsonNode policy, int port, Optional<String> peer, String peerIp) {
        JsonNode rules = policy.path("spec").path("rules");
        for (JsonNode rule : rules) {
            Iterator<String> fields = rule.fieldNames();
            while (fields.hasNext()) {
                String f = fields.next();
                if (!f.equals("from") && !f.equals("to")) {
                    throw new IllegalStateException("AuthorizationPolicy " + name(policy) + ": rule field '" + f
                            + "' is not modelled by the box");
                }
            }
            boolean from = !rule.has("from")
                    || anyMatch(rule.path("from"), "source", SOURCE_FIELDS, policy, s -> source(s, peer, peerIp));
            boolean to = !rule.has("to")
                    || anyMatch(rule.path("to"), "operation", OPERATION_FIELDS, policy, o -> operation(o, port));
            if (from && to) {
                return true;
            }
        }
        return false;
    }

    private boolean anyMatch(
            JsonNode list,
            String key,
            Set<String> modelled,
            JsonNode policy,
            java.util.function.Predicate<JsonNode> test) {
        for (JsonNode entry : list) {
            JsonNode inner = entry.path(key);
            Iterator<String> fields = inner.fieldNames();
            while (fields.hasNext()) {
                String f = fields.next();
                if (!modelled.contains(f)) {
                    throw new IllegalStateException("AuthorizationPolicy " + name(policy) + ": " + key + "." + f
                            + " is not modelled by the box (a connection-level sidecar stage)");
                }
            }
            if (test.test(inner)) {
                return true;
            }
        }
        return false;
    }

    private static boolean source(JsonNode s, Optional<String> peer, String peerIp) {
        Optional<String> ns = peer.map(p -> p.replaceFirst("^[^/]+/ns/([^/]+)/.*$", "$1"));
        return field(s, "principals", v -> peer.isPresent() && istioMatch(v, peer.get()), true)
                && field(s, "notPrincipals", v -> peer.isPresent() && istioMatch(v, peer.get()), false)
                && field(s, "namespaces", v -> ns.isPresent() && istioMatch(v, ns.get()), true)
                && field(s, "notNamespaces", v -> ns.isPresent() && istioMatch(v, ns.get()), false)
                && field(s, "ipBlocks", v -> inCidr(peerIp, v), true)
                && field(s, "notIpBlocks", v -> inCidr(peerIp, v), false);
    }

    private static boolean operation(JsonNode o, int port) {
        return field(o, "ports", v -> v.equals(Integer.toString(port)), true)
                && field(o, "notPorts", v -> v.equals(Integer.toString(port)), false);
    }

    /** A field absent matches; present, it matches when some value does ({@code positive}) or none does. */
    private static boolean field(
            JsonNode node, String name, java.util.function.Predicate<String> value, boolean positive) {
        if (!node.has(name)) {
            return true;
        }
        List<String> values = new ArrayList<>();
        node.path(name).forEach(v -> values.add(v.asText()));
        boolean any = values.stream().anyMatch(value);
        return positive == any;
    }

    static boolean istioMatch(String pattern, String value) {
        if (pattern.equals("*")) {
            return !value.isEmpty();
        }
        if (pattern.endsWith("*")) {
            return value.startsWith(pattern.substring(0, pattern.length() - 1));
        }
        if (pattern.startsWith("*")) {
            return value.endsWith(pattern.substring(1));
        }
        return pattern.equals(value);
    }

    private static boolean inCidr(String ip, String cidr) {
        String[] parts = cidr.split("/");
        int bits = parts.length > 1 ? Integer.parseInt(parts[1]) : 32;
        long mask = bits == 0 ? 0 : (0xffffffffL << (32 - bits)) & 0xffffffffL;
        return (toLong(ip) & mask) == (toLong(parts[0]) & mask);
    }

    private static long toLong(String ip) {
        long v = 0;
        for (String octet : ip.split("\\.")) {
            v = (v << 8) | Integer.parseInt(octet);
        }
        return v;
    }

    private static String action(JsonNode p) {
        return p.path("spec").path("action").asText("ALLOW");
    }

    private String name(JsonNode p) {
        return namespace(p) + "/" + p.path("metadata").path("name").asText();
    }

    private static String namespace(JsonNode d) {
        return d.path("metadata").path("namespace").asText("default");
    }
}
