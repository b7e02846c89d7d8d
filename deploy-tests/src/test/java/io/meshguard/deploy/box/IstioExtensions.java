package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.meshguard.deploy.RenderedManifests;
import io.meshguard.emulator.Sidecar;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The HTTP filters Istio adds to an injected pod's inbound listener beyond RBAC, as istiod would generate them:
 * <ul>
 * <li>the CUSTOM action's {@code envoy.filters.http.ext_authz}, translated from the mesh config's extension provider
 *     as istio/istio {@code pilot/pkg/security/authz/builder/extauthz.go} does for {@code envoyExtAuthzGrpc}
 *     ({@code buildExtAuthzGRPC}/{@code generateGRPCConfig}): cluster {@code outbound|PORT||HOST} of the Service the
 *     provider names ({@code extensionproviders.LookupCluster}: a hostname or {@code namespace/name}), the gRPC
 *     authority the provider's Service hostname ({@code generateGRPCConfig}: {@code Authority: hostname}),
 *     {@code timeout} (Istio's default 600 s),
 *     {@code failure_mode_allow} = {@code failOpen}, {@code status_on_error} = {@code statusOnError},
 *     {@code transport_api_version} V3 and the filter-enabled matcher on the CUSTOM shadow rules. The mesh config is
 *     the {@code meshConfig} of {@code manifests/istio/mesh/istiod-values.yaml}, the values the README tells the
 *     operator to give istiod's chart (it writes them unchanged into the {@code istio} ConfigMap's {@code mesh}).
 *     Other provider fields ({@code includeRequestBodyInCheck}, an HTTP provider) are not modelled: the pod fails;</li>
 * <li>an {@code EnvoyFilter} of the workload's namespace or the root namespace whose {@code workloadSelector}
 *     matches, in exactly one shape: {@code HTTP_FILTER}, {@code SIDECAR_INBOUND}, the HTTP connection manager's
 *     {@code envoy.filters.http.router} sub-filter, {@code INSERT_BEFORE} an {@code envoy.filters.http.ext_proc}
 *     whose {@code typed_config} is parsed strictly as an {@code ExternalProcessor} (an unknown field fails). Any
 *     other EnvoyFilter that selects an injected pod fails it: never ignored.</li>
 * </ul>
 */
final class IstioExtensions {
    static final Path MESH_VALUES = Path.of("manifests/istio/mesh/istiod-values.yaml");
    private static final Set<String> GRPC_PROVIDER_FIELDS =
            Set.of("service", "port", "timeout", "failOpen", "statusOnError");
    private static final String EXT_PROC_TYPE =
            "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor";

    private final JsonNode providers;
    private final List<JsonNode> istio;
    private final ServiceDirectory services;

    IstioExtensions(JsonNode meshConfig, List<JsonNode> istio, ServiceDirectory services) {
        this.providers = meshConfig.path("extensionProviders");
        this.istio = List.copyOf(istio);
        this.services = services;
    }

    /** The mesh config the operator installs with istiod (README step 2): {@code meshConfig} of the values file. */
    static JsonNode meshConfig() throws IOException {
        JsonNode values = new ObjectMapper(new YAMLFactory())
                .readTree(RenderedManifests.repoRoot().resolve(MESH_VALUES).toFile());
        return values.path("meshConfig");
    }

