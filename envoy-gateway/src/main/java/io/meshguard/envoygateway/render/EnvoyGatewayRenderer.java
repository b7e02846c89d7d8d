package io.meshguard.envoygateway.render;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.net.InetAddresses;
import io.meshguard.contract.RouteContract;
import io.meshguard.envoygateway.render.GatewayRevision.Backend;
import io.meshguard.envoygateway.render.GatewayRevision.Destination;
import io.meshguard.envoygateway.render.GatewayRevision.EdgeRoute;
import io.meshguard.envoygateway.render.GatewayRevision.Endpoint;
import io.meshguard.envoygateway.render.GatewayRevision.HeaderMatch;
import io.meshguard.envoygateway.render.GatewayRevision.PathMatch;
import io.meshguard.envoygateway.render.GatewayRevision.Retry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders one revision of a gateway group as Gateway API and Envoy Gateway resources (docs/envoy-gateway.md): one
 * Gateway with a ClientTrafficPolicy holding meshguard's path and header hygiene, one HTTPRoute per meshguard route, and per route a SecurityPolicy (extAuth to meshguard's extauthz, the
 * route contract as context extensions), an EnvoyExtensionPolicy (extProc to the DLP server, full-duplex streamed,
 * fail closed) and, where the route retries, a BackendTrafficPolicy. Backends become Service references (with the
 * ReferenceGrants a cross-namespace reference needs) or Envoy Gateway Backends. Every resource is labelled with the
 * group, the revision and, for product routes, the product publish.
 */
public final class EnvoyGatewayRenderer {

    public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String LABEL_GROUP = "meshguard.io/gateway-group";
    public static final String LABEL_REVISION = "meshguard.io/revision";
    public static final String LABEL_PUBLISH = "meshguard.io/product-publish";
    public static final String ANNOTATION_ROUTE = "meshguard.io/gateway-route";
    /** The gateway template kind this renderer serves. */
    public static final String KIND = "envoy-gateway";

    static final String GATEWAY_API = "gateway.networking.k8s.io";
    static final String ENVOY_GATEWAY = "gateway.envoyproxy.io";

    /** {@code name.namespace.svc} or {@code name.namespace.svc.cluster.local}: a Kubernetes Service. */
    private static final Pattern SERVICE_DNS = Pattern.compile(
            "^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\\.svc(\\.cluster\\.local)?\\.?$");

    /** Envoy's retry_on conditions that Envoy Gateway's {@code retryOn.triggers} enum names the same. */
    private static final List<String> RETRY_TRIGGERS = List.of(
            "5xx",
            "gateway-error",
            "reset",
            "connect-failure",
            "retriable-4xx",
            "refused-stream",
            "retriable-status-codes",
            "cancelled",
            "deadline-exceeded",
            "internal",
            "resource-exhausted",
            "unavailable");

    private final EnvoyGatewayTemplate template;
    private final JsonNodeFactory json = JsonNodeFactory.instance;

    public EnvoyGatewayRenderer(EnvoyGatewayTemplate template) {
        this.template = template;
    }

    /** The resources of {@code revision} in apply order, and what could not be rendered. */
    public RenderedResources render(GatewayRevision revision) {
        List<String> refusals = new ArrayList<>();
        List<ObjectNode> out = new ArrayList<>();
        String gateway = KubernetesNames.name(revision.group());
        out.add(gateway(revision, gateway));
        out.add(clientTraffic(revision, gateway));

        // backends first: a route that references a missing one is refused with the backend's reason
        Map<String, ObjectNode> backendRefs = new TreeMap<>();
        List<ObjectNode> backendObjects = new ArrayList<>();
        for (Backend b : revision.backends().stream()
                .sorted(Comparator.comparing(Backend::name))
                .toList()) {
            backendRef(revision, b, backendRefs, backendObjects, refusals);
        }
        Map<String, TreeSet<String>> grantedPolicies = new TreeMap<>();
        for (EnvoyGatewayTemplate.ServiceRef s : List.of(template.extAuthz(), template.dlp())) {
            if (!s.namespace().equals(template.namespace())) {
                grantedPolicies
                        .computeIfAbsent(s.namespace(), n -> new TreeSet<>())
                        .add(s.name());
            }
        }
        List<ObjectNode> routeObjects = new ArrayList<>();
        Map<String, ObjectNode> dlpBackends = new TreeMap<>();
        for (EdgeRoute r : revision.routes().stream()
                .sorted(Comparator.comparing(EdgeRoute::name))
                .toList()) {
            route(revision, gateway, r, backendRefs, dlpBackends, routeObjects, refusals);
        }
        out.addAll(referenceGrants(revision, grantedPolicies));
        out.addAll(backendObjects);
        out.addAll(dlpBackends.values());
        out.addAll(routeObjects);
        return new RenderedResources(out, refusals);
    }

