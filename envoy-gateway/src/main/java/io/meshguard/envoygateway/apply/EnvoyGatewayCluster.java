package io.meshguard.envoygateway.apply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ServerSideApplicable;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
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
 * {@code meshguard.io/gateway-group} label are ever listed or changed, and only those the zone's field manager wrote
 * (the object's {@code managedFields}) are deleted: whatever else lives in the cluster is never touched, an object of
 * a rendered name that is not the group's included (a refusal, reported).
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
     * Applies {@code rendered} (every resource labelled with {@code group} and its revision) in {@link ResourceKinds}
     * order (policies before the routes they guard), then deletes the group's objects it no longer has. A resource
     * whose live object already matches is not sent, so applying the same render twice changes nothing.
     *
     * <p>An object is created only where none of its kind and name exists. A live object that is not this group's
     * (not labelled {@code managed-by=meshguard} and with the group, e.g. a platform team's HTTPRoute of the same
     * name) is never applied over: it is a refusal, reported, and the object is left as it was. An object of the
     * group that differs is, under {@link DriftMode#CORRECT}, replaced with the render (an update of the whole
     * object, which also removes fields added by hand); under {@link DriftMode#REPORT} applied without forcing, so
     * a field another manager took is a refusal, reported. No apply forces conflicts.
     */
    public ApplyOutcome apply(String group, long revision, RenderedResources rendered) {
        List<ResourceKey> applied = new ArrayList<>();
        List<ResourceKey> unchanged = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        Set<ResourceKey> wanted = new TreeSet<>();
        Set<String> unguarded = new TreeSet<>();
        for (ObjectNode resource : inApplyOrder(rendered)) {
            ResourceKey key = ResourceKey.of(resource);
            wanted.add(key);
            ResourceDefinitionContext kind = kind(resource);
            Optional<JsonNode> live = get(kind, key);
            Optional<String> foreign = live.flatMap(l -> notOurs(group, l));
            if (foreign.isEmpty()
                    && key.kind().equals("HTTPRoute")
                    && unguarded.contains(key.namespace() + "/" + key.name())) {
                // its Check or DLP policy did not land: served without it, the route would be open
                foreign = Optional.of(
                        "its SecurityPolicy or EnvoyExtensionPolicy was refused, and Envoy Gateway would serve"
                                + " the route without them: not applied"
                                + (live.isPresent() && withdrawOpenRoute(kind, key, live.get())
                                        ? ", the live route deleted"
                                        : ""));
            }
            if (foreign.isPresent()) {
                refused.add(key + ": " + foreign.get());
                refusedLog(group, revision, key, foreign.get());
                guards(key).ifPresent(unguarded::add);
                continue;
            }
            if (live.isPresent() && differences(resource, live.get()).isEmpty()) {
                unchanged.add(key);
                continue;
            }
            try {
                if (live.isPresent() && mode == DriftMode.CORRECT) {
                    replace(kind, resource, live.get());
                } else {
                    serverSideApply(kind, resource);
                }
                applied.add(key);
            } catch (KubernetesClientException e) {
                refused.add(key + ": " + e.getCode() + " " + e.getMessage());
                refusedLog(group, revision, key, e.getMessage());
                guards(key).ifPresent(unguarded::add);
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

    /** The route a refused policy guards ({@code namespace/name}: the renderer names a route's policies as the route). */
    private static Optional<String> guards(ResourceKey key) {
        return key.kind().equals("SecurityPolicy") || key.kind().equals("EnvoyExtensionPolicy")
                ? Optional.of(key.namespace() + "/" + key.name())
                : Optional.empty();
    }

    /** Deletes the group's live route whose policies were refused, if the zone wrote it; whether it did. */
    private boolean withdrawOpenRoute(ResourceDefinitionContext kind, ResourceKey key, JsonNode live) {
        if (!appliedByZone(live)) {
            return false;
        }
        client.genericKubernetesResources(kind)
                .inNamespace(key.namespace())
                .withName(key.name())
                .delete();
        return true;
    }

    private static void refusedLog(String group, long revision, ResourceKey key, String why) {
        log.atError()
                .addKeyValue("event", "envoy_gateway_apply_refused")
                .addKeyValue("group", group)
                .addKeyValue("revision", revision)
                .addKeyValue("resource", key.toString())
                .log("{} of revision {} was not applied: {}", key, revision, why);
    }

    /** The render's resources in {@link ResourceKinds} order, the renderer's order kept within a kind. */
    static List<ObjectNode> inApplyOrder(RenderedResources rendered) {
        return rendered.resources().stream()
                .sorted(Comparator.comparingInt(
                        (ObjectNode r) -> ResourceKinds.order(r.path("kind").asText())))
                .toList();
    }

    /**
     * Why a live object of a rendered kind and name is not the group's to change, if it is not: it lacks the
     * {@code managed-by=meshguard} label or carries another group's. Taking it would relabel another team's object
     * and delete it at the next prune.
     */
    static Optional<String> notOurs(String group, JsonNode live) {
        JsonNode labels = live.path("metadata").path("labels");
        if (!"meshguard"
                .equals(labels.path(EnvoyGatewayRenderer.LABEL_MANAGED_BY).asText())) {
            return Optional.of("an object of that kind and name exists and is not meshguard's (no "
                    + EnvoyGatewayRenderer.LABEL_MANAGED_BY + "=meshguard label): it is left as it is; rename the"
                    + " route or have its owner remove it");
        }
        String holder = labels.path(EnvoyGatewayRenderer.LABEL_GROUP).asText();
        if (!holder.equals(KubernetesNames.labelValue(group))) {
            return Optional.of("the object belongs to another gateway group: it is left as it is");
        }
        return Optional.empty();
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
     * {@link DriftMode#CORRECT}, corrected by replacing the object with the render (which also removes what was added
     * by hand). What was found is returned either way.
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
            Optional<String> foreign = live.flatMap(l -> notOurs(group, l));
            if (foreign.isPresent()) {
                // not ours: neither corrected nor counted as drift of ours; apply reports it as refused
                continue;
            }
            boolean corrected = false;
            if (mode == DriftMode.CORRECT) {
                try {
                    if (live.isPresent()) {
                        replace(kind, resource, live.get());
                    } else {
                        serverSideApply(kind, resource);
                    }
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
     * annotations and every top-level field but the identity and status; and every field of the live object's
     * {@code spec} that a manager other than the zone set ({@code managedFields}, status writers excluded), e.g. a
     * {@code filters} entry added with {@code kubectl edit} that would rewrite or mirror a request after extauthz
     * decided on it. API-server defaults belong to no manager and are not drift. Lists must match element by element.
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
        for (String added : setByOthers(live)) {
            if (!out.contains(added)) {
                out.add(added);
            }
        }
        return out;
    }

    /**
     * The {@code spec} fields (first level, as {@code /spec/field}) that a field manager other than
     * {@value #FIELD_MANAGER} owns on {@code live}, per its {@code metadata.managedFields}; entries of the status
     * subresource are the controllers' and not counted.
     */
    static List<String> setByOthers(JsonNode live) {
        TreeSet<String> out = new TreeSet<>();
        for (JsonNode entry : live.path("metadata").path("managedFields")) {
            if (FIELD_MANAGER.equals(entry.path("manager").asText())
                    || "status".equals(entry.path("subresource").asText())) {
                continue;
            }
            entry.path("fieldsV1").path("f:spec").fieldNames().forEachRemaining(f -> {
                if (f.startsWith("f:")) {
                    out.add("/spec/" + escape(f.substring(2)));
                }
            });
        }
        return List.copyOf(out);
    }

    /** Whether the zone's field manager ever applied or updated {@code live} (its own record on the object). */
    static boolean appliedByZone(JsonNode live) {
        for (JsonNode entry : live.path("metadata").path("managedFields")) {
            if (FIELD_MANAGER.equals(entry.path("manager").asText())) {
                return true;
            }
        }
        return false;
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

    /** Server-side apply without forcing: a field another manager owns is a conflict, refused by the API server. */
    private void serverSideApply(ResourceDefinitionContext kind, ObjectNode resource) {
        GenericKubernetesResource r =
                client.getKubernetesSerialization().convertValue(resource, GenericKubernetesResource.class);
        ServerSideApplicable<GenericKubernetesResource> apply = client.genericKubernetesResources(kind)
                .inNamespace(r.getMetadata().getNamespace())
                .resource(r)
                .fieldManager(FIELD_MANAGER);
        apply.serverSideApply();
    }

    /**
     * Replaces the group's own live object's labels, annotations and spec with the render's, as the zone's field
     * manager, in one JSON patch that first tests the live resource version (a concurrent change makes it a conflict,
     * not something overwritten unseen): every spec field not rendered, including one added by hand, goes.
     */
    private void replace(ResourceDefinitionContext kind, ObjectNode resource, JsonNode live) {
        com.fasterxml.jackson.databind.node.ArrayNode ops = JSON.createArrayNode();
        ops.addObject()
                .put("op", "test")
                .put("path", "/metadata/resourceVersion")
                .put("value", live.path("metadata").path("resourceVersion").asText());
        for (String field : List.of("labels", "annotations")) {
            JsonNode rendered = resource.path("metadata").path(field);
            if (rendered.isObject()) {
                ops.addObject()
                        .put("op", "add")
                        .put("path", "/metadata/" + field)
                        .set("value", rendered);
            } else if (live.path("metadata").has(field)) {
                ops.addObject().put("op", "remove").put("path", "/metadata/" + field);
            }
        }
        Iterator<Map.Entry<String, JsonNode>> top = resource.fields();
        while (top.hasNext()) {
            Map.Entry<String, JsonNode> e = top.next();
            if (!NOT_COMPARED.contains(e.getKey())) {
                ops.addObject()
                        .put("op", "add")
                        .put("path", "/" + escape(e.getKey()))
                        .set("value", e.getValue());
            }
        }
        ResourceKey key = ResourceKey.of(resource);
        client.genericKubernetesResources(kind)
                .inNamespace(key.namespace())
                .withName(key.name())
                .patch(
                        new PatchContext.Builder()
                                .withPatchType(PatchType.JSON)
                                .withFieldManager(FIELD_MANAGER)
                                .build(),
                        ops.toString());
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
        List<JsonNode> stale = new ArrayList<>();
        for (JsonNode o : owned(group)) {
            if (wanted.contains(ResourceKey.of(o))) {
                continue;
            }
            if (!appliedByZone(o)) {
                // labelled as the group's but never written by the zone: someone else's object, not deleted
                log.atWarn()
                        .addKeyValue("event", "envoy_gateway_prune_refused")
                        .addKeyValue("group", group)
                        .addKeyValue("resource", ResourceKey.of(o).toString())
                        .log(
                                "{} carries group {}'s labels but the zone never applied it: not deleted",
                                ResourceKey.of(o),
                                group);
                continue;
            }
            stale.add(o);
        }
        // routes before their policies, the Gateway last
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
