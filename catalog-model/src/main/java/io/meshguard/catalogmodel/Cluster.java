package io.meshguard.catalogmodel;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Where product publishes run: a Kubernetes cluster with its zone controller. Its region is a label of
 * every host published to it.
 */
public record Cluster(String id, String region, Optional<String> provider, Set<String> capabilities) {
    public Cluster {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(provider, "provider");
        capabilities = Set.copyOf(capabilities);
    }
}