    // ---- Gateway ------------------------------------------------------------------------------------------------

    private ObjectNode gateway(GatewayRevision revision, String name) {
        ObjectNode g = object(GATEWAY_API + "/v1", "Gateway", name, labels(revision, Optional.empty()));
        ObjectNode spec = g.putObject("spec");
        spec.put("gatewayClassName", template.gatewayClassName());
        ObjectNode listener = spec.putArray("listeners").addObject();
        listener.put("name", "http");
        listener.put("protocol", "HTTP");
        listener.put("port", revision.listenerPort());
        // routes carry the hosts; only this namespace's routes (meshguard's own) may attach
        listener.putObject("allowedRoutes").putObject("namespaces").put("from", "Same");
        return g;
    }

    /**
     * The listener's request hygiene as meshguard's own gateway sets it (xds-controller EnvoyListener): a path with
     * {@code %2F}/{@code %5C} refused with 400 (Envoy Gateway's default would unescape and redirect), adjacent slashes
     * merged and dot segments resolved (Envoy Gateway always normalises), header names with underscores refused; and
     * behind load balancers, the client address Envoy takes from {@code x-forwarded-for} ({@code numTrustedHops}: "how
     * many trusted hops to count from the rightmost side of the X-Forwarded-For (XFF) header when determining the
     * original client's IP address", the bundled v1.9.0 ClientTrafficPolicy CRD; the same count as meshguard's own
     * gateway's {@code xff_num_trusted_hops}), which extauthz reads as {@code x-envoy-external-address}: without it
     * every client behind a load balancer is the load balancer to IP rules and rate limits.
     */
    private ObjectNode clientTraffic(GatewayRevision revision, String gateway) {
        ObjectNode p =
                object(ENVOY_GATEWAY + "/v1alpha1", "ClientTrafficPolicy", gateway, labels(revision, Optional.empty()));
        ObjectNode spec = p.putObject("spec");
        spec.putArray("targetRefs")
                .addObject()
                .put("group", GATEWAY_API)
                .put("kind", "Gateway")
                .put("name", gateway);
        spec.putObject("path").put("escapedSlashesAction", "RejectRequest").put("disableMergeSlashes", false);
        spec.putObject("headers").put("withUnderscoresAction", "RejectRequest");
        if (template.xffNumTrustedHops() > 0) {
            spec.putObject("clientIPDetection")
                    .putObject("xForwardedFor")
                    .put("numTrustedHops", template.xffNumTrustedHops());
        }
        return p;
    }

    // ---- backends -------------------------------------------------------------------------------------------------