    /** The ext_authz filter istiod generates for the CUSTOM provider {@code name}. */
    ExtAuthz extAuthz(String name) {
        List<JsonNode> named = new ArrayList<>();
        providers.forEach(p -> {
            if (p.path("name").asText().equals(name)) {
                named.add(p);
            }
        });
        if (named.size() != 1) {
            // istiod: "available providers are [...] but found ..." and a deny-all RBAC filter in the pod
            throw new IllegalStateException("extension provider " + name + " is defined " + named.size() + " times in "
                    + MESH_VALUES + " (Istio would deny every request of the pod)");
        }
        JsonNode p = named.get(0);
        Iterator<String> kinds = p.fieldNames();
        while (kinds.hasNext()) {
            String k = kinds.next();
            if (!k.equals("name") && !k.equals("envoyExtAuthzGrpc")) {
                throw new IllegalStateException(
                        "extension provider " + name + ": " + k + " is not modelled by the box");
            }
        }
        JsonNode grpc = p.path("envoyExtAuthzGrpc");
        if (!grpc.isObject()) {
            throw new IllegalStateException("extension provider " + name + " is not envoyExtAuthzGrpc");
        }
        grpc.fieldNames().forEachRemaining(f -> {
            if (!GRPC_PROVIDER_FIELDS.contains(f)) {
                throw new IllegalStateException(
                        "extension provider " + name + ": envoyExtAuthzGrpc." + f + " is not modelled by the box");
            }
        });
        int port = grpc.path("port").asInt(0);
        if (port < 1 || port > 65535) {
            throw new IllegalStateException("extension provider " + name + ": port must be in [1, 65535]: " + port);
        }
        String host = hostname(grpc.path("service").asText(""));
        String cluster = "outbound|" + port + "||" + host;
        GrpcService.Builder service = GrpcService.newBuilder()
                .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder()
                        .setClusterName(cluster)
                        .setAuthority(host))
                .setTimeout(
                        grpc.has("timeout")
                                ? duration(grpc.path("timeout").asText())
                                : com.google.protobuf.Duration.newBuilder()
                                        .setSeconds(600)
                                        .build());
        ExtAuthz.Builder config = ExtAuthz.newBuilder()
                .setGrpcService(service)
                .setFailureModeAllow(grpc.path("failOpen").asBoolean(false))
                .setTransportApiVersion(ApiVersion.V3)
                .setFilterEnabledMetadata(MetadataMatcher.newBuilder()
                        .setFilter("envoy.filters.http.rbac")
                        .addPath(MetadataMatcher.PathSegment.newBuilder()
                                .setKey("istio_ext_authz_shadow_effective_policy_id"))
                        .setValue(ValueMatcher.newBuilder()
                                .setStringMatch(StringMatcher.newBuilder().setPrefix("istio-ext-authz"))));
        if (grpc.has("statusOnError")) {
            int code = Integer.parseInt(grpc.path("statusOnError").asText());
            if (StatusCode.forNumber(code) == null) {
                throw new IllegalStateException("extension provider " + name + ": unsupported statusOnError " + code);
            }
            config.setStatusOnError(HttpStatus.newBuilder().setCodeValue(code));
        }
        ExtAuthz built = config.build();
        Sidecar.checkModelled(built);
        return built;
    }

    /** {@code extensionproviders.LookupCluster}: a Service's hostname, or {@code namespace/name}. */
    private String hostname(String service) {
        String[] nsName = service.split("/");
        String host = nsName.length == 2 ? ServiceDirectory.fqdn(nsName[1], nsName[0]) : service;
        boolean known = services.entries().stream()
                .anyMatch(e -> ServiceDirectory.fqdn(e.name(), e.namespace()).equals(host));
        if (!known) {
            throw new IllegalStateException("extension provider service " + service + ": no such Service (istiod: "
                    + "could not find valid hostname)");
        }
        return host;
    }

    /** A protobuf JSON duration as the mesh config spells it ({@code 1s}, {@code 0.5s}, {@code 500ms}). */
    static com.google.protobuf.Duration duration(String text) {
        java.time.Duration d;
        if (text.endsWith("ms")) {
            d = java.time.Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
        } else if (text.endsWith("s")) {
            d = java.time.Duration.ofNanos(Math.round(Double.parseDouble(text.substring(0, text.length() - 1)) * 1e9));
        } else if (text.endsWith("m")) {
            d = java.time.Duration.ofMinutes(Long.parseLong(text.substring(0, text.length() - 1)));
        } else {
            throw new IllegalStateException("a duration the box cannot read: " + text);
        }
        return com.google.protobuf.Duration.newBuilder()
                .setSeconds(d.getSeconds())
                .setNanos(d.getNano())
                .build();
    }

    /** The ext_proc filter an EnvoyFilter inserts into the pod's inbound HTTP chain, if one selects the pod. */
    Optional<ExternalProcessor> extProc(BoxPod pod, Predicate<String> knownCluster) {
        List<ExternalProcessor> found = new ArrayList<>();
        for (JsonNode f : istio) {
            if (!f.path("kind").asText().equals("EnvoyFilter")) {
                continue;
            }
            String ns = f.path("metadata").path("namespace").asText("default");
            if (!ns.equals(pod.namespace()) && !ns.equals(IstioAuthorization.ROOT)) {
                continue;
            }
            String name = ns + "/" + f.path("metadata").path("name").asText();
            JsonNode spec = f.path("spec");
            only(spec, name + " spec", "workloadSelector", "configPatches");
            JsonNode selector = spec.path("workloadSelector");
            only(selector, name + " workloadSelector", "labels");
            boolean selects = true;
            for (Iterator<Map.Entry<String, JsonNode>> it =
                            selector.path("labels").fields();
                    it.hasNext(); ) {
                Map.Entry<String, JsonNode> l = it.next();
                selects &= l.getValue().asText().equals(pod.labels().get(l.getKey()));
            }
            if (!selects) {
                continue;
            }
            for (JsonNode patch : spec.path("configPatches")) {
                found.add(extProcPatch(name, patch, knownCluster));
            }
        }
        if (found.size() > 1) {
            throw new IllegalStateException("more than one ext_proc EnvoyFilter patch selects " + pod.describe()
                    + ": their order is not modelled by the box");
        }
        return found.stream().findFirst();
    }

    /**
     * The ext_proc of one EnvoyFilter patch attached to a waypoint ({@code targetRefs}), in exactly the shipped shape,
     * {@code knownCluster} being the clusters that waypoint has.
     */
    ExternalProcessor extProcPatchAt(String name, JsonNode patch, Predicate<String> knownCluster) {
        return extProcPatch(name, patch, knownCluster);
    }

    private static ExternalProcessor extProcPatch(String name, JsonNode patch, Predicate<String> knownCluster) {
        only(patch, name + " configPatch", "applyTo", "match", "patch");
        expect(patch.path("applyTo"), "HTTP_FILTER", name + " applyTo");
        JsonNode match = patch.path("match");
        only(match, name + " match", "context", "listener");
        expect(match.path("context"), "SIDECAR_INBOUND", name + " match.context");
        only(match.path("listener"), name + " match.listener", "filterChain");
        only(match.path("listener").path("filterChain"), name + " match.listener.filterChain", "filter");
        JsonNode filter = match.path("listener").path("filterChain").path("filter");
        only(filter, name + " match filter", "name", "subFilter");
        expect(filter.path("name"), "envoy.filters.network.http_connection_manager", name + " filter.name");
        only(filter.path("subFilter"), name + " subFilter", "name");
        expect(filter.path("subFilter").path("name"), "envoy.filters.http.router", name + " subFilter.name");
        JsonNode p = patch.path("patch");
        only(p, name + " patch", "operation", "value");
        expect(p.path("operation"), "INSERT_BEFORE", name + " patch.operation");
        only(p.path("value"), name + " patch.value", "name", "typed_config");
        expect(p.path("value").path("name"), "envoy.filters.http.ext_proc", name + " patch.value.name");
        JsonNode typed = p.path("value").path("typed_config");
        expect(typed.path("@type"), EXT_PROC_TYPE, name + " typed_config @type");
        ExternalProcessor.Builder config = ExternalProcessor.newBuilder();
        try {
            com.fasterxml.jackson.databind.node.ObjectNode body = typed.deepCopy();
            body.remove("@type");
            // strict: an unknown field is an error, as Envoy's config validation (and istiod's webhook) refuses it
            JsonFormat.parser().merge(body.toString(), config);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(
                    "EnvoyFilter " + name + ": typed_config is no ExternalProcessor: " + e.getMessage(), e);
        }
        ExternalProcessor built = config.build();
        Sidecar.checkModelled(built);
        String cluster = built.getGrpcService().getEnvoyGrpc().getClusterName();
        if (!knownCluster.test(cluster)) {
            // Envoy refuses a filter naming an unknown cluster: the listener is not accepted
            throw new IllegalStateException(
                    "EnvoyFilter " + name + ": no cluster " + cluster + " in the pod's sidecar");
        }
        return built;
    }

    private static void only(JsonNode node, String where, String... allowed) {
        if (!node.isObject()) {
            throw new IllegalStateException("EnvoyFilter " + where + " is missing or not an object");
        }
        Set<String> ok = Set.of(allowed);
        node.fieldNames().forEachRemaining(f -> {
            if (!ok.contains(f)) {
                throw new IllegalStateException("EnvoyFilter " + where + "." + f + " is not modelled by the box");
            }
        });
    }

    private static void expect(JsonNode node, String value, String where) {
        if (!node.asText("").equals(value)) {
            throw new IllegalStateException("EnvoyFilter " + where + " '" + node.asText("") + "' is not modelled by"
                    + " the box (only " + value + ")");
        }
    }
}
