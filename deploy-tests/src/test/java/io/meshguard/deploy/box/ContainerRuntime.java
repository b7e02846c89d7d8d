package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kubelet's and the container runtime's part of starting a pod: the container's environment (values,
 * {@code valueFrom} Secret and ConfigMap keys, the downward API's {@code fieldRef}, {@code $(VAR)} references), its
 * volumes written as files (ConfigMap, Secret and projected volumes with their items and modes, emptyDir as tmpfs, a
 * claim as a directory of its own) and mounted at the manifest's {@code mountPath}s, its user and read-only root from
 * the security context, and the image's entrypoint in front of the manifest's {@code command}/{@code args}.
 * Whatever a pod refers to that the cluster does not hold (a Secret, a key, a ConfigMap) fails the pod as the
 * kubelet fails it ({@code CreateContainerConfigError}), unless the reference is {@code optional}.
 */
final class ContainerRuntime {
    private static final Pattern VAR = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_.-]*)\\)");

    private final ClusterObjects cluster;
    private final Images images;
    private final Path root;

    ContainerRuntime(ClusterObjects cluster, Images images, Path root) {
        this.cluster = cluster;
        this.images = images;
        this.root = root;
    }

    /** A pod the kubelet cannot start: the reason, in the kubelet's words where it has them. */
    static final class PodConfigError extends RuntimeException {
        PodConfigError(String message) {
            super(message);
        }
    }

    Launch launch(BoxPod pod, String hosts) {
        if (pod.spec().getContainers().size() != 1
                || (pod.spec().getInitContainers() != null
                        && !pod.spec().getInitContainers().isEmpty())) {
            throw new PodConfigError(pod.describe() + ": only pods of one container are modelled");
        }
        Container c = pod.container();
        Path dir = root.resolve(pod.namespace() + "_" + pod.name());
        Map<String, String> env = env(pod, c);
        List<Launch.Mount> mounts = new ArrayList<>();
        for (VolumeMount vm : Optional.ofNullable(c.getVolumeMounts()).orElse(List.of())) {
            Volume v = pod.spec().getVolumes().stream()
                    .filter(x -> x.getName().equals(vm.getName()))
                    .findFirst()
                    .orElseGet(() -> claimVolume(pod, vm.getName()));
            Optional<Path> source = volume(pod, v, dir.resolve("volumes").resolve(v.getName()));
            if (source.isEmpty()) {
                mounts.add(Launch.Mount.tmpfs(vm.getMountPath()));
            } else {
                Path from = vm.getSubPath() == null || vm.getSubPath().isEmpty()
                        ? source.get()
                        : source.get().resolve(vm.getSubPath());
                mounts.add(new Launch.Mount(from, vm.getMountPath(), Boolean.TRUE.equals(vm.getReadOnly())));
            }
        }
        PodSecurityContext podSc =
                Optional.ofNullable(pod.spec().getSecurityContext()).orElse(new PodSecurityContext());
        SecurityContext sc = Optional.ofNullable(c.getSecurityContext()).orElse(new SecurityContext());
        Long uid = sc.getRunAsUser() != null ? sc.getRunAsUser() : podSc.getRunAsUser();
        Long gid = sc.getRunAsGroup() != null ? sc.getRunAsGroup() : podSc.getRunAsGroup();
        Optional<String> user = uid == null ? Optional.empty() : Optional.of(uid + ":" + (gid == null ? uid : gid));
        if (podSc.getFsGroup() != null) {
            fsGroup(dir.resolve("volumes"), podSc.getFsGroup());
        }
        List<String> command = expand(Optional.ofNullable(c.getCommand()).orElse(List.of()), env);
        List<String> args = expand(Optional.ofNullable(c.getArgs()).orElse(List.of()), env);
        List<String> argv = images.argv(pod, c.getImage(), command, args, env);
        return new Launch(
                pod.name(),
                pod.netns(),
                mounts,
                hosts,
                Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem()),
                user,
                env,
                argv,
                dir);
    }

    private Volume claimVolume(BoxPod pod, String name) {
        // a StatefulSet's volumeClaimTemplates: a claim of its own per pod, here a directory
        Volume v = new Volume();
        v.setName(name);
        v.setPersistentVolumeClaim(
                new io.fabric8.kubernetes.api.model.PersistentVolumeClaimVolumeSource(name + "-" + pod.name(), false));
        return v;
    }

    Map<String, String> env(BoxPod pod, Container c) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : Optional.ofNullable(c.getEnv()).orElse(List.of())) {
            if (e.getValueFrom() == null) {
                env.put(e.getName(), expand(Optional.ofNullable(e.getValue()).orElse(""), env));
                continue;
            }
            var from = e.getValueFrom();
            if (from.getSecretKeyRef() != null) {
                var ref = from.getSecretKeyRef();
                Optional<String> value =
                        cluster.secret(pod.namespace(), ref.getName()).map(d -> d.get(ref.getKey()));
                if (value.isPresent()) {
                    env.put(e.getName(), value.get());
                } else if (!Boolean.TRUE.equals(ref.getOptional())) {
                    throw new PodConfigError(pod.describe() + ": CreateContainerConfigError: env " + e.getName()
                            + " needs key '" + ref.getKey() + "' of Secret " + ref.getName() + ", which "
                            + (cluster.secret(pod.namespace(), ref.getName()).isPresent()
                                    ? "lacks it"
                                    : "does not exist"));
                }
            } else if (from.getConfigMapKeyRef() != null) {
                var ref = from.getConfigMapKeyRef();
                Optional<String> value =
                        cluster.configMap(pod.namespace(), ref.getName()).map(d -> d.get(ref.getKey()));
                if (value.isPresent()) {
                    env.put(e.getName(), value.get());
                } else if (!Boolean.TRUE.equals(ref.getOptional())) {
                    throw new PodConfigError(pod.describe() + ": CreateContainerConfigError: env " + e.getName()
                            + " needs key '" + ref.getKey() + "' of ConfigMap " + ref.getName());
                }
            } else if (from.getFieldRef() != null) {
                String path = from.getFieldRef().getFieldPath();
                env.put(
                        e.getName(),
                        switch (path) {
                            case "metadata.name" -> pod.name();
                            case "metadata.namespace" -> pod.namespace();
                            case "status.podIP" -> pod.ip();
                            case "spec.serviceAccountName" ->
                                Optional.ofNullable(pod.spec().getServiceAccountName())
                                        .orElse("default");
                            default ->
                                throw new PodConfigError(pod.describe() + ": fieldRef " + path + " is not modelled");
                        });
            } else {
                throw new PodConfigError(pod.describe() + ": env " + e.getName() + ": valueFrom kind not modelled");
            }
        }
        if (c.getEnvFrom() != null && !c.getEnvFrom().isEmpty()) {
            throw new PodConfigError(pod.describe() + ": envFrom is not modelled");
        }
        return env;
    }

    /** The volume's files under {@code dir}; empty for an emptyDir (a tmpfs inside the pod). */
    private Optional<Path> volume(BoxPod pod, Volume v, Path dir) {
        try {
            if (v.getEmptyDir() != null) {
                return Optional.empty();
            }
            Files.createDirectories(dir);
            if (v.getPersistentVolumeClaim() != null) {
                return Optional.of(dir);
            }
            if (v.getConfigMap() != null) {
                var cm = v.getConfigMap();
                Map<String, String> data =
                        cluster.configMap(pod.namespace(), cm.getName()).orElse(null);
                if (data == null) {
                    if (Boolean.TRUE.equals(cm.getOptional())) {
                        return Optional.of(dir);
                    }
                    throw new PodConfigError(pod.describe() + ": volume " + v.getName() + ": ConfigMap " + cm.getName()
                            + " not found (FailedMount)");
                }
                write(
                        pod,
                        dir,
                        "ConfigMap " + cm.getName(),
                        data,
                        cm.getItems(),
                        mode(cm.getDefaultMode(), 0644),
                        false);
                return Optional.of(dir);
            }
            if (v.getSecret() != null) {
                var s = v.getSecret();
                Map<String, String> data =
                        cluster.secret(pod.namespace(), s.getSecretName()).orElse(null);
                if (data == null) {
                    if (Boolean.TRUE.equals(s.getOptional())) {
                        return Optional.of(dir);
                    }
                    throw new PodConfigError(pod.describe() + ": volume " + v.getName() + ": Secret "
                            + s.getSecretName() + " not found (FailedMount)");
                }
                write(
                        pod,
                        dir,
                        "Secret " + s.getSecretName(),
                        data,
                        s.getItems(),
                        mode(s.getDefaultMode(), 0644),
                        false);
                return Optional.of(dir);
            }
            if (v.getProjected() != null) {
                int mode = mode(v.getProjected().getDefaultMode(), 0644);
                for (VolumeProjection p : v.getProjected().getSources()) {
                    if (p.getSecret() != null) {
                        var s = p.getSecret();
                        Optional<Map<String, String>> data = cluster.secret(pod.namespace(), s.getName());
                        if (data.isEmpty() && !Boolean.TRUE.equals(s.getOptional())) {
                            throw new PodConfigError(pod.describe() + ": projected volume " + v.getName() + ": Secret "
                                    + s.getName() + " not found (FailedMount)");
                        }
                        data.ifPresent(d -> write(
                                pod,
                                dir,
                                "Secret " + s.getName(),
                                d,
                                s.getItems(),
                                mode,
                                Boolean.TRUE.equals(s.getOptional())));
                    } else if (p.getConfigMap() != null) {
                        var cm = p.getConfigMap();
                        Optional<Map<String, String>> data = cluster.configMap(pod.namespace(), cm.getName());
                        if (data.isEmpty() && !Boolean.TRUE.equals(cm.getOptional())) {
                            throw new PodConfigError(pod.describe() + ": projected volume " + v.getName()
                                    + ": ConfigMap " + cm.getName() + " not found (FailedMount)");
                        }
                        data.ifPresent(d -> write(
                                pod,
                                dir,
                                "ConfigMap " + cm.getName(),
                                d,
                                cm.getItems(),
                                mode,
                                Boolean.TRUE.equals(cm.getOptional())));
                    } else {
                        throw new PodConfigError(
                                pod.describe() + ": projected source of " + v.getName() + " is not modelled");
                    }
                }
                return Optional.of(dir);
            }
            throw new PodConfigError(pod.describe() + ": volume " + v.getName() + " of a kind not modelled");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int mode(Integer declared, int otherwise) {
        return declared == null ? otherwise : declared;
    }

    /** Writes the keys (all, or the listed items) as files; a listed key that is missing fails unless optional. */
    private static void write(
            BoxPod pod,
            Path dir,
            String what,
            Map<String, String> data,
            List<KeyToPath> items,
            int mode,
            boolean optional) {
        Map<String, String> files = new LinkedHashMap<>();
        Map<String, Integer> modes = new LinkedHashMap<>();
        if (items == null || items.isEmpty()) {
            data.forEach(files::put);
        } else {
            for (KeyToPath item : items) {
                String value = data.get(item.getKey());
                if (value == null) {
                    if (optional) {
                        continue;
                    }
                    throw new PodConfigError(
                            pod.describe() + ": " + what + " has no key '" + item.getKey() + "' (FailedMount)");
                }
                files.put(item.getPath(), value);
                if (item.getMode() != null) {
                    modes.put(item.getPath(), item.getMode());
                }
            }
        }
        try {
            for (Map.Entry<String, String> f : files.entrySet()) {
                Path file = dir.resolve(f.getKey());
                Files.createDirectories(file.getParent());
                Files.writeString(file, f.getValue(), StandardCharsets.UTF_8);
                Files.setPosixFilePermissions(
                        file, PosixFilePermissions.fromString(permissions(modes.getOrDefault(f.getKey(), mode))));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String permissions(int mode) {
        String all = "rwxrwxrwx";
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 9; i++) {
            s.append((mode & (1 << (8 - i))) != 0 ? all.charAt(i) : '-');
        }
        return s.toString();
    }

    /** fsGroup: every volume file group-owned by it, directories group-writable with setgid (kubelet's SetVolumeOwnership). */
    private static void fsGroup(Path volumes, long gid) {
        if (Files.isDirectory(volumes)) {
            Shell.run("chgrp", "-R", Long.toString(gid), volumes.toString());
            Shell.run("find", volumes.toString(), "-type", "d", "-exec", "chmod", "g+rwxs", "{}", "+");
        }
    }

    static String expand(String value, Map<String, String> env) {
        Matcher m = VAR.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = env.containsKey(m.group(1)) ? env.get(m.group(1)) : m.group();
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    static List<String> expand(List<String> values, Map<String, String> env) {
        return values.stream().map(v -> expand(v, env)).toList();
    }
}
