package io.meshguard.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.meshguard.db.DbConfig;
import io.meshguard.dlp.server.DlpServerSettings;
import io.meshguard.runtime.config.ConfigKey;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What a meshguard server reads, taken from the server code itself: its {@link ConfigSchema} (keys, environment
 * variables, defaults), so the manifests are checked against the real names. A renamed key or a changed
 * default port breaks the tests that use this.
 *
 * @param deployment Kubernetes Deployment name
 * @param composeService deploy/local service name
 * @param subcommand {@code meshguard} subcommand that runs the server
 * @param schema the keys the server understands
 * @param complete true when {@code schema} is the server's whole schema; false while only the shared groups
 *     (gRPC, HTTP, database) are known, in which case variables of other groups are reported, not checked
 * @param policy the key naming the server's policy file, whose default names the file in {@code policies/}
 */
record ServerContract(String deployment, String composeService, String subcommand, ConfigSchema schema,
        boolean complete, Optional<ConfigKey<Path>> policy) {

    /** The three servers, each with the schema its code declares. */
    static List<ServerContract> all() {
        return List.of(
                shared("meshguard-extauthz", "extauthz", "extauthz", 9001, 9101),
                new ServerContract("meshguard-dlp", "dlp", "dlp", DlpServerSettings.schema(), true,
                        Optional.of(DlpServerSettings.POLICY)),
                shared("meshguard-xds", "xds", "xds", 18000, 9103));
    }

    static ServerContract forDeployment(String name) {
        return all().stream().filter(s -> s.deployment().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no server contract for " + name));
    }

    /** The groups every server shares, with its default ports (DESIGN.md's port table). */
    private static ServerContract shared(String deployment, String service, String subcommand, int grpcPort,
            int httpPort) {
        ConfigSchema schema = ConfigSchema.builder()
                .add(GrpcServerSettings.configGroup(grpcPort))
                .add(HttpServerSettings.configGroup(httpPort))
                .add(new DbConfig(deployment))
                .build();
        return new ServerContract(deployment, service, subcommand, schema, false, Optional.empty());
    }

    /** Key of {@code env}, if the schema has one. */
    Optional<ConfigKey<?>> keyForEnv(String env) {
        return schema.keys().stream().filter(k -> k.envVar().equals(env)).findFirst();
    }

    /** Top-level groups the schema covers ({@code grpc}, {@code http}, {@code db}, …). */
    Set<String> groups() {
        return schema.names().stream().map(n -> n.substring(0, n.indexOf('.') < 0 ? n.length() : n.indexOf('.')))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** True when the schema can judge {@code env}: the whole schema is known, or the variable's group is. */
    boolean covers(String env) {
        if (complete) {
            return true;
        }
        String rest = env.substring(ConfigKey.ENV_PREFIX.length()).toLowerCase(Locale.ROOT);
        return groups().stream().anyMatch(g -> rest.equals(g) || rest.startsWith(g + "_"));
    }

    /** The value a container sets for a key, or the key's default. */
    <T> T value(Container container, ConfigKey<T> key) {
        return env(container, key.envVar()).map(text -> key.type().parse(text)).orElse(key.defaultValue());
    }

    int grpcPort(Container container) {
        return value(container, (ConfigKey<Integer>) schema.find("grpc.port").orElseThrow());
    }

    int httpPort(Container container) {
        return value(container, (ConfigKey<Integer>) schema.find("http.port").orElseThrow());
    }

    static Duration drainTimeout(ServerContract server, Container container) {
        return server.value(container, GrpcServerSettings.DRAIN_TIMEOUT);
    }

    static Duration shutdownTimeout(ServerContract server, Container container) {
        return server.value(container, GrpcServerSettings.SHUTDOWN_TIMEOUT);
    }

    static Optional<String> env(Container container, String name) {
        return Optional.ofNullable(container.getEnv()).orElse(List.of()).stream()
                .filter(e -> e.getName().equals(name)).map(EnvVar::getValue).filter(v -> v != null).findFirst();
    }

    /** Every {@code MESHGUARD_*} variable a container sets (plain or from a Secret). */
    static Set<String> meshguardEnv(Container container) {
        return Optional.ofNullable(container.getEnv()).orElse(List.of()).stream().map(EnvVar::getName)
                .filter(n -> n.startsWith(ConfigKey.ENV_PREFIX)).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Every {@code MESHGUARD_*} variable of a compose service's environment map. */
    static Set<String> meshguardEnv(Map<String, String> environment) {
        return environment.keySet().stream().filter(n -> n.startsWith(ConfigKey.ENV_PREFIX))
                .collect(Collectors.toCollection(TreeSet::new));
    }
}
