package io.meshguard.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.util.List;
import java.util.stream.Stream;

/** A set of parsed manifests with lookups by kind and name, for cross-reference checks. */
final class Manifests {
    private final List<SourcedDocument> docs;

    Manifests(List<SourcedDocument> docs) {
        this.docs = List.copyOf(docs);
    }

    /** Every manifest file of the base and the app-namespace kit, as written. */
    static Manifests sources() {
        return under("base", "app-namespace");
    }

    /** Every manifest file under these directories of {@code manifests/istio}, as written. */
    static Manifests under(String... dirs) {
        return new Manifests(Stream.of(dirs)
                .flatMap(dir -> YamlDocuments.filesUnder(RepoPaths.manifests().resolve(dir)).stream())
                .filter(f -> !f.getFileName().toString().equals("kustomization.yaml"))
                .filter(f -> !f.toString().contains("/envoy/"))
                .flatMap(f -> YamlDocuments.read(f).stream())
                .toList());
    }

    List<SourcedDocument> all() {
        return docs;
    }

    Stream<SourcedDocument> ofKind(String kind) {
        return docs.stream().filter(d -> d.kind().equals(kind));
    }

    SourcedDocument find(String kind, String name) {
        return ofKind(kind)
                .filter(d -> d.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " named " + name));
    }

    <T> T model(String kind, String name, Class<T> type) {
        return StrictKubernetesModels.parse(find(kind, name), type);
    }

    <T> Stream<T> models(String kind, Class<T> type) {
        return ofKind(kind).map(d -> StrictKubernetesModels.parse(d, type));
    }

    Deployment deployment(String name) {
        return model("Deployment", name, Deployment.class);
    }

    StatefulSet statefulSet(String name) {
        return model("StatefulSet", name, StatefulSet.class);
    }

    /** Every Deployment and StatefulSet. */
    Stream<Workload> workloads() {
        return Stream.concat(
                models("Deployment", Deployment.class).map(Workload::of),
                models("StatefulSet", StatefulSet.class).map(Workload::of));
    }

    /** The Deployment or StatefulSet named {@code name}. */
    Workload workload(String name) {
        return workloads()
                .filter(w -> w.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no Deployment or StatefulSet named " + name));
    }

    Service service(String name) {
        return model("Service", name, Service.class);
    }

    ConfigMap configMap(String name) {
        return model("ConfigMap", name, ConfigMap.class);
    }
}
