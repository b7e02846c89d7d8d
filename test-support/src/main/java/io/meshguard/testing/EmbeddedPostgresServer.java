package io.meshguard.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * PostgreSQL from zonky's binaries on Maven Central, for machines without Docker. Throwaway: fsync
 * and synchronous commit stay off (zonky's defaults), which is what makes it quick.
 */
final class EmbeddedPostgresServer implements PostgresServer {

    private static final String SUPERUSER = "postgres";
    // Generous: on a busy CI machine crash recovery or a first start can take a while.
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);
    private static final Duration STOP_WAIT = Duration.ofSeconds(30);

    private final EmbeddedPostgres server;
    private final Path dataDirectory;

    private EmbeddedPostgresServer(EmbeddedPostgres server, Path dataDirectory) {
        this.server = server;
        this.dataDirectory = dataDirectory;
    }

    /** A new server in a temporary data directory that is deleted when it stops. */
    static EmbeddedPostgresServer start() {
        return start(Optional.empty(), 0);
    }

    /**
     * A server on {@code port} (0: a free one); with a data directory it is kept when the server stops,
     * so that a later start on the same directory finds the same data.
     */
    static EmbeddedPostgresServer start(Optional<Path> dataDirectory, int port) {
        try {
            // Our own directory even when throwaway: close() reads the server's pid from it.
            Path dir = dataDirectory.isPresent() ? dataDirectory.get() : Files.createTempDirectory("meshguard-test-pg");
            EmbeddedPostgres server = EmbeddedPostgres.builder()
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(dataDirectory.isEmpty())
                    .setPort(port)
                    .setPGStartupWait(STARTUP_WAIT)
                    .setRegisterShutdownHook(false)
                    .start();
            return new EmbeddedPostgresServer(server, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Embedded PostgreSQL did not start: " + e.getMessage(), e);
        }
    }

    int port() {
        return server.getPort();
    }

    @Override
    public String backend() {
        return "embedded";
    }

    @Override
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://localhost:" + server.getPort() + "/" + database;
    }

    @Override
    public String adminDatabase() {
        return "postgres";
    }

    @Override
    public String user() {
        return SUPERUSER;
    }

    @Override
    public String password() {
        return "";
    }

    /** Fast shutdown (open sessions are ended); returns once the server process has exited. */
    @Override
    public void close() {
        Optional<ProcessHandle> postmaster = postmaster();
        try {
            server.close();
        } catch (IOException e) {
            throw new UncheckedIOException("Embedded PostgreSQL did not stop cleanly", e);
        }
        // pg_ctl returns when the pid file is gone, a moment before the process itself.
        postmaster.ifPresent(p -> {
            if (!awaitExit(p, STOP_WAIT)) {
                p.destroyForcibly();
                awaitExit(p, STOP_WAIT);
            }
        });
    }

    private Optional<ProcessHandle> postmaster() {
        try {
            String first = Files.readAllLines(dataDirectory.resolve("postmaster.pid"))
                    .get(0)
                    .trim();
            return ProcessHandle.of(Long.parseLong(first));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean awaitExit(ProcessHandle process, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (process.isAlive()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "embedded PostgreSQL (zonky) on port " + server.getPort();
    }
}
