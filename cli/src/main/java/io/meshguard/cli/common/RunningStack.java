package io.meshguard.cli.common;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@code meshguard up} running on a data directory, as every command that talks to it finds it: through
 * {@code DATA_DIR/up.json} ({@link UpState}), never through well-known ports, so that a command given
 * {@code --data-dir B} talks to stack B even when stack A holds the default ports. Database credentials, the xDS
 * admin token and each listener's port come from the same place.
 */
public final class RunningStack {
    /** Port names in {@link UpState#ports()}. */
    public static final String STATUS = "status";

    public static final String POSTGRES = "postgres";
    public static final String EXTAUTHZ = "extauthz";
    public static final String DLP = "dlp";
    public static final String ACCESS_LOG = "als";
    public static final String ADS = "ads";
    public static final String XDS_ADMIN = "xds-admin";
    public static final String DEV_JWKS = "dev-jwks";
    /** Central's zone port ({@code --zone-hub-port}). */
    public static final String ZONE_HUB = "zone-hub";
    /** {@code up}'s own Redis (absent with {@code --redis none} or an external Redis). */
    public static final String REDIS = "redis";
    /** File names in {@link UpState#files()}. */
    public static final String XDS_ADMIN_TOKEN = "xds-admin-token";
    /** Plain {@code up}'s second person on the admin plane (actor {@code approver}), for four eyes. */
    public static final String XDS_APPROVER_TOKEN = "xds-approver-token";
    /** The password of {@code up}'s own Redis. */
    public static final String REDIS_PASSWORD = "redis-password";

    private final Path dataDir;
    private final UpState state;

    private RunningStack(Path dataDir, UpState state) {
        this.dataDir = dataDir;
        this.state = state;
    }

    /** The stack running on {@code dataDir}, if one runs. */
    public static Optional<RunningStack> find(Path dataDir) throws IOException {
        Path dir = dataDir.toAbsolutePath().normalize();
        return UpState.readRunning(dir).map(state -> new RunningStack(dir, state));
    }

    /**
     * The stack running on {@code dataDir}.
     *
     * @throws IllegalStateException when none runs there, saying where it looked and what to do
     */
    public static RunningStack require(Path dataDir) throws IOException {
        return find(dataDir).orElseThrow(() -> new IllegalStateException(notRunning(dataDir)));
    }

    /** The one-line explanation when no stack runs on {@code dataDir}. */
    public static String notRunning(Path dataDir) {
        Path file = dataDir.toAbsolutePath().normalize().resolve(UpState.FILE_NAME);
        return "no running `meshguard up` found (looked for " + file + "); start one with `./meshguard up`, or pass"
                + " --data-dir DIR of the one you started";
    }

    public Path dataDir() {
        return dataDir;
    }

    public UpState state() {
        return state;
    }

    /** The port of the listener {@code name} on 127.0.0.1. */
    public int port(String name) {
        Integer port = state.ports().get(name);
        if (port == null) {
            throw new IllegalStateException("the `meshguard up` on " + dataDir + " runs no " + name
                    + " listener (it lists " + state.ports().keySet() + ")");
        }
        return port;
    }

    /** {@code 127.0.0.1:PORT} of the listener {@code name}, as a gRPC target. */
    public String target(String name) {
        return "127.0.0.1:" + port(name);
    }

    /** Base URL of the xDS controller's admin API. */
    public String xdsAdminUrl() {
        return "http://127.0.0.1:" + port(XDS_ADMIN);
    }

    /** The file holding the admin API's bearer token. */
    public Path xdsAdminTokenFile() {
        String file = state.files().get(XDS_ADMIN_TOKEN);
        if (file == null) {
            throw new IllegalStateException("the `meshguard up` on " + dataDir + " names no xDS admin token file");
        }
        return Path.of(file);
    }

    /** The Redis the stack's extauthz uses (no password in it); empty when it runs without one. */
    public java.util.Optional<String> redisUrl() {
        return state.redisUrl().isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(state.redisUrl());
    }

    /** The file holding the password of {@code up}'s own Redis, when it runs one. */
    public java.util.Optional<Path> redisPasswordFile() {
        return java.util.Optional.ofNullable(state.files().get(REDIS_PASSWORD)).map(Path::of);
    }

    /**
     * The Redis the stack's extauthz counts in, as a client reaches it: URL, password (from its file) and key
     * prefix; empty when the stack runs without Redis.
     */
    public java.util.Optional<io.meshguard.extauthz.redis.RedisSettings> redisSettings() throws IOException {
        if (redisUrl().isEmpty()) {
            return java.util.Optional.empty();
        }
        String password = redisPasswordFile().isPresent()
                ? Files.readString(redisPasswordFile().get(), StandardCharsets.UTF_8)
                        .strip()
                : "";
        io.meshguard.extauthz.redis.RedisSettings none = io.meshguard.extauthz.redis.RedisSettings.none();
        return java.util.Optional.of(new io.meshguard.extauthz.redis.RedisSettings(
                state.redisUrl(),
                password,
                java.util.Optional.empty(),
                none.connectTimeout(),
                none.commandTimeout(),
                state.redisKeyPrefix()));
    }

    public String jdbcUrl() {
        return state.jdbcUrl();
    }

    public String dbUser() {
        return state.dbUser();
    }

    public String dbPassword() throws IOException {
        return Files.readString(Path.of(state.dbPasswordFile()), StandardCharsets.UTF_8)
                .strip();
    }
}
