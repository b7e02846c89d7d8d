package io.meshguard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * What a running {@code meshguard up} tells other commands about itself, in {@code DATA_DIR/up.json}: its
 * process, the status URL and the database, so that e.g. {@code meshguard audit query} finds the database
 * without flags. Written when the stack is ready, deleted when it stops.
 *
 * @param pid process id of the {@code up} JVM
 * @param postgresPid process id of its PostgreSQL server, which runs detached (pg_ctl) and must stop with it
 * @param statusUrl base URL of the combined {@code /readyz}, {@code /healthz}, {@code /metrics}
 * @param jdbcUrl the local database
 * @param dbUser its user
 * @param dbPasswordFile file holding that user's password (readable by the owner only)
 * @param endpoints what listens where, one line each
 */
public record UpState(
        long pid, long postgresPid, String statusUrl, String jdbcUrl, String dbUser, String dbPasswordFile, List<String> endpoints) {

    /** Name of the file in the data directory. */
    public static final String FILE_NAME = "up.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes the state atomically (write to a temporary file, then rename). */
    void writeTo(Path dataDir) throws IOException {
        Path tmp = dataDir.resolve(FILE_NAME + ".tmp");
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), this);
        Files.move(tmp, dataDir.resolve(FILE_NAME), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The state of the {@code up} running on {@code dataDir}, if one is running: a file left by a process that
     * is gone is ignored.
     */
    public static Optional<UpState> readRunning(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        UpState state = JSON.readValue(file.toFile(), UpState.class);
        boolean alive = ProcessHandle.of(state.pid()).map(ProcessHandle::isAlive).orElse(false);
        return alive ? Optional.of(state) : Optional.empty();
    }

    /** The database password, read from {@link #dbPasswordFile()}. */
    public String dbPassword() throws IOException {
        return Files.readString(Path.of(dbPasswordFile())).strip();
    }
}
