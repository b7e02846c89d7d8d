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

    /**
     * The operator guide: its index page ({@code docs/operator-guide.md}) and one page per task under
     * {@code docs/operate/}, index first, then the task pages by name.
     */
    static java.util.List<Path> operatorGuide() {
        Path index = root().resolve("docs/operator-guide.md");
        try (java.util.stream.Stream<Path> pages = Files.list(root().resolve("docs/operate"))) {
            return java.util.stream.Stream.concat(
                            java.util.stream.Stream.of(index),
                            pages.filter(p -> p.toString().endsWith(".md")).sorted())
                    .toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The task page of the operator guide named {@code name} ({@code respond-to-an-alert.md}). */
    static Path operatorGuidePage(String name) {
        return root().resolve("docs/operate").resolve(name);
    }

    static Path policies() {
        return root().resolve("policies");
    }

    /** The policy files the base's ConfigMap generators ship (access.yaml: the admin plane's role bindings). */
    static final java.util.List<String> POLICY_FILES = java.util.List.of("authz.yaml", "dlp.yaml", "access.yaml");

    /**
     * Skips the calling test, with the reason, while the servers' policy files are not in this checkout (they
     * arrive with extauthz-server and extproc-dlp-server); kustomize cannot render the base without them.
     */
    static void assumePolicyFiles() {
        java.util.List<String> missing = POLICY_FILES.stream()
                .filter(f -> !Files.isRegularFile(policies().resolve(f)))
                .toList();
        org.junit.jupiter.api.Assumptions.assumeTrue(
                missing.isEmpty(),
                "policies/" + missing + " not in this checkout yet: rendering and policy mounts not checked");
    }

    /** The team's shared folder beside the clone ({@code ../shared}); absent in a user's fresh clone. */
    static Optional<Path> shared() {
        Path shared = root().resolveSibling("shared");
        return Files.isDirectory(shared) ? Optional.of(shared) : Optional.empty();
    }
}
