package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.meshguard.deploy.RenderedManifests;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the box's API server holds: the objects applied (the rendered install, the migrate Job, the operator's
 * Secrets, the bank's own Services), typed with the deploy tests' strict models, and the Istio objects as trees.
 */
final class ClusterObjects {
    final List<Deployment> deployments = new ArrayList<>();
    final List<StatefulSet> statefulSets = new ArrayList<>();
    final List<Job> jobs = new ArrayList<>();
    final List<Service> services = new ArrayList<>();
    final List<NetworkPolicy> networkPolicies = new ArrayList<>();
    final List<JsonNode> istio = new ArrayList<>();
    /** HorizontalPodAutoscalers' floors by target ({@code StatefulSet/meshguard-extauthz} → {@code minReplicas}). */
    final Map<String, Integer> autoscalerFloors = new HashMap<>();

    private final Map<String, Map<String, String>> configMaps = new HashMap<>();
    private final Map<String, Map<String, String>> secrets = new HashMap<>();
    private final Map<String, Map<String, String>> namespaceLabels = new LinkedHashMap<>();

    /** {@code kubectl apply} of rendered documents: an object of the same kind, namespace and name is replaced. */
    void apply(List<JsonNode> docs) {
        for (JsonNode doc : docs) {
            String kind = doc.path("kind").asText();
            switch (kind) {
                case "Deployment" ->
                    put(deployments, RenderedManifests.model(doc, Deployment.class), Deployment::getMetadata);
                case "StatefulSet" ->
                    put(statefulSets, RenderedManifests.model(doc, StatefulSet.class), StatefulSet::getMetadata);
                case "Job" -> put(jobs, RenderedManifests.model(doc, Job.class), Job::getMetadata);
                case "Service" -> put(services, RenderedManifests.model(doc, Service.class), Service::getMetadata);
                case "NetworkPolicy" ->
                    put(networkPolicies, RenderedManifests.model(doc, NetworkPolicy.class), NetworkPolicy::getMetadata);
                case "ConfigMap" -> {
                    ConfigMap cm = RenderedManifests.model(doc, ConfigMap.class);
                    configMaps.put(
                            key(
                                    cm.getMetadata().getNamespace(),
                                    cm.getMetadata().getName()),
                            Optional.ofNullable(cm.getData()).orElse(Map.of()));
                }
                case "Namespace" -> namespace(RenderedManifests.model(doc, Namespace.class));
                case "HorizontalPodAutoscaler" ->
                    autoscalerFloors.put(
                            doc.path("spec").path("scaleTargetRef").path("kind").asText() + "/"
                                    + doc.path("spec")
                                            .path("scaleTargetRef")
                                            .path("name")
                                            .asText(),
                            doc.path("spec").path("minReplicas").asInt(1));
                default -> {
                    if (doc.path("apiVersion").asText().contains("istio.io")) {
                        istio.removeIf(o -> o.path("kind").equals(doc.path("kind"))
                                && o.path("metadata")
                                        .path("namespace")
                                        .equals(doc.path("metadata").path("namespace"))
                                && o.path("metadata")
                                        .path("name")
                                        .equals(doc.path("metadata").path("name")));
                        istio.add(doc);
                    }
                }
            }
        }
    }

    private static <T> void put(
            List<T> objects,
            T object,
            java.util.function.Function<T, io.fabric8.kubernetes.api.model.ObjectMeta> meta) {
        String key = key(meta.apply(object).getNamespace(), meta.apply(object).getName());
        objects.removeIf(
                o -> key(meta.apply(o).getNamespace(), meta.apply(o).getName()).equals(key));
        objects.add(object);
    }

    void namespace(Namespace ns) {
        Map<String, String> labels = new LinkedHashMap<>(
                Optional.ofNullable(ns.getMetadata().getLabels()).orElse(Map.of()));
        // the API server sets this label on every namespace (Kubernetes 1.22+): NetworkPolicies select by it
        labels.put("kubernetes.io/metadata.name", ns.getMetadata().getName());
        namespaceLabels.put(ns.getMetadata().getName(), labels);
    }

    void namespace(String name, Map<String, String> labels) {
        Map<String, String> all = new LinkedHashMap<>(labels);
        all.put("kubernetes.io/metadata.name", name);
        namespaceLabels.put(name, all);
    }

    void secret(Secret secret) {
        Map<String, String> data =
                new LinkedHashMap<>(Optional.ofNullable(secret.getStringData()).orElse(Map.of()));
        Optional.ofNullable(secret.getData())
                .orElse(Map.of())
                .forEach((k, v) -> data.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        secrets.put(
                key(secret.getMetadata().getNamespace(), secret.getMetadata().getName()), data);
    }

    void service(Service service) {
        services.add(service);
    }

    Optional<Map<String, String>> configMap(String namespace, String name) {
        return Optional.ofNullable(configMaps.get(key(namespace, name)));
    }

    /**
     * The operator's edit of a shipped ConfigMap's values before {@code kubectl apply}: only keys the manifests ship
     * (a key the docs name and the ConfigMap lacks fails here, as the controller would never read it).
     */
    void editConfigMap(String namespace, String name, Map<String, String> values) {
        Map<String, String> data = configMap(namespace, name)
                .orElseThrow(() -> new AssertionError("the manifests ship no ConfigMap " + namespace + "/" + name));
        Map<String, String> edited = new LinkedHashMap<>(data);
        values.forEach((k, v) -> {
            if (!data.containsKey(k)) {
                throw new AssertionError(
                        "ConfigMap " + namespace + "/" + name + " has no key " + k + " (keys: " + data.keySet() + ")");
            }
            edited.put(k, v);
        });
        configMaps.put(key(namespace, name), edited);
    }

    /**
     * The operator's edit of a shipped Deployment's environment value (a comment in the manifest says to, e.g. the ADS
     * grant list): the variable must be shipped with a literal value.
     */
    void editEnv(String namespace, String deployment, String variable, java.util.function.UnaryOperator<String> edit) {
        io.fabric8.kubernetes.api.model.EnvVar env = deployments.stream()
                .filter(d -> d.getMetadata().getName().equals(deployment)
                        && namespace.equals(d.getMetadata().getNamespace()))
                .flatMap(d -> d.getSpec().getTemplate().getSpec().getContainers().stream())
                .flatMap(c -> Optional.ofNullable(c.getEnv()).orElse(List.of()).stream())
                .filter(e -> e.getName().equals(variable) && e.getValue() != null)
                .findFirst()
                .orElseThrow(() -> new AssertionError(
                        "Deployment " + namespace + "/" + deployment + " ships no literal " + variable));
        env.setValue(edit.apply(env.getValue()));
    }

    Optional<Map<String, String>> secret(String namespace, String name) {
        return Optional.ofNullable(secrets.get(key(namespace, name)));
    }

    /** A namespace's labels; an unknown namespace has none but its name label. */
    Map<String, String> namespaceLabels(String namespace) {
        return namespaceLabels.getOrDefault(namespace, Map.of("kubernetes.io/metadata.name", namespace));
    }

    List<String> namespaces() {
        return List.copyOf(namespaceLabels.keySet());
    }

    private static String key(String namespace, String name) {
        return (namespace == null ? "default" : namespace) + "/" + name;
    }
}
