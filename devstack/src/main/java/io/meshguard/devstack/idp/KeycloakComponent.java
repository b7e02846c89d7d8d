package io.meshguard.devstack.idp;

import io.meshguard.cli.idp.LocalRealm;
import io.meshguard.cli.idp.UpIdp;
import io.meshguard.runtime.keycloak.LocalKeycloak;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Keycloak of {@code meshguard up --idp keycloak}: {@link LocalKeycloak} on 127.0.0.1 with the {@link LocalRealm}
 * imported. The distribution is unpacked once under the cache directory; the server's log and pid file live in
 * {@code DATA_DIR/keycloak}, and a server left by a killed {@code up} is stopped before this one starts.
 */
public final class KeycloakComponent implements ServerComponent {
    private static final Logger LOG = LoggerFactory.getLogger(KeycloakComponent.class);
    // the first start after an unpack runs Quarkus's build step (a minute or more on a busy machine)
    private static final Duration START_TIMEOUT = Duration.ofMinutes(5);

    private final Path workDir;
    private final Path cacheDir;
    private final int port;
    private final LocalRealm realm;
    private LocalKeycloak keycloak;

    /**
     * @param workDir {@code DATA_DIR/keycloak}
     * @param cacheDir where the distribution is unpacked once ({@link #defaultCacheDir})
     * @param port {@code --keycloak-port} (0: a free one)
     * @param realm the realm to import
     */
    public KeycloakComponent(Path workDir, Path cacheDir, int port, LocalRealm realm) {
        this.workDir = workDir;
        this.cacheDir = cacheDir;
        this.port = port;
        this.realm = realm;
    }

    /** {@code MESHGUARD_CACHE_DIR}, else {@code $XDG_CACHE_HOME/meshguard}, else {@code ~/.cache/meshguard}. */
    public static Path defaultCacheDir(Map<String, String> env) {
        String own = env.getOrDefault("MESHGUARD_CACHE_DIR", "");
        if (!own.isBlank()) {
            return Path.of(own);
        }
        String xdg = env.getOrDefault("XDG_CACHE_HOME", "");
        return (xdg.isBlank() ? Path.of(System.getProperty("user.home"), ".cache") : Path.of(xdg)).resolve("meshguard");
    }

    /** Stops a Keycloak an {@code up} that was killed left in {@code workDir}; before the port check. */
    public static void stopOrphan(Path workDir) throws IOException {
        LocalKeycloak.stopOrphan(workDir);
    }

    @Override
    public String name() {
        return "keycloak";
    }

    @Override
    public void start() throws Exception {
        if (port != 0) {
            try (ServerSocket probe = new ServerSocket()) {
                probe.bind(new InetSocketAddress("127.0.0.1", port));
            } catch (IOException e) {
                throw new IOException(
                        "--keycloak-port " + port + " is in use on 127.0.0.1: stop what holds it or "
                                + "pass another port (0 picks a free one)",
                        e);
            }
        }
        Path home = LocalKeycloak.distribution(cacheDir);
        LOG.info("starting Keycloak {} from {} (log {})", LocalKeycloak.VERSION, home, workDir.resolve("keycloak.log"));
        keycloak = LocalKeycloak.start(home, port, workDir, START_TIMEOUT);
        keycloak.importRealm(realm.toJson());
    }

    /** What up.json says about it; only after {@link #start}. */
    public UpIdp state() {
        return new UpIdp(
                "keycloak",
                keycloak.baseUrl(),
                keycloak.pid(),
                issuer(),
                realm.audience(),
                realm.cliClient(),
                realm.consoleClient(),
                realm.consoleSecret(),
                UpIdp.LOCAL_ONLY,
                realm.users());
    }

    /** The realm's issuer; only after {@link #start}. */
    public String issuer() {
        return keycloak.issuer(realm.name());
    }

    public String baseUrl() {
        return keycloak.baseUrl();
    }

    @Override
    public void close() {
        if (keycloak != null) {
            keycloak.close();
        }
    }
}