    private void backendRef(
            GatewayRevision revision,
            Backend b,
            Map<String, ObjectNode> refs,
            List<ObjectNode> objects,
            List<String> refusals) {
        if (b.endpoints().isEmpty()) {
            refusals.add("backend " + b.name() + ": has no endpoints");
            return;
        }
        if (b.tls()) {
            // a plaintext hop where meshguard's gateway speaks TLS would change what the backend is promised
            refusals.add("backend " + b.name() + ": TLS upstreams are not rendered for envoy-gateway yet"
                    + " (BackendTLSPolicy is not among the bundled CRDs); serve it from a meshguard-served group");
            return;
        }
        Optional<String[]> service = singleService(b.endpoints());
        ObjectNode ref = json.objectNode();
        if (service.isPresent()) {
            String[] s = service.get(); // name, namespace, port
            ref.put("name", s[0]);
            if (!s[1].equals(template.namespace())) {
                // A ReferenceGrant is the consent of the Service's namespace owner (Gateway API): meshguard never
                // writes one for a backend, or any tenant could admit meshguard's routes to any namespace's Services
                // (vault.vault.svc). Until the owner grants, Envoy Gateway reports the route ResolvedRefs=False,
                // RefNotPermitted, and serves it nothing.
                ref.put("namespace", s[1]);
            }
            ref.put("port", Integer.parseInt(s[2]));
        } else {
            String name = KubernetesNames.memberName(revision.group(), b.name());
            ObjectNode backend =
                    object(ENVOY_GATEWAY + "/v1alpha1", "Backend", name, labels(revision, Optional.empty()));
            ObjectNode spec = backend.putObject("spec");
            if (b.http2()) {
                spec.putArray("appProtocols").add("gateway.envoyproxy.io/h2c");
            }
            ArrayNode endpoints = spec.putArray("endpoints");
            for (Endpoint e : b.endpoints()) {
                ObjectNode ep = endpoints.addObject();
                if (InetAddresses.isInetAddress(e.address())) {
                    ep.putObject("ip").put("address", e.address()).put("port", e.port());
                } else {
                    ep.putObject("fqdn").put("hostname", e.address()).put("port", e.port());
                }
            }
            objects.add(backend);
            ref.put("group", ENVOY_GATEWAY);
            ref.put("kind", "Backend");
            ref.put("name", name);
        }
        refs.put(b.name(), ref);
    }

    /** The one Service every endpoint names ({@code name, namespace, port}), if they all name the same one. */
    private static Optional<String[]> singleService(List<Endpoint> endpoints) {
        TreeSet<String> keys = new TreeSet<>();
        for (Endpoint e : endpoints) {
            Matcher m = SERVICE_DNS.matcher(e.address());
            if (!m.matches()) {
                return Optional.empty();
            }
            keys.add(m.group(1) + " " + m.group(3) + " " + e.port());
        }
        return keys.size() == 1 ? Optional.of(keys.first().split(" ")) : Optional.empty();
    }

    /**
     * The grants that let the routes' policies reach meshguard's own servers (the template's extauthz and DLP
     * Services, placed by the operator) where those live outside the template's namespace. Never a grant for a
     * backend: that consent is its namespace owner's.
     */
    private List<ObjectNode> referenceGrants(GatewayRevision revision, Map<String, TreeSet<String>> policyServices) {
        List<ObjectNode> out = new ArrayList<>();
        for (String ns : policyServices.keySet()) {
            ObjectNode grant = object(
                    GATEWAY_API + "/v1beta1",
                    "ReferenceGrant",
                    KubernetesNames.name("meshguard-" + revision.group()),
                    labels(revision, Optional.empty()));
            ((ObjectNode) grant.get("metadata")).put("namespace", ns);
            ObjectNode spec = grant.putObject("spec");
            ArrayNode from = spec.putArray("from");
            from.addObject()
                    .put("group", ENVOY_GATEWAY)
                    .put("kind", "SecurityPolicy")
                    .put("namespace", template.namespace());
            from.addObject()
                    .put("group", ENVOY_GATEWAY)
                    .put("kind", "EnvoyExtensionPolicy")
                    .put("namespace", template.namespace());
            ArrayNode to = spec.putArray("to");
            for (String n : policyServices.get(ns)) {
                to.addObject().put("group", "").put("kind", "Service").put("name", n);
            }
            out.add(grant);
        }
        return out;
    }

    // ---- routes -------------------------------------------------------------------------------------------------

