package io.meshguard.devstack.db;

import io.meshguard.db.DbSettings;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server of our own, for {@code meshguard up}: binaries from Maven Central (zonky), data in
 * a directory that survives restarts, listening on localhost only.
 *
 * <p>The first start runs {@code initdb}; later starts reuse the data. The {@code postgres} role gets a
 * random password kept in the data directory (readable by its owner only) and {@code pg_hba.conf}
 * demands it, so other local users cannot read the audit log. A server left behind by a process that
 * died without closing us is stopped and replaced. {@link #close()} stops the server and waits until its
 * process is gone.
 *
 * <p>Running as root works where unprivileged user namespaces are allowed: zonky starts PostgreSQL
 * through {@code unshare -U}. Binaries are unpacked under {@code $TMPDIR/embedded-pg} unless the system
 * property {@code ot.epg.working-dir} says otherwise.
 */
public final class LocalPostgres implements AutoCloseable {

    /** The database {@link #start(Path, int)} creates and {@link #jdbcUrl()} points at. */
    public static final String DEFAULT_DATABASE = "meshguard";

    private static final Logger LOG = LoggerFactory.getLogger(LocalPostgres.class);
    private static final String SUPERUSER = "postgres";
    private static final String PASSWORD_FILE = "meshguard-superuser-password";
    private static final String ZONKY_LOCK_FILE = "epg-lock";
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);
    private static final Duration STOP_WAIT = Duration.ofSeconds(30);
    /** The pg_hba.conf every start writes; a restore writes it too, whatever an archive held. */
    public static final String HBA = """
            # Written by meshguard LocalPostgres on every start: TCP from this host only, password required.
            host all all 127.0.0.1/32 scram-sha-256
            host all all ::1/128 scram-sha-256
            """;

    private final EmbeddedPostgres server;
    private final Path dataDirectory;
    private final String database;
    private final String password;
    private final long pid;
    private final Thread shutdownHook;
    private volatile boolean closed;

    private LocalPostgres(EmbeddedPostgres server, Path dataDirectory, String database, String password, long pid) {
        this.server = server;
        this.dataDirectory = dataDirectory;
        this.database = database;
        this.password = password;
        this.pid = pid;
        this.shutdownHook = new Thread(this::stop, "meshguard-local-postgres-stop");
    }

    /** Starts the server on {@code port} (0 picks a free one) with the database {@value #DEFAULT_DATABASE}. */
    public static LocalPostgres start(Path dataDirectory, int port) {
        return start(dataDirectory, port, DEFAULT_DATABASE);
    }

    /**
     * Starts the server on {@code port} (0 picks a free one), keeping its data in {@code dataDirectory}
     * (created if missing), and creates {@code database} if it does not exist yet.
     *
     * @throws IllegalArgumentException the directory holds something that is not PostgreSQL data, or
     *                                  the port or database name is invalid
     * @throws IllegalStateException    another process is using the directory, or the server did not start
     */
    public static LocalPostgres start(Path dataDirectory, int port, String database) {
        Objects.requireNonNull(dataDirectory, "dataDirectory");
        Objects.requireNonNull(database, "database");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
        if (!database.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException(
                    "database name must be lower-case letters, digits and '_' (at most 63), got '" + database + "'");
        }
        Path dir = dataDirectory.toAbsolutePath().normalize();
        try {
            checkUsable(dir);
            requirePortFree(port);
            stopOrphanedServer(dir);
            // A fresh directory must stay empty for initdb: the password is written once the server runs.
            String password = readPassword(dir).orElseGet(LocalPostgres::newPassword);
            EmbeddedPostgres server = startServer(dir, port, password);
            LocalPostgres local = null;
            try {
                long pid = postmasterPid(dir)
                        .orElseThrow(() ->
                                new IllegalStateException("PostgreSQL started but wrote no postmaster.pid in " + dir));
                local = new LocalPostgres(server, dir, database, password, pid);
                local.secure();
                local.createDatabaseIfMissing();
                Runtime.getRuntime().addShutdownHook(local.shutdownHook);
                LOG.info("Local PostgreSQL ready on port {} (pid {}), data in {}", server.getPort(), pid, dir);
                return local;
            } catch (RuntimeException | SQLException e) {
                if (local != null) {
                    local.stop();
                } else {
                    closeQuietly(server);
                }
                throw e instanceof RuntimeException re
                        ? re
                        : new IllegalStateException(
                                "Could not prepare local PostgreSQL in " + dir + ": " + e.getMessage(), e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start local PostgreSQL in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** JDBC URL of the database, without credentials (see {@link #user()} and {@link #password()}). */
    public String jdbcUrl() {
        return jdbcUrl(database);
    }

    /** JDBC URL of another database on the same server. */
    public String jdbcUrl(String otherDatabase) {
        return "jdbc:postgresql://localhost:" + server.getPort() + "/" + otherDatabase;
    }

    /** Pool settings for {@link #jdbcUrl()} with this server's credentials. */
    public DbSettings dbSettings(String applicationName) {
        return DbSettings.of(jdbcUrl(), user(), password()).withApplicationName(applicationName);
    }

    public String user() {
        return SUPERUSER;
    }

    public String password() {
        return password;
    }

    /** The file in the data directory that keeps {@link #password()}, readable by its owner only. */
    public Path passwordFile() {
        return dataDirectory.resolve(PASSWORD_FILE);
    }

    public String database() {
        return database;
    }

    public int port() {
        return server.getPort();
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    /** Process id of the PostgreSQL server (the postmaster). */
    public long pid() {
        return pid;
    }

    /** Whether the server process is still alive. */
    public boolean isRunning() {
        return !closed && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /**
     * Leaves stopping the server to {@link #close()}: removes the JVM shutdown hook that otherwise stops it. A
     * caller that closes its components in dependency order on shutdown (the servers drain, then the database
     * stops) needs this, because JVM shutdown hooks run concurrently.
     */
    public void stopOnlyOnClose() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already exiting: the hook runs, as it would have anyway.
        }
    }

    /** Stops the server (fast shutdown: open sessions are ended) and waits until its process has exited. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is exiting and the hook is running or about to: it stops the server.
        }
        stop();
    }

    private synchronized void stop() {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(server);
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isPresent() && !awaitExit(process.get(), STOP_WAIT)) {
            LOG.warn("PostgreSQL (pid {}) did not stop within {}; killing it", pid, STOP_WAIT);
            process.get().destroyForcibly();
            awaitExit(process.get(), STOP_WAIT);
        }
        LOG.info("Local PostgreSQL on port {} stopped", server.getPort());
    }

    /**
     * Role password, then password file, then pg_hba.conf: whatever step a crash interrupts, the next
     * start can still log in (trust until pg_hba.conf changes, and by then the file holds the password).
     */
    private void secure() throws SQLException {
        try (Connection c = connect("postgres");
                Statement s = c.createStatement()) {
            // The password is base64url: no quote can end the literal.
            s.execute("alter role " + SUPERUSER + " password '" + password + "'");
            Path passwordFile = dataDirectory.resolve(PASSWORD_FILE);
            if (readPassword(dataDirectory).filter(password::equals).isEmpty()) {
                writeAtomically(passwordFile, password + "\n");
            }
            Path hba = dataDirectory.resolve("pg_hba.conf");
            if (!HBA.equals(Files.readString(hba))) {
                writeAtomically(hba, HBA);
                try (ResultSet rs = s.executeQuery("select pg_reload_conf()")) {
                    rs.next();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not secure local PostgreSQL in " + dataDirectory, e);
        }
    }

    private void createDatabaseIfMissing() throws SQLException {
        try (Connection c = connect("postgres");
                Statement s = c.createStatement()) {
            boolean exists;
            try (ResultSet rs = s.executeQuery("select 1 from pg_database where datname = '" + database + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                s.execute("create database \"" + database + "\"");
                LOG.info("Created database {}", database);
            }
        }
    }

    private Connection connect(String db) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(db), SUPERUSER, password);
    }

    private static EmbeddedPostgres startServer(Path dir, int port, String password) throws IOException {
        boolean fresh = !Files.exists(dir.resolve("postgresql.conf"));
        LOG.info("{} local PostgreSQL in {}", fresh ? "Initialising" : "Starting", dir);
        try {
            return EmbeddedPostgres.builder()
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    .setRegisterShutdownHook(false)
                    .setPGStartupWait(STARTUP_WAIT)
                    // This data is kept: write it durably (zonky turns both off for throwaway test servers).
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("listen_addresses", "localhost")
                    // TCP only: no Unix socket, so no socket lock file in /tmp that another PostgreSQL on the same port
                    // number holds (which made the start wait out STARTUP_WAIT and then blame nothing in particular)
                    .setServerConfig("unix_socket_directories", "")
                    // With trust on the first start a password is ignored; afterwards pg_hba demands it.
                    .setConnectConfig("password", password)
                    // Bounded: the readiness check must never wait on a listener that accepts and stays silent.
                    .setConnectConfig("connectTimeout", "5")
                    .setConnectConfig("loginTimeout", "5")
                    .setConnectConfig("socketTimeout", "10")
                    .start();
        } catch (IOException | RuntimeException e) {
            String version = readPgVersion(dir)
                    .map(v -> " (the data directory was created by PostgreSQL " + v + ")")
                    .orElse("");
            throw new IllegalStateException(
                    "Local PostgreSQL did not start in " + dir + version
                            + ": " + e.getMessage()
                            + " - PostgreSQL's own messages are logged by io.zonky.test.db.postgres; run again"
                            + " with MESHGUARD_EMBEDDED_PG_LOG_LEVEL=INFO to see them",
                    e);
        }
    }

    /**
     * Refuses a port something already listens on, at once and saying what: PostgreSQL (listen_addresses
     * {@code localhost}) would still start on the other loopback address, and zonky's readiness check would then
     * talk to the other listener (another PostgreSQL refuses our password until the start-up wait runs out; a
     * listener that never answers would hold the check forever).
     */
    static void requirePortFree(int port) {
        if (port == 0) {
            return;
        }
        for (java.net.InetAddress address : loopbackAddresses()) {
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.connect(new java.net.InetSocketAddress(address, port), 500);
                throw new IllegalStateException(
                        "port " + port + " on " + address.getHostAddress() + " is already in use "
                                + (answersLikePostgres(socket)
                                        ? "by another PostgreSQL server"
                                        : "by a program that is not PostgreSQL")
                                + "; stop it or choose another port");
            } catch (IOException nothingListens) {
                // connection refused: free on this address
            }
        }
    }

    private static List<java.net.InetAddress> loopbackAddresses() {
        List<java.net.InetAddress> addresses = new java.util.ArrayList<>();
        for (String name : List.of("127.0.0.1", "::1")) {
            try {
                addresses.add(java.net.InetAddress.getByName(name));
            } catch (java.net.UnknownHostException e) {
                // no IPv6 on this host
            }
        }
        return addresses;
    }

    /**
     * Sends PostgreSQL's SSLRequest (protocol docs, "Message Formats": Int32 8, Int32 80877103); a PostgreSQL server
     * answers with the single byte {@code S} or {@code N}. Waits one second at most.
     */
    private static boolean answersLikePostgres(java.net.Socket socket) {
        try {
            socket.setSoTimeout(1000);
            socket.getOutputStream().write(new byte[] {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f});
            socket.getOutputStream().flush();
            int answer = socket.getInputStream().read();
            return answer == 'S' || answer == 'N';
        } catch (IOException e) {
            return false;
        }
    }

    /** Refuses a directory that holds something else than a PostgreSQL data directory. */
    private static void checkUsable(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is a file, not a directory");
        }
        if (!Files.isDirectory(dir) || Files.exists(dir.resolve("postgresql.conf"))) {
            return;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            List<String> names = entries.map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals(ZONKY_LOCK_FILE) && !n.equals(PASSWORD_FILE))
                    .toList();
            if (!names.isEmpty()) {
                throw new IllegalArgumentException(dir + " is not empty and holds no PostgreSQL data (found "
                        + names.stream().limit(5).toList() + "); use an empty or new directory");
            }
        }
    }

    /**
     * A server whose owner died without stopping it (kill -9, a crash) keeps the data directory busy.
     * If no live process holds zonky's lock on the directory, that server is ours to stop.
     */
    private static void stopOrphanedServer(Path dir) throws IOException {
        Optional<ProcessHandle> postmaster = postmasterPid(dir)
                .flatMap(ProcessHandle::of)
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().map(c -> c.contains("postgres")).orElse(false));
        if (postmaster.isEmpty()) {
            return; // no pid file, or a stale one PostgreSQL will clean up itself
        }
        long pid = postmaster.get().pid();
        try (FileChannel channel = FileChannel.open(
                        dir.resolve(ZONKY_LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = channel.tryLock()) {
            if (lock == null) {
                throw new IllegalStateException(
                        "PostgreSQL data directory " + dir + " is in use by another process (server pid " + pid + ")");
            }
        } catch (OverlappingFileLockException e) {
            throw new IllegalStateException(
                    "PostgreSQL data directory " + dir + " is already in use by this process (server pid " + pid + ")",
                    e);
        }
        LOG.warn("Stopping PostgreSQL (pid {}) left running on {} by a process that has gone", pid, dir);
        requestFastShutdown(postmaster.get());
        if (!awaitExit(postmaster.get(), STOP_WAIT)) {
            postmaster.get().destroyForcibly();
            if (!awaitExit(postmaster.get(), STOP_WAIT)) {
                throw new IllegalStateException(
                        "Could not stop the PostgreSQL server (pid " + pid + ") left running on " + dir);
            }
        }
    }

    /** SIGINT is PostgreSQL's fast shutdown; Java can only send SIGTERM (smart: waits for clients). */
    private static void requestFastShutdown(ProcessHandle postmaster) {
        try {
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(postmaster.pid()))
                    .redirectErrorStream(true)
                    .start();
            if (kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0) {
                return;
            }
        } catch (IOException e) {
            LOG.debug("No kill command to send SIGINT", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        postmaster.destroy();
    }

    static Optional<Long> postmasterPid(Path dir) {
        Path pidFile = dir.resolve("postmaster.pid");
        try {
            List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
            return lines.isEmpty()
                    ? Optional.empty()
                    : Optional.of(Long.parseLong(lines.get(0).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> readPgVersion(Path dir) {
        try {
            return Optional.of(Files.readString(dir.resolve("PG_VERSION")).trim());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> readPassword(Path dir) {
        Path file = dir.resolve(PASSWORD_FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            String stored = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (!stored.matches("[A-Za-z0-9_-]{20,}")) {
                throw new IllegalStateException(file + " does not hold a password written by meshguard");
            }
            return Optional.of(stored);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + file, e);
        }
    }

    private static String newPassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static void writeAtomically(Path target, String content) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.US_ASCII);
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException notPosix) {
            // Windows: the data directory's ACL protects it.
        }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Polls: {@code onExit()} of a process that is not our child reacts only after seconds. */
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
                return !process.isAlive();
            }
        }
        return true;
    }

    private static void closeQuietly(EmbeddedPostgres server) {
        try {
            server.close();
        } catch (IOException | RuntimeException e) {
            LOG.warn("Stopping PostgreSQL failed: {}", e.toString());
        }
    }
}
