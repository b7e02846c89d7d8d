package io.meshguard.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.meshguard.access.AdminAccessSettings;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.db.DbConfig;
import io.meshguard.dlpserver.DlpServerSettings;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.runtime.config.ConfigKey;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.xds.XdsSettings;
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
 * @param deployment name of the Kubernetes Deployment or StatefulSet
 * @param composeService deploy/local service name
 * @param subcommand {@code meshguard} subcommand that runs the server
 * @param schema the keys the server understands
 * @param complete true when {@code schema} is the server's whole schema; false while only the shared groups
 *     (gRPC, HTTP, database) are known, in which case variables of other groups are reported, not checked
 * @param policy the key naming the server's policy file, whose default names the file in {@code policies/}
 * @param grpcPortKey the key of the port Envoy calls (ext_authz, ext_proc or ADS)
 * @param stopKeys the timeouts a graceful stop can take, one after the other
 */
record ServerContract(
        String deployment,
        String composeService,
        String subcommand,
        ConfigSchema schema,
        boolean complete,
        Optional<ConfigKey<Path>> policy,
        ConfigKey<Integer> grpcPortKey,
        List<ConfigKey<Duration>> stopKeys) {

    /**
     * A server's schema as {@code meshguard extauthz|dlp} loads it: the server's own keys plus the audit writer's
     * {@code audit.*} keys and, where missing, {@code db.*} (the CLI's {@code ServerAudit.withAuditKeys}; the CLI
     * jar is shaded, so the composition is repeated here from the same groups).
     */
    static ConfigSchema withAuditKeys(ConfigSchema server) {
        ConfigSchema.Builder schema =
                ConfigSchema.builder().addAll(server.keys()).add(AuditConfig.configGroup());
        if (server.find(DbConfig.URL.name()).isEmpty()) {
            schema.add(new DbConfig("meshguard"));
        }
        return schema.build();
    }

    /** The three servers, each with the schema its code declares. */
    static List<ServerContract> all() {
        ConfigSchema dlp = withAuditKeys(DlpServerSettings.schema());
        // As meshguard xds loads it (the CLI's XdsCommand.schema(), repeated here from the same groups).
        ConfigSchema xds = ConfigSchema.builder()
                .add(XdsSettings.configGroup())
                .add(HttpServerSettings.configGroup(XdsSettings.DEFAULT_HTTP_PORT))
                .add(new DbConfig("meshguard-xds"))
                .add(AuditConfig.configGroup())
                .add(AdminAccessSettings.configGroup())
                .add(io.meshguard.catalog.api.CatalogSettings.configGroup())
                .add(io.meshguard.xds.zone.ZoneConfig.hub())
                .add(io.meshguard.console.ConsoleConfig.configGroup())
                .add(io.meshguard.audit.trail.TrailCheckpointSettings.configGroup())
                .build();
        ConfigSchema extauthz = withAuditKeys(ExtAuthzConfig.SCHEMA);
        return List.of(
                new ServerContract(
                        "meshguard-extauthz",
                        "extauthz",
                        "extauthz",
                        extauthz,
                        true,
                        Optional.of(ExtAuthzConfig.POLICY_FILE),
                        portKey(extauthz, "grpc.port"),
                        GRPC_STOP),
                new ServerContract(
                        "meshguard-dlp",
                        "dlp",
                        "dlp",
                        dlp,
                        true,
                        Optional.of(DlpServerSettings.POLICY),
                        portKey(dlp, "grpc.port"),
                        GRPC_STOP),
                new ServerContract(
                        "meshguard-xds",
                        "xds",
                        "xds",
                        xds,
                        true,
                        Optional.empty(),
                        XdsSettings.ADS_PORT,
                        List.of(XdsSettings.DRAIN_TIMEOUT)));
    }

    private static final List<ConfigKey<Duration>> GRPC_STOP =
            List.of(GrpcServerSettings.DRAIN_TIMEOUT, GrpcServerSettings.SHUTDOWN_TIMEOUT);

    @SuppressWarnings("unchecked")
    private static ConfigKey<Integer> portKey(ConfigSchema schema, String name) {
        return (ConfigKey<Integer>) schema.find(name).orElseThrow(() -> new AssertionError("no key " + name));
    }

    /**
     * The controller in zone mode, {@code meshguard zone} of a zone's cluster (manifests/istio/zone): its schema as
     * the CLI's ZoneCommand.schema() composes it, repeated here from the same groups. Not one of {@link #all()}: the
     * default install does not run it.
     */
    static ServerContract zone() {
        ConfigSchema zone = ConfigSchema.builder()
                .add(XdsSettings.configGroup())
                .add(HttpServerSettings.configGroup(XdsSettings.DEFAULT_HTTP_PORT))
                .add(io.meshguard.xds.zone.ZoneConfig.zone())
                .build();
        return new ServerContract(
                "meshguard-xds-zone",
                "",
                "zone",
                zone,
                true,
                Optional.empty(),
                XdsSettings.ADS_PORT,
                List.of(XdsSettings.DRAIN_TIMEOUT));
    }

    static ServerContract forDeployment(String name) {
        return all().stream()
                .filter(s -> s.deployment().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no server contract for " + name));
    }

    /** Key of {@code env}, if the schema has one. */
    Optional<ConfigKey<?>> keyForEnv(String env) {
        return schema.keys().stream().filter(k -> k.envVar().equals(env)).findFirst();
    }

    /** The shared groups whose every key is known from the code, even when the server's own schema is not. */
    private static final Set<String> SHARED_GROUPS = Set.of("grpc", "http", "db");

    /**
     * True when the schema can judge {@code env}: the whole schema is known, the variable is one of its keys, or
     * it belongs to a shared group the schema includes.
     */
    boolean covers(String env) {
        if (complete || keyForEnv(env).isPresent()) {
            return true;
        }
        String rest = env.substring(ConfigKey.ENV_PREFIX.length()).toLowerCase(Locale.ROOT);
        return SHARED_GROUPS.stream()
                .filter(g -> schema.names().stream().anyMatch(n -> n.startsWith(g + ".")))
                .anyMatch(g -> rest.startsWith(g + "_"));
    }

    /** The value a container sets for a key, or the key's default. */
    <T> T value(Container container, ConfigKey<T> key) {
        return env(container, key.envVar()).map(text -> key.type().parse(text)).orElse(key.defaultValue());
    }

    int grpcPort(Container container) {
        return value(container, grpcPortKey);
    }

    int httpPort(Container container) {
        return value(container, portKey(schema, "http.port"));
    }

    /** The longest a graceful stop of this container can take. */
    Duration stopWindow(Container container) {
        return stopKeys.stream().map(k -> value(container, k)).reduce(Duration.ZERO, Duration::plus);
    }

    /** The environment variables of the stop timeouts (tuned in the cluster only). */
    Set<String> stopEnv() {
        return stopKeys.stream().map(ConfigKey::envVar).collect(Collectors.toCollection(TreeSet::new));
    }

    static Optional<String> env(Container container, String name) {
        return Optional.ofNullable(container.getEnv()).orElse(List.of()).stream()
                .filter(e -> e.getName().equals(name))
                .map(EnvVar::getValue)
                .filter(v -> v != null)
                .findFirst();
    }

    /** Every {@code MESHGUARD_*} variable a container sets (plain or from a Secret). */
    static Set<String> meshguardEnv(Container container) {
        return Optional.ofNullable(container.getEnv()).orElse(List.of()).stream()
                .map(EnvVar::getName)
                .filter(n -> n.startsWith(ConfigKey.ENV_PREFIX))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Every {@code MESHGUARD_*} variable of a compose service's environment map. */
    static Set<String> meshguardEnv(Map<String, String> environment) {
        return environment.keySet().stream()
                .filter(n -> n.startsWith(ConfigKey.ENV_PREFIX))
                .collect(Collectors.toCollection(TreeSet::new));
    }
}
