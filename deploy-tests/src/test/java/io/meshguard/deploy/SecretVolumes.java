package io.meshguard.deploy;

import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The files a Secret or projected volume puts into a container, and which Secret key each comes from. */
final class SecretVolumes {
    /** One file: the Secret and the key it is read from. */
    record SecretFile(String secret, String key) {}

    private SecretVolumes() {}

    /** Path inside the volume → its Secret and key (only items listed explicitly: meshguard always lists them). */
    static Map<String, SecretFile> files(Volume volume) {
        Map<String, SecretFile> files = new TreeMap<>();
        if (volume.getSecret() != null) {
            add(files, volume.getSecret().getSecretName(), volume.getSecret().getItems());
        }
        if (volume.getProjected() != null) {
            volume.getProjected().getSources().stream()
                    .filter(s -> s.getSecret() != null)
                    .forEach(s ->
                            add(files, s.getSecret().getName(), s.getSecret().getItems()));
        }
        return files;
    }

    private static void add(Map<String, SecretFile> files, String secret, List<KeyToPath> items) {
        Optional.ofNullable(items)
                .orElse(List.of())
                .forEach(i -> files.put(i.getPath(), new SecretFile(secret, i.getKey())));
    }
}
