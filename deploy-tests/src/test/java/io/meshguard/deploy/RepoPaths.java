package io.meshguard.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where the tests find the repository's deployment files, wherever Maven runs them from. */
final class RepoPaths {
    private RepoPaths() {}

    /** The repository root: the nearest ancestor of the working directory that holds {@code manifests/istio}. */
    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("manifests/istio"))) {
                return p;
            }
        }
        throw new IllegalStateException("no manifests/istio above " + dir);
    }

    static Path manifests() {
        return root().resolve("manifests/istio");
    }

    static Path deployLocal() {
        return root().resolve("deploy/local");
    }

    static Path policies() {
        return root().resolve("policies");
    }

    /** The team's shared folder beside the clone ({@code ../shared}); absent in a user's fresh clone. */
    static Optional<Path> shared() {
        Path shared = root().resolveSibling("shared");
        return Files.isDirectory(shared) ? Optional.of(shared) : Optional.empty();
    }
}