    private void route(
            GatewayRevision revision,
            String gateway,
            EdgeRoute r,
            Map<String, ObjectNode> backendRefs,
            Map<String, ObjectNode> dlpBackends,
            List<ObjectNode> out,
            List<String> refusals) {
        List<String> missing = r.destinations().stream()
                .map(Destination::backend)
                .filter(b -> !backendRefs.containsKey(b))
                .toList();
        if (!missing.isEmpty()) {
            refusals.add("route " + r.name() + ": backend " + String.join(", ", missing) + " is not rendered");
            return;
        }
        if (r.paths().isEmpty()) {
            refusals.add("route " + r.name() + ": matches no path");
            return;
        }
        String name = KubernetesNames.memberName(revision.group(), r.name());
        Map<String, String> labels = labels(revision, r.productPublish());
        ObjectNode route = object(GATEWAY_API + "/v1", "HTTPRoute", name, labels);
        ((ObjectNode) route.get("metadata")).putObject("annotations").put(ANNOTATION_ROUTE, r.name());
        ObjectNode spec = route.putObject("spec");
        spec.putArray("parentRefs").addObject().put("name", gateway);
        if (!r.hostnames().isEmpty() && !r.hostnames().contains("*")) {
            ArrayNode hosts = spec.putArray("hostnames");
            new TreeSet<>(r.hostnames()).forEach(hosts::add);
        }
        ObjectNode rule = spec.putArray("rules").addObject();
        ArrayNode matches = rule.putArray("matches");
        List<String> methods = r.methods().isEmpty()
                ? List.of("")
                : new TreeSet<>(r.methods()).stream().toList();
        for (PathMatch p : r.paths()) {
            for (String method : methods) {
                ObjectNode m = matches.addObject();
                ObjectNode path = m.putObject("path");
                path.put(
                        "type",
                        switch (p.kind()) {
                            case EXACT -> "Exact";
                            // Gateway API PathPrefix is element by element (apis/v1/httproute_types.go,
                            // PathMatchPathPrefix): /abc matches /abc and /abc/def, never /abcd
                            case PREFIX -> "PathPrefix";
                            case REGEX -> "RegularExpression";
                        });
                path.put("value", p.kind() == PathMatch.Kind.PREFIX && p.value().isEmpty() ? "/" : p.value());
                if (!r.headers().isEmpty()) {
                    ArrayNode headers = m.putArray("headers");
                    for (HeaderMatch h : r.headers()) {
                        headers.add(headerMatch(h));
                    }
                }
                if (!method.isEmpty()) {
                    m.put("method", method);
                }
            }
        }
        ArrayNode filters = json.arrayNode();
        if (!r.requestHeadersToSet().isEmpty() || !r.requestHeadersToRemove().isEmpty()) {
            ObjectNode f = filters.addObject().put("type", "RequestHeaderModifier");
            ObjectNode mod = f.putObject("requestHeaderModifier");
            if (!r.requestHeadersToSet().isEmpty()) {
                ArrayNode set = mod.putArray("set");
                r.requestHeadersToSet()
                        .forEach(h -> set.addObject().put("name", h.name()).put("value", h.value()));
            }
            if (!r.requestHeadersToRemove().isEmpty()) {
                ArrayNode remove = mod.putArray("remove");
                r.requestHeadersToRemove().forEach(remove::add);
            }
        }
        if (!r.responseHeadersToSet().isEmpty()) {
            ObjectNode f = filters.addObject().put("type", "ResponseHeaderModifier");
            ArrayNode set = f.putObject("responseHeaderModifier").putArray("set");
            r.responseHeadersToSet()
                    .forEach(h -> set.addObject().put("name", h.name()).put("value", h.value()));
        }
        r.cors().ifPresent(c -> {
            ObjectNode cors = filters.addObject().put("type", "CORS").putObject("cors");
            ArrayNode origins = cors.putArray("allowOrigins");
            c.allowedOrigins().forEach(origins::add);
            ArrayNode m = cors.putArray("allowMethods");
            c.allowedMethods().forEach(m::add);
            ArrayNode h = cors.putArray("allowHeaders");
            c.allowedHeaders().forEach(h::add);
            ArrayNode e = cors.putArray("exposeHeaders");
            c.exposedHeaders().forEach(e::add);
            if (c.allowCredentials()) {
                cors.put("allowCredentials", true);
            }
            cors.put("maxAge", c.maxAgeSeconds());
        });
        if (!filters.isEmpty()) {
            rule.set("filters", filters);
        }
        ArrayNode refs = rule.putArray("backendRefs");
        for (Destination d : r.destinations()) {
            ObjectNode ref = backendRefs.get(d.backend()).deepCopy();
            ref.put("weight", d.weight());
            refs.add(ref);
        }
        rule.putObject("timeouts").put("request", duration(r.timeoutMs()));
        out.add(route);
        out.add(securityPolicy(name, labels, r));
        out.add(extensionPolicy(revision, gateway, name, labels, r, dlpBackends, refusals));
        r.retry().ifPresent(retry -> trafficPolicy(name, labels, r, retry, refusals)
                .ifPresent(out::add));
    }

