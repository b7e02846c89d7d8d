package io.meshguard.xds.zone;

import io.meshguard.envoygateway.apply.DriftMode;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The configuration keys of zone mode: {@code xds.zone_hub.*} on central (the port zones dial), {@code zone.*} on a
 * zone controller (whom it follows, with what, where it keeps its state). A zone also reads the {@code xds.ads.*}
 * and filter-target keys: it is an xDS controller.
 */
public final class ZoneConfig {
    private ZoneConfig() {}

    /** Central's zone port, when it has one. */
    public record Hub(String bind, int port, ZoneHubSettings settings, Duration credentialLifetime) {}

    public static final ConfigKey<Boolean> HUB_ENABLED = ConfigKey.bool(
            "xds.zone_hub.enabled",
            false,
            "Open the zone port: zone controllers in other clusters dial it to follow this controller.");
    public static final ConfigKey<String> HUB_BIND =
            ConfigKey.string("xds.zone_hub.bind", "0.0.0.0", "Address the zone port binds to.");
    public static final ConfigKey<Integer> HUB_PORT = ConfigKey.integer(
            "xds.zone_hub.port",
            18001,
            0,
            65535,
            "The zone port (gRPC, one stream per zone). Put TLS in front of it (the controller's sidecar or ingress).");
    public static final ConfigKey<Duration> HUB_ECHO_INTERVAL = ConfigKey.duration(
            "xds.zone_hub.echo_interval",
            Duration.ofSeconds(5),
            "How often zones echo; a zone stream without an echo for three intervals is stale"
                    + " and closed. Zones must echo at least this often (zone.echo_interval).");
    public static final ConfigKey<Duration> HUB_CREDENTIAL_LIFETIME = ConfigKey.duration(
            "xds.zone_hub.credential_lifetime",
            Duration.ofHours(1),
            "How long a zone credential lives (at most 1h);"
                    + " rotated over the zone's stream at half its lifetime. The first hello with the successor ends every"
                    + " older credential of the zone replica, and each replica has one live stream: a second hello of it"
                    + " (on any central replica) closes the first, logged at WARN (V63, per replica since V67).");

