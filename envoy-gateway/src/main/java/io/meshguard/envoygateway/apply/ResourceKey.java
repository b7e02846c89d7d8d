package io.meshguard.envoygateway.apply;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/** One Kubernetes object by kind, namespace and name: how logs, reports and metrics name a resource. */
public record ResourceKey(String kind, String namespace, String name) implements Comparable<ResourceKey> {

    public ResourceKey {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
    }

    static ResourceKey of(JsonNode resource) {
        JsonNode meta = resource.path("metadata");
        return new ResourceKey(
                resource.path("kind").asText(),
                meta.path("namespace").asText(),
                meta.path("name").asText());
    }

    @Override
    public int compareTo(ResourceKey o) {
        return toString().compareTo(o.toString());
    }

    /** {@code Kind/namespace/name}, as an operator types it after {@code kubectl get}. */
    @Override
    public String toString() {
        return kind + "/" + namespace + "/" + name;
    }
}
