package io.meshguard.deploy;

import io.fabric8.kubernetes.api.model.ConfigMapVolumeSource;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code redis.conf} a Redis container is started with ({@code redis-server <path>} in its command), read from the
 * ConfigMap mounted at that path: directive → value (last one wins, as in Redis).
 *
 * @param path where the container reads it
 * @param directives every directive of the file
 */
record RedisConf(String path, Map<String, String> directives) {
    private static final Pattern START = Pattern.compile("redis-server\\s+(/\\S+)");

    /** The file the container starts Redis with. */
    static RedisConf of(Workload workload, Container c, Function<String, Optional<Map<String, String>>> configMapData) {
        List<String> words = new ArrayList<>(Optional.ofNullable(c.getCommand()).orElse(List.of()));
        words.addAll(Optional.ofNullable(c.getArgs()).orElse(List.of()));
        Matcher m = START.matcher(String.join(" ", words));
        if (!m.find()) {
            throw new ManifestException(c.getName() + " does not start redis-server with a config file");
        }
        String path = m.group(1);
        VolumeMount mount = c.getVolumeMounts().stream()
                .filter(v -> path.startsWith(v.getMountPath() + "/"))
                .findFirst()
                .orElseThrow(() -> new ManifestException("no volume mounted above " + path));
        ConfigMapVolumeSource source = workload.template().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(mount.getName()))
                .map(Volume::getConfigMap)
                .filter(s -> s != null)
                .findFirst()
                .orElseThrow(() -> new ManifestException("volume " + mount.getName() + " is not a ConfigMap"));
        String key = path.substring(mount.getMountPath().length() + 1);
        String text = configMapData
                .apply(source.getName())
                .map(d -> d.get(key))
                .orElseThrow(() -> new ManifestException("ConfigMap " + source.getName() + " has no " + key));
        return new RedisConf(path, parse(text));
    }

    static Map<String, String> parse(String text) {
        Map<String, String> directives = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] parts = l.split("\\s+", 2);
            directives.put(parts[0].toLowerCase(java.util.Locale.ROOT), parts.length > 1 ? parts[1] : "");
        }
        return directives;
    }

    int port() {
        return Integer.parseInt(directives.getOrDefault("port", "6379"));
    }

    /** Redis's default without a {@code bind} line is every address. */
    String bind() {
        return directives.getOrDefault("bind", "*");
    }

    Optional<String> get(String directive) {
        return Optional.ofNullable(directives.get(directive));
    }
}