    public static ConfigGroup<Optional<Hub>> hub() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(HUB_ENABLED, HUB_BIND, HUB_PORT, HUB_ECHO_INTERVAL, HUB_CREDENTIAL_LIFETIME);
            }

            @Override
            public Optional<Hub> read(Config config) {
                if (!config.get(HUB_ENABLED)) {
                    return Optional.empty();
                }
                return Optional.of(new Hub(
                        config.get(HUB_BIND),
                        config.get(HUB_PORT),
                        new ZoneHubSettings(config.get(HUB_ECHO_INTERVAL), ZoneHubSettings.DEFAULTS.tick()),
                        config.get(HUB_CREDENTIAL_LIFETIME)));
            }
        };
    }

    public static final ConfigKey<String> CLUSTER = ConfigKey.string(
            "zone.cluster", "", "The cluster id this zone was registered for (meshguard cluster register --name).");
    public static final ConfigKey<String> CENTRAL = ConfigKey.string(
            "zone.central", "", "Central's zone port as host:port; the zone dials out, nothing dials in.");
    public static final ConfigKey<Optional<Path>> TOKEN_FILE = ConfigKey.optionalPath(
            "zone.registration_token_file",
            "File holding the one-time registration token; read only until the zone holds a credential. A file named"
                    + " after the replica beside it (for a pair: one Secret key per pod name) is read first: each"
                    + " replica registers with a token of its own.");
    public static final ConfigKey<String> REPLICA = ConfigKey.string(
            "zone.replica",
            "",
            "Which of the cluster's zone replicas this is; empty: the host name (a StatefulSet pod's name). Each"
                    + " replica has its own credential, stream and row in the fleet; keep it stable across restarts.");
    public static final ConfigKey<Path> STATE_DIR = ConfigKey.path(
            "zone.state_dir",
            Path.of("/var/lib/meshguard/zone"),
            "Where the zone keeps the revisions it serves and its credential (a persistent volume).");
    public static final ConfigKey<Duration> ECHO_INTERVAL = ConfigKey.duration(
            "zone.echo_interval",
            Duration.ofSeconds(5),
            "How often the zone echoes what it applied (no longer than central's).");
    public static final ConfigKey<Boolean> PLAINTEXT =
            ConfigKey.bool("zone.plaintext", false, "Dial central without TLS: loopback and local development only.");

    public static final ConfigKey<Optional<Path>> CENTRAL_CA_FILE = ConfigKey.optionalPath(
            "zone.central_ca_file",
            "PEM certificates trusted for central's TLS instead of the JDK's trust store: the bank's own CA when its"
                    + " certificate in front of central's zone port is not publicly trusted (optional Secret"
                    + " meshguard-central-ca in the zone manifests). A file that does not exist leaves the JDK's.");

    public static final ConfigKey<String> ENVOY_GATEWAY_DRIFT = ConfigKey.string(
            "zone.envoy_gateway.drift",
            "correct",
            "What the zone does with a hand edit of a resource it applied for an envoy-gateway group"
                    + " (template kind envoy-gateway, docs/envoy-gateway.md): correct (re-apply the render with"
                    + " server-side apply, forcing the fields back; counted and logged) or report (leave it, log it and"
                    + " show it on the resource in the fleet view; applies then never force, so a field another"
                    + " manager took is a reported conflict).");
    public static final ConfigKey<Duration> ENVOY_GATEWAY_INTERVAL = ConfigKey.duration(
            "zone.envoy_gateway.interval",
            Duration.ofSeconds(30),
            "How often the zone reads back the status of its Envoy Gateway resources and looks for hand edits.");

    /** How the zone keeps its envoy-gateway groups' resources (docs/envoy-gateway.md). */
    public record EnvoyGateway(DriftMode drift, Duration interval) {}

    /** The {@code zone.envoy_gateway.*} keys of a loaded configuration (listed among {@link #zone()}'s keys). */
    public static EnvoyGateway envoyGateway(Config config) {
        return new EnvoyGateway(DriftMode.parse(config.get(ENVOY_GATEWAY_DRIFT)), config.get(ENVOY_GATEWAY_INTERVAL));
    }

    public static ConfigGroup<ZoneSettings> zone() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(
                        CLUSTER,
                        CENTRAL,
                        TOKEN_FILE,
                        REPLICA,
                        STATE_DIR,
                        ECHO_INTERVAL,
                        PLAINTEXT,
                        CENTRAL_CA_FILE,
                        ENVOY_GATEWAY_DRIFT,
                        ENVOY_GATEWAY_INTERVAL);
            }

            @Override
            public ZoneSettings read(Config config) {
                if (config.get(CLUSTER).isBlank() || config.get(CENTRAL).isBlank()) {
                    throw new IllegalArgumentException(
                            CLUSTER.name() + " and " + CENTRAL.name() + " are required in zone mode");
                }
                String replica = config.get(REPLICA).isBlank()
                        ? hostName()
                        : config.get(REPLICA).strip();
                Optional<String> token = config.get(TOKEN_FILE)
                        .flatMap(file -> tokenFile(file, replica))
                        .map(ZoneConfig::read);
                return new ZoneSettings(
                        config.get(CLUSTER),
                        config.get(CENTRAL),
                        token,
                        config.get(STATE_DIR),
                        config.get(ECHO_INTERVAL),
                        ZoneSettings.MIN_BACKOFF,
                        ZoneSettings.MAX_BACKOFF,
                        config.get(PLAINTEXT),
                        replica,
                        config.get(CENTRAL_CA_FILE).filter(Files::exists));
            }
        };
    }

    /** The replica's own token beside {@code file} when there is one, else {@code file}, when it exists. */
    static Optional<Path> tokenFile(Path file, String replica) {
        Path own = file.resolveSibling(replica);
        if (replica.matches("[A-Za-z0-9][A-Za-z0-9._-]*") && !own.equals(file) && Files.isRegularFile(own)) {
            return Optional.of(own);
        }
        return Optional.of(file).filter(Files::exists);
    }

    /** Kubernetes sets HOSTNAME to the pod's name. */
    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "";
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