    private ObjectNode headerMatch(HeaderMatch h) {
        ObjectNode m = json.objectNode();
        if (h.exact().isPresent()) {
            m.put("type", "Exact").put("name", h.name()).put("value", h.exact().get());
        } else {
            // Envoy Gateway matches header regexes in full (RE2 safe_regex), so prefix and presence are regexes
            String regex = h.regex()
                    .or(() -> h.prefix().map(p -> com.google.re2j.Pattern.quote(p) + ".*"))
                    .orElse(".*");
            m.put("type", "RegularExpression").put("name", h.name()).put("value", regex);
        }
        return m;
    }

    private ObjectNode securityPolicy(String name, Map<String, String> labels, EdgeRoute r) {
        ObjectNode p = object(ENVOY_GATEWAY + "/v1alpha1", "SecurityPolicy", name, labels);
        ObjectNode spec = p.putObject("spec");
        target(spec, name);
        ObjectNode extAuth = spec.putObject("extAuth");
        extAuth.putObject("grpc").putArray("backendRefs").add(serviceRef(template.extAuthz()));
        extAuth.put("failOpen", false);
        // meshguard's gateway answers 503 when extauthz is unreachable (EnvoyListener: status_on_error)
        extAuth.put("statusOnError", 503);
        extAuth.put("timeout", duration(template.filterTimeout().toMillis()));
        // no headersToBackend: that allow-list is the HTTP service's; a gRPC Check's OkHttpResponse headers (identity
        // set, credentials removed) all apply, as on meshguard's gateway
        ArrayNode ext = extAuth.putArray("contextExtensions");
        r.authzContext()
                .forEach((k, v) ->
                        ext.addObject().put("name", k).put("type", "Value").put("value", v));
        return p;
    }

    private ObjectNode extensionPolicy(
            GatewayRevision revision,
            String gateway,
            String name,
            Map<String, String> labels,
            EdgeRoute r,
            Map<String, ObjectNode> dlpBackends,
            List<String> refusals) {
        ObjectNode p = object(ENVOY_GATEWAY + "/v1alpha1", "EnvoyExtensionPolicy", name, labels);
        // the route's DLP contract, for the reviewer; the profile reaches the DLP server through the backend below
        ObjectNode notes = ((ObjectNode) p.get("metadata")).putObject("annotations");
        r.dlpMetadata().forEach((k, v) -> notes.put("meshguard.io/" + k.replaceFirst("^x-meshguard-", ""), v));
        ObjectNode spec = p.putObject("spec");
        target(spec, name);
        ObjectNode proc = spec.putArray("extProc").addObject();
        String profile = r.dlpMetadata().get(RouteContract.DlpMetadata.DLP_PROFILE);
        if (profile == null) {
            // no named profile: the DLP server chooses by host, path and content type, as behind meshguard's gateway
            proc.putArray("backendRefs").add(serviceRef(template.dlp()));
        } else if (!RouteContract.DlpAuthority.carries(profile) || !RouteContract.DlpAuthority.carries(gateway)) {
            refusals.add("route " + r.name() + ": DLP profile '" + profile + "' cannot be named on Envoy Gateway"
                    + " (it travels in a Backend's name, which must be a DNS label: lower-case letters, digits, '-')");
        } else {
            // Envoy Gateway v1.9.0 sets no per-route ext_proc metadata; it makes the backend's name the stream's
            // :authority, which the DLP server reads (RouteContract.DlpAuthority) and no client header can change
            String backend = RouteContract.DlpAuthority.backendName(profile, gateway);
            dlpBackends.computeIfAbsent(backend, b -> dlpBackend(revision, b));
            proc.putArray("backendRefs")
                    .addObject()
                    .put("group", ENVOY_GATEWAY)
                    .put("kind", "Backend")
                    .put("name", backend);
        }
        // a DLP block means no byte of the offending content passes, also when the processor is away
        proc.put("failOpen", false);
        ObjectNode mode = proc.putObject("processingMode");
        mode.putObject("request").put("body", "FullDuplexStreamed");
        mode.putObject("response").put("body", "FullDuplexStreamed");
        return p;
    }

