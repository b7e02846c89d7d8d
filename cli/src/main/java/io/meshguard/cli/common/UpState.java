package io.meshguard.cli.common;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.cli.idp.UpIdp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a running {@code meshguard up} tells other commands about itself, in {@code DATA_DIR/up.json}: its
 * process, the status URL, the database, every port it listens on and the files holding its local secrets. Written
 * when the stack is ready, deleted when it stops. Commands read it through {@link RunningStack}.
 *
 * @param pid process id of the {@code up} JVM
 * @param postgresPid process id of its PostgreSQL server, which runs detached (pg_ctl) and must stop with it
 * @param statusUrl base URL of the combined {@code /readyz}, {@code /healthz}, {@code /metrics}
 * @param jdbcUrl the local database
 * @param dbUser its user
 * @param dbPasswordFile file holding that user's password (readable by the owner only)
 * @param ports port of each listener by name ({@link RunningStack#EXTAUTHZ}, {@link RunningStack#DLP} …), all on
 *     127.0.0.1 — the real ports, also where {@code 0} asked for any
 * @param files local files other commands need, by name ({@link RunningStack#XDS_ADMIN_TOKEN})
 * @param endpoints what listens where, one line each, as the banner printed it
 * @param redisUrl the Redis extauthz uses, without any password ({@code redis://127.0.0.1:PORT} for {@code up}'s
 *     own, whose password is the file {@link RunningStack#REDIS_PASSWORD}); empty with {@code --redis none}
 * @param redisPid process id of {@code up}'s own redis-server, which must stop with it; 0 when it runs none
 * @param redisKeyPrefix the prefix of every key extauthz writes there ({@code redis.key_prefix}), so a command that
 *     changes a live counter changes the one extauthz reads
 * @param idp the identity provider {@code up --idp keycloak} started: issuer, clients, demo users (local realm only);
 *     {@link UpIdp#none()} without {@code --idp}
 */
public record UpState(
        long pid,
        long postgresPid,
        String statusUrl,
        String jdbcUrl,
        String dbUser,
        String dbPasswordFile,
        Map<String, Integer> ports,
        Map<String, String> files,
        List<String> endpoints,
        String redisUrl,
        long redisPid,
        String redisKeyPrefix,
        UpIdp idp) {

    /** Name of the file in the data directory. */
    public static final String FILE_NAME = "up.json";

    // A newer up may add fields; an older CLI still finds what it knows.
    private static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public UpState {
        ports = ports == null ? Map.of() : Map.copyOf(ports);
        files = files == null ? Map.of() : Map.copyOf(files);
        endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
        redisUrl = redisUrl == null ? "" : redisUrl;
        // an up.json of an older up has none: it used the default
        redisKeyPrefix = redisKeyPrefix == null
                ? io.meshguard.extauthz.redis.RedisSettings.none().keyPrefix()
                : redisKeyPrefix;
        idp = idp == null ? UpIdp.none() : idp;
    }

    /**
     * Writes the state atomically (write to a temporary file, then rename); owner-only when it holds the local
     * realm's demo passwords.
     */
    public void writeTo(Path dataDir) throws IOException {
        Path tmp = dataDir.resolve(FILE_NAME + ".tmp");
        Files.deleteIfExists(tmp);
        if (!idp.users().isEmpty()) {
            try {
                Files.createFile(
                        tmp,
                        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException notPosix) {
                // not a POSIX file system: the directory's own rights apply
            }
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), this);
        Files.move(
                tmp, dataDir.resolve(FILE_NAME), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The state in {@code dataDir}, whether or not its process still runs. */
    public static Optional<UpState> read(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        return Optional.of(JSON.readValue(file.toFile(), UpState.class));
    }

    /**
     * The state of the {@code up} running on {@code dataDir}, if one is running: a file left by a process that
     * is gone is ignored.
     */
    public static Optional<UpState> readRunning(Path dataDir) throws IOException {
        return read(dataDir).filter(UpState::alive);
    }

    /** True while the {@code up} process that wrote this state runs. */
    public boolean alive() {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The database password, read from {@link #dbPasswordFile()}. */
    public String dbPassword() throws IOException {
        return Files.readString(Path.of(dbPasswordFile())).strip();
    }
}
