package io.meshguard.deploy;

import io.fabric8.kubernetes.api.model.kustomize.v1beta1.ConfigMapArgs;
import io.fabric8.kubernetes.api.model.kustomize.v1beta1.Kustomization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The ConfigMap generators of the base and of the kustomizations it lists as resources ({@code policies/}), each
 * with the folder its file paths are relative to.
 */
final class GeneratedConfigMaps {
    /** One generator and the folder of the kustomization that declares it. */
    record Generator(Path dir, ConfigMapArgs args) {
        String name() {
            return args.getName();
        }

        /** The ConfigMap's data as kustomize generates it: key ({@code key=} prefix or file name) → file content. */
        java.util.Map<String, String> data() {
            java.util.Map<String, String> data = new java.util.TreeMap<>();
            for (String f : args.getFiles()) {
                String file = f.contains("=") ? f.substring(f.indexOf('=') + 1) : f;
                String key = f.contains("=")
                        ? f.substring(0, f.indexOf('='))
                        : Path.of(file).getFileName().toString();
                try {
                    data.put(key, Files.readString(dir.resolve(file)));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException("cannot read " + file + " of generator " + name(), e);
                }
            }
            return data;
        }

        /** The files it reads, as paths from the repository root's view ({@code key=} prefixes dropped). */
        List<Path> files() {
            return args.getFiles().stream()
                    .map(f -> dir.resolve(f.contains("=") ? f.substring(f.indexOf('=') + 1) : f)
                            .normalize())
                    .toList();
        }
    }

    private GeneratedConfigMaps() {}

    static List<Generator> ofBase() {
        Path base = RepoPaths.manifests().resolve("base");
        List<Generator> out = new ArrayList<>(generators(base));
        for (String resource : kustomization(base).getResources()) {
            Path dir = base.resolve(resource).normalize();
            if (Files.isRegularFile(dir.resolve("kustomization.yaml"))) {
                out.addAll(generators(dir));
            }
        }
        return out;
    }

    /** The generators of the kustomization in {@code dir} alone (an overlay's own, e.g. the dev Redis config). */
    static List<Generator> of(Path dir) {
        return generators(dir);
    }

    static Optional<Generator> named(String name) {
        return ofBase().stream().filter(g -> g.name().equals(name)).findFirst();
    }

    private static Kustomization kustomization(Path dir) {
        return StrictKubernetesModels.parse(
                YamlDocuments.read(dir.resolve("kustomization.yaml")).getFirst(), Kustomization.class);
    }

    private static List<Generator> generators(Path dir) {
        return Optional.ofNullable(kustomization(dir).getConfigMapGenerator()).orElse(List.of()).stream()
                .map(args -> new Generator(dir, args))
                .toList();
    }
}