    private Optional<ObjectNode> trafficPolicy(
            String name, Map<String, String> labels, EdgeRoute r, Retry retry, List<String> refusals) {
        List<String> triggers = new ArrayList<>();
        for (String on : retry.retryOn().split(",")) {
            String t = on.trim();
            if (t.isEmpty()) {
                continue;
            }
            if (!RETRY_TRIGGERS.contains(t)) {
                refusals.add("route " + r.name() + ": retry condition '" + t
                        + "' has no Envoy Gateway retryOn trigger (" + String.join(", ", RETRY_TRIGGERS) + ")");
                return Optional.empty();
            }
            triggers.add(t);
        }
        ObjectNode p = object(ENVOY_GATEWAY + "/v1alpha1", "BackendTrafficPolicy", name, labels);
        ObjectNode spec = p.putObject("spec");
        target(spec, name);
        ObjectNode rt = spec.putObject("retry");
        rt.put("numRetries", retry.attempts());
        ArrayNode t = rt.putObject("retryOn").putArray("triggers");
        triggers.forEach(t::add);
        ObjectNode per = rt.putObject("perRetry");
        retry.perTryTimeoutMs().ifPresent(ms -> per.put("timeout", duration(ms)));
        per.putObject("backOff")
                .put("baseInterval", duration(retry.backoffBaseMs()))
                .put("maxInterval", duration(retry.backoffMaxMs()));
        return Optional.of(p);
    }

    /** A Backend that reaches the DLP Service by its cluster DNS name, over HTTP/2 (gRPC). */
    private ObjectNode dlpBackend(GatewayRevision revision, String name) {
        ObjectNode b = object(ENVOY_GATEWAY + "/v1alpha1", "Backend", name, labels(revision, Optional.empty()));
        ObjectNode spec = b.putObject("spec");
        spec.putArray("appProtocols").add("gateway.envoyproxy.io/h2c");
        EnvoyGatewayTemplate.ServiceRef dlp = template.dlp();
        spec.putArray("endpoints")
                .addObject()
                .putObject("fqdn")
                .put("hostname", dlp.name() + "." + dlp.namespace() + ".svc.cluster.local")
                .put("port", dlp.port());
        return b;
    }

    private ObjectNode serviceRef(EnvoyGatewayTemplate.ServiceRef s) {
        ObjectNode ref = json.objectNode().put("name", s.name());
        if (!s.namespace().equals(template.namespace())) {
            ref.put("namespace", s.namespace());
        }
        return ref.put("port", s.port());
    }

    private static void target(ObjectNode spec, String route) {
        spec.putArray("targetRefs")
                .addObject()
                .put("group", GATEWAY_API)
                .put("kind", "HTTPRoute")
                .put("name", route);
    }

    // ---- common ---------------------------------------------------------------------------------------------------

    private ObjectNode object(String apiVersion, String kind, String name, Map<String, String> labels) {
        ObjectNode o = json.objectNode();
        o.put("apiVersion", apiVersion);
        o.put("kind", kind);
        ObjectNode meta = o.putObject("metadata");
        meta.put("name", name);
        meta.put("namespace", template.namespace());
        ObjectNode l = meta.putObject("labels");
        labels.forEach(l::put);
        return o;
    }

    private static Map<String, String> labels(GatewayRevision revision, Optional<String> publish) {
        Map<String, String> l = new LinkedHashMap<>();
        l.put(LABEL_MANAGED_BY, "meshguard");
        l.put(LABEL_GROUP, KubernetesNames.labelValue(revision.group()));
        l.put(LABEL_REVISION, Long.toString(revision.revision()));
        publish.ifPresent(p -> l.put(LABEL_PUBLISH, KubernetesNames.labelValue(p)));
        return l;
    }

    /**
     * A Gateway API Duration ({@code ^([0-9]{1,5}(h|m|s|ms)){1,4}$}, GEP-2257): {@code 0s}, or hours, minutes, seconds
     * and milliseconds, each part present only when not zero.
     */
    static String duration(long ms) {
        if (ms <= 0) {
            return "0s";
        }
        long h = ms / 3_600_000;
        long m = ms / 60_000 % 60;
        long s = ms / 1000 % 60;
        long milli = ms % 1000;
        StringBuilder b = new StringBuilder();
        if (h > 0) {
            b.append(h).append('h');
        }
        if (m > 0) {
            b.append(m).append('m');
        }
        if (s > 0) {
            b.append(s).append('s');
        }
        if (milli > 0) {
            b.append(milli).append("ms");
        }
        return b.toString();
    }
}
