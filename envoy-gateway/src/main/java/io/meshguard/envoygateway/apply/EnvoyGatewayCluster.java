package io.meshguard.envoygateway.apply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ServerSideApplicable;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.meshguard.envoygateway.render.EnvoyGatewayRenderer;
import io.meshguard.envoygateway.render.KubernetesNames;
import io.meshguard.envoygateway.render.RenderedResources;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster's Envoy Gateway resources as the zone controller keeps them: a revision's render applied with
 * server-side apply under the field manager {@value #FIELD_MANAGER}, what the render no longer has pruned, the
 * controllers' status read back, and hand edits found and, per {@link DriftMode}, re-applied or only reported.
 *
 * <p>Only objects carrying {@code app.kubernetes.io/managed-by=meshguard} and the group's
 * {@code meshguard.io/gateway-group} label are ever listed, changed or deleted: whatever else lives in the cluster is
 * never touched.
 */
public final class EnvoyGatewayCluster {
    private static final Logger log = LoggerFactory.getLogger(EnvoyGatewayCluster.class);

    /** The field manager of every apply: {@code kubectl get --show-managed-fields} names the zone with it. */
    public static final String FIELD_MANAGER = "meshguard-zone";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> NOT_COMPARED = Set.of("apiVersion", "kind", "metadata", "status");

    private final KubernetesClient client;
    private final DriftMode mode;

    public EnvoyGatewayCluster(KubernetesClient client, DriftMode mode) {
        this.client = client;
        this.mode = mode;
    }

    /**
     * The kinds this zone applies, lists and deletes, in apply order: what its ClusterRole must grant
     * (manifests/istio/overlays/zone-envoy-gateway).
     */
    public static List<ResourceDefinitionContext> kinds() {
        return ResourceKinds.ALL;
    }

    public DriftMode mode() {
        return mode;
    }

    /**
     * Applies {@code rendered} (every resource labelled with {@code group} and its revision), then deletes the
     * group's objects it no longer has. A resource whose live object already matches is not sent, so applying the
     * same render twice changes nothing. Under {@link DriftMode#CORRECT} the apply forces conflicts (meshguard owns
     * these objects); under {@link DriftMode#REPORT} a field another manager took is a refusal, reported.
     */
    public ApplyOutcome apply(String group, long revision, RenderedResources rendered) {
        List<ResourceKey> applied = new ArrayList<>();
        List<ResourceKey> unchanged = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        Set<ResourceKey> wanted = new TreeSet<>();
        for (ObjectNode resource : rendered.resources()) {
            ResourceKey key = ResourceKey.of(resource);
            wanted.add(key);
            ResourceDefinitionContext kind = kind(resource);
            Optional<JsonNode> live = get(kind, key);
            if (live.isPresent() && differences(resource, live.get()).isEmpty()) {
                unchanged.add(key);
                continue;
            }
            try {
                serverSideApply(kind, resource, mode == DriftMode.CORRECT);
                applied.add(key);
            } catch (KubernetesClientException e) {
                refused.add(key + ": " + e.getCode() + " " + e.getMessage());
                log.atError()
                        .addKeyValue("event", "envoy_gateway_apply_refused")
                        .addKeyValue("group", group)
                        .addKeyValue("revision", revision)
                        .addKeyValue("resource", key.toString())
                        .log("the API server refused {} of revision {}: {}", key, revision, e.getMessage());
            }
        }
        List<ResourceKey> pruned = prune(group, revision, wanted);
        log.atInfo()
                .addKeyValue("event", "envoy_gateway_applied")
                .addKeyValue("group", group)
                .addKeyValue("revision", revision)
                .log(
                        "revision {} of group {}: {} applied, {} unchanged, {} pruned, {} refused",
                        revision,
                        group,
                        applied.size(),
                        unchanged.size(),
                        pruned.size(),
                        refused.size());
        return new ApplyOutcome(revision, applied, unchanged, pruned, refused);
    }

    /** Deletes every object of the group (a withdrawal): what the zone applied for it, and nothing else. */
    public List<ResourceKey> withdraw(String group) {
        return prune(group, 0, Set.of());
    }

    /** The group's live objects with the conditions their controllers wrote, by kind, namespace and name. */
    public List<GatewayResourceStatus> status(String group) {
        List<GatewayResourceStatus> out = new ArrayList<>();
        for (JsonNode live : owned(group)) {
            out.add(status(live));
        }
        return out;
    }

    /**
     * Compares every resource of {@code rendered} with its live object; each difference is logged and, under
     * {@link DriftMode#CORRECT}, re-applied (forcing the fields back). What was found is returned either way.
     */
    public List<Drift> drift(String group, long revision, RenderedResources rendered) {
        List<Drift> out = new ArrayList<>();
        for (ObjectNode resource : rendered.resources()) {
            ResourceKey key = ResourceKey.of(resource);
            ResourceDefinitionContext kind = kind(resource);
            Optional<JsonNode> live = get(kind, key);
            List<String> fields = live.map(l -> differences(resource, l)).orElse(List.of());
            if (live.isPresent() && fields.isEmpty()) {
                continue;
            }
            boolean corrected = false;
            if (mode == DriftMode.CORRECT) {
                try {
                    serverSideApply(kind, resource, true);
                    corrected = true;
                } catch (KubernetesClientException e) {
                    log.atError()
                            .addKeyValue("event", "envoy_gateway_drift_not_corrected")
                            .addKeyValue("group", group)
                            .addKeyValue("revision", revision)
                            .addKeyValue("resource", key.toString())
                            .log("drift of {} could not be corrected: {}", key, e.getMessage());
                }
            }
            Drift d = new Drift(key, revision, fields, live.isEmpty(), corrected);
            log.atWarn()
                    .addKeyValue("event", "envoy_gateway_drift")
                    .addKeyValue("group", group)
                    .addKeyValue("revision", revision)
                    .addKeyValue("resource", key.toString())
                    .addKeyValue("fields", String.join(",", d.fields()))
                    .addKeyValue("missing", d.missing())
                    .addKeyValue("action", corrected ? "corrected" : "reported")
                    .log(
                            "{} differs from revision {} of group {} ({}): {}",
                            key,
                            revision,
                            group,
                            d.missing() ? "deleted" : String.join(", ", d.fields()),
                            corrected
                                    ? "re-applied"
                                    : "left as found (zone.envoy_gateway.drift: " + mode.value() + ")");
            out.add(d);
        }
        return out;
    }

    /**
     * The fields of {@code rendered} the live object does not hold as rendered, as JSON pointers: labels,
     * annotations and every top-level field but the identity and status. Fields the live object has beyond the
     * render (API-server defaults, another manager's fields) are not drift: server-side apply would not remove them
     * either. Lists must match element by element.
     */
    static List<String> differences(JsonNode rendered, JsonNode live) {
        List<String> out = new ArrayList<>();
        JsonNode meta = rendered.path("metadata");
        for (String field : List.of("labels", "annotations")) {
            if (meta.has(field)) {
                compare(meta.get(field), live.path("metadata").path(field), "/metadata/" + field, out);
            }
        }
        Iterator<Map.Entry<String, JsonNode>> top = rendered.fields();
        while (top.hasNext()) {
            Map.Entry<String, JsonNode> e = top.next();
            if (!NOT_COMPARED.contains(e.getKey())) {
                compare(e.getValue(), live.path(e.getKey()), "/" + e.getKey(), out);
            }
        }
        return out;
    }

    private static void compare(JsonNode want, JsonNode have, String pointer, List<String> out) {
        if (want.isObject()) {
            if (!have.isObject()) {
                out.add(pointer);
                return;
            }
            want.fields()
                    .forEachRemaining(
                            e -> compare(e.getValue(), have.path(e.getKey()), pointer + "/" + escape(e.getKey()), out));
        } else if (want.isArray()) {
            if (!have.isArray() || have.size() != want.size()) {
                out.add(pointer);
                return;
            }
            for (int i = 0; i < want.size(); i++) {
                compare(want.get(i), have.get(i), pointer + "/" + i, out);
            }
        } else if (want.isNumber() && have.isNumber()) {
            if (want.decimalValue().compareTo(have.decimalValue()) != 0) {
                out.add(pointer);
            }
        } else if (!want.equals(have)) {
            out.add(pointer);
        }
    }

    /** RFC 6901: {@code ~} and {@code /} in a key. */
    private static String escape(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }

    private void serverSideApply(ResourceDefinitionContext kind, ObjectNode resource, boolean force) {
        GenericKubernetesResource r =
                client.getKubernetesSerialization().convertValue(resource, GenericKubernetesResource.class);
        ServerSideApplicable<GenericKubernetesResource> apply = client.genericKubernetesResources(kind)
                .inNamespace(r.getMetadata().getNamespace())
                .resource(r)
                .fieldManager(FIELD_MANAGER);
        if (force) {
            apply = apply.forceConflicts();
        }
        apply.serverSideApply();
    }

    private Optional<JsonNode> get(ResourceDefinitionContext kind, ResourceKey key) {
        GenericKubernetesResource live = client.genericKubernetesResources(kind)
                .inNamespace(key.namespace())
                .withName(key.name())
                .get();
        return Optional.ofNullable(live).map(this::json);
    }

    /** The group's objects of every rendered kind, in every namespace (a ReferenceGrant lives in its Service's). */
    private List<JsonNode> owned(String group) {
        Map<String, String> selector = Map.of(
                EnvoyGatewayRenderer.LABEL_MANAGED_BY,
                "meshguard",
                EnvoyGatewayRenderer.LABEL_GROUP,
                KubernetesNames.labelValue(group));
        List<JsonNode> out = new ArrayList<>();
        for (ResourceDefinitionContext kind : ResourceKinds.ALL) {
            client.genericKubernetesResources(kind).inAnyNamespace().withLabels(selector).list().getItems().stream()
                    .map(this::json)
                    .sorted(Comparator.comparing(ResourceKey::of))
                    .forEach(out::add);
        }
        return out;
    }

    private List<ResourceKey> prune(String group, long revision, Set<ResourceKey> wanted) {
        List<JsonNode> stale = new ArrayList<>(owned(group).stream()
                .filter(o -> !wanted.contains(ResourceKey.of(o)))
                .toList());
        // policies and routes before what they point at, the Gateway last
        stale.sort(Comparator.comparing(
                        (JsonNode o) -> ResourceKinds.order(o.path("kind").asText()))
                .reversed());
        List<ResourceKey> pruned = new ArrayList<>();
        for (JsonNode o : stale) {
            ResourceKey key = ResourceKey.of(o);
            ResourceDefinitionContext kind =
                    ResourceKinds.of(o.path("apiVersion").asText(), key.kind()).orElseThrow();
            client.genericKubernetesResources(kind)
                    .inNamespace(key.namespace())
                    .withName(key.name())
                    .delete();
            pruned.add(key);
            log.atInfo()
                    .addKeyValue("event", "envoy_gateway_pruned")
                    .addKeyValue("group", group)
                    .addKeyValue("revision", revision)
                    .addKeyValue("resource", key.toString())
                    .log(
                            "{} deleted: {}",
                            key,
                            revision == 0 ? "group withdrawn" : "revision " + revision + " no longer renders it");
        }
        return pruned;
    }

    private static ResourceDefinitionContext kind(JsonNode resource) {
        String apiVersion = resource.path("apiVersion").asText();
        String kind = resource.path("kind").asText();
        return ResourceKinds.of(apiVersion, kind)
                .orElseThrow(() -> new IllegalArgumentException(
                        "the zone does not apply " + apiVersion + " " + kind + ": not a kind the renderer emits"));
    }

    private JsonNode json(GenericKubernetesResource r) {
        return JSON.valueToTree(client.getKubernetesSerialization().convertValue(r, Map.class));
    }

    private static GatewayResourceStatus status(JsonNode live) {
        JsonNode meta = live.path("metadata");
        long revision =
                meta.path("labels").path(EnvoyGatewayRenderer.LABEL_REVISION).asLong(0);
        List<GatewayResourceStatus.Condition> conditions = new ArrayList<>();
        JsonNode status = live.path("status");
        conditions(status.path("conditions"), "", conditions);
        for (JsonNode p : status.path("parents")) {
            conditions(p.path("conditions"), ref(p.path("parentRef"), "Gateway"), conditions);
        }
        for (JsonNode a : status.path("ancestors")) {
            conditions(a.path("conditions"), ref(a.path("ancestorRef"), "Gateway"), conditions);
        }
        return new GatewayResourceStatus(
                ResourceKey.of(live), revision, meta.path("generation").asLong(0), conditions);
    }

    private static String ref(JsonNode ref, String defaultKind) {
        return ref.path("kind").asText(defaultKind) + "/" + ref.path("name").asText();
    }

    private static void conditions(JsonNode list, String parent, List<GatewayResourceStatus.Condition> out) {
        for (JsonNode c : list) {
            out.add(new GatewayResourceStatus.Condition(
                    c.path("type").asText(),
                    c.path("status").asText("Unknown"),
                    c.path("reason").asText(""),
                    c.path("message").asText(""),
                    parent,
                    c.path("observedGeneration").asLong(0)));
        }
    }
}
