package io.meshguard.devstack;

import io.meshguard.devstack.part.UpPorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.core.ExecutableProvider;

/**
 * The Redis of {@code meshguard up}: a real {@code redis-server} (6.2, the binary inside
 * {@code com.github.codemonstur:embedded-redis}, so nothing is installed by hand) on 127.0.0.1, with a random password
 * kept in the data directory (owner-only) so that other local users can neither read nor reset the limiter's counters.
 *
 * <p>It persists nothing ({@code save ""}, {@code appendonly no}): Redis holds only short-lived rate-limit windows and
 * replica heartbeats, every key with its own expiry; calendar quotas are durable in PostgreSQL. A restart therefore
 * starts every rate-limit window afresh. Memory is capped, and under pressure Redis drops the keys nearest to their
 * expiry ({@code volatile-ttl}) rather than failing every limiter call.
 *
 * <p>The server runs as a child process in a session of its own (where {@code setsid} exists), so a Ctrl-C in the
 * terminal reaches {@code up} only and Redis stops after the servers that use it have drained. A server left running
 * by an {@code up} that was killed (SIGKILL, a crash) is found through its pid file and stopped by the next start.
 */
public final class LocalRedis implements AutoCloseable {
    /** Files in the Redis directory. */
    static final String PASSWORD_FILE = "password";

    static final String CONFIG_FILE = "redis.conf";
    static final String PID_FILE = "redis.pid";

    private static final Logger LOG = LoggerFactory.getLogger(LocalRedis.class);
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(20);
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);
    private static final int OUTPUT_LINES_KEPT = 30;
    /** Cap for a laptop; the limiter's keys are a few hundred bytes each (docs/operate/day-to-day.md, Redis sizing). */
    static final String MAX_MEMORY = "128mb";

    private final Path dir;
    private final int port;
    private final Path passwordFile;
    private final Process process;
    private final Deque<String> output;
    private final Thread outputReader;
    private volatile boolean closed;

    private LocalRedis(
            Path dir, int port, Path passwordFile, Process process, Deque<String> output, Thread outputReader) {
        this.dir = dir;
        this.port = port;
        this.passwordFile = passwordFile;
        this.process = process;
        this.output = output;
        this.outputReader = outputReader;
    }

    /**
     * Starts {@code redis-server} on 127.0.0.1:{@code port} (0 picks a free one), its files in {@code dir}.
     *
     * @throws IllegalStateException when it does not answer within {@link #STARTUP_WAIT}, with its own last words (a
     *     port taken between the check and the start shows as "Address already in use")
     */
    public static LocalRedis start(Path dir, int port) {
        Path home = dir.toAbsolutePath().normalize();
        int chosen = port == 0 ? freePort() : port;
        try {
            Files.createDirectories(home);
            stopOrphan(home);
            Path passwordFile = home.resolve(PASSWORD_FILE);
            String password = readOrCreatePassword(passwordFile);
            Path config = home.resolve(CONFIG_FILE);
            writeOwnerOnly(config, config(home, chosen, password));
            Path binary = ExecutableProvider.newJarResourceProvider(home.toFile())
                    .get()
                    .toPath();
            Process process = new ProcessBuilder(command(binary, config))
                    .directory(home.toFile())
                    .redirectErrorStream(true)
                    .start();
            Deque<String> output = new ArrayDeque<>();
            Thread reader = new Thread(() -> drain(process.getInputStream(), output), "redis-server-output");
            reader.setDaemon(true);
            reader.start();
            LocalRedis redis = new LocalRedis(home, chosen, passwordFile, process, output, reader);
            try {
                redis.awaitAnswering(password);
            } catch (RuntimeException e) {
                redis.close();
                throw e;
            }
            LOG.info("Local Redis ready on 127.0.0.1:{} (pid {}), files in {}", chosen, process.pid(), home);
            return redis;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start local Redis in " + home + ": " + e.getMessage(), e);
        }
    }

    /** {@code redis://127.0.0.1:PORT}, without the password (that is in {@link #passwordFile()}). */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The file holding the password, readable by its owner only; what extauthz reads as {@code redis.password_file}. */
    public Path passwordFile() {
        return passwordFile;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isRunning() {
        return !closed && process.isAlive();
    }

    /** Stops the server (SIGTERM: it exits at once, having nothing to save) and waits until its process is gone. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        process.destroy();
        if (!awaitExit(process.toHandle(), STOP_WAIT)) {
            LOG.warn("redis-server (pid {}) did not stop within {}; killing it", process.pid(), STOP_WAIT);
            process.destroyForcibly();
            awaitExit(process.toHandle(), STOP_WAIT);
        }
        try {
            Files.deleteIfExists(dir.resolve(PID_FILE));
        } catch (IOException e) {
            LOG.debug("could not remove {}", dir.resolve(PID_FILE), e);
        }
    }

    /**
     * Stops a {@code redis-server} that an earlier {@code up} on this data directory left running (killed with
     * SIGKILL, crashed): the caller holds the data directory's lock, so no live {@code up} owns that server.
     *
     * @return the pid stopped, if there was one
     */
    public static Optional<Long> stopOrphan(Path dir) throws IOException {
        Path pidFile = dir.resolve(PID_FILE);
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        String text = Files.readString(pidFile).strip();
        Optional<ProcessHandle> orphan = text.matches("\\d{1,10}")
                ? ProcessHandle.of(Long.parseLong(text))
                        .filter(ProcessHandle::isAlive)
                        // A stale file may name a pid reused by something else: only a redis-server is stopped.
                        .filter(p -> p.info()
                                .command()
                                .map(c -> c.contains("redis-server"))
                                .orElse(false))
                : Optional.empty();
        Files.deleteIfExists(pidFile);
        if (orphan.isEmpty()) {
            return Optional.empty();
        }
        ProcessHandle process = orphan.get();
        LOG.warn("Stopping redis-server (pid {}) left running in {} by an up that has gone", process.pid(), dir);
        process.destroy();
        if (!awaitExit(process, STOP_WAIT)) {
            process.destroyForcibly();
            if (!awaitExit(process, STOP_WAIT)) {
                throw new IllegalStateException(
                        "could not stop the redis-server (pid " + process.pid() + ") left running in " + dir);
            }
        }
        return Optional.of(process.pid());
    }

    /**
     * The server's settings. Secrets stay off the command line (other local users can read a process's arguments):
     * the password is only in this owner-only file.
     */
    static String config(Path dir, int port, String password) {
        return String.join(
                "\n",
                "# Written by meshguard up on every start; edits are overwritten.",
                "bind 127.0.0.1",
                "port " + port,
                "protected-mode yes",
                "requirepass " + password,
                "# Nothing is persisted: rate-limit windows are short-lived, calendar quotas live in PostgreSQL.",
                "save \"\"",
                "appendonly no",
                "dir " + quoted(dir.toString()),
                "pidfile " + quoted(dir.resolve(PID_FILE).toString()),
                "maxmemory " + MAX_MEMORY,
                "maxmemory-policy volatile-ttl",
                "logfile \"\"",
                "daemonize no",
                "");
    }

    private static String quoted(String path) {
        return "\"" + path.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static List<String> command(Path binary, Path config) {
        List<String> command = new ArrayList<>();
        // A session of its own: the terminal's Ctrl-C (SIGINT to the foreground process group) then reaches up alone,
        // which stops Redis after the servers using it. setsid(1) execs in place, so the pid stays redis-server's.
        for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(setsid))) {
                command.add(setsid);
                break;
            }
        }
        command.add(binary.toString());
        command.add(config.toString());
        return command;
    }

    /** Polls AUTH + PING until the server answers PONG, or fails with what it printed if it exits or never answers. */
    private void awaitAnswering(String password) {
        long deadline = System.nanoTime() + STARTUP_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                // the process can exit before its last lines are read: they are the reason, so wait for them
                try {
                    outputReader.join(2_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new IllegalStateException(
                        failure("redis-server exited with " + process.exitValue() + " before it answered"));
            }
            if (ping(port, password)) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for redis-server", e);
            }
        }
        throw new IllegalStateException(failure("redis-server did not answer PING on 127.0.0.1:" + port + " within "
                + STARTUP_WAIT.toSeconds() + " s"));
    }

    private String failure(String what) {
        List<String> lines;
        synchronized (output) {
            lines = List.copyOf(output);
        }
        boolean portTaken = lines.stream().anyMatch(l -> l.contains("Address already in use"));
        String hint = portTaken ? "; " + UpPorts.describe("--redis-port", port, "127.0.0.1") : "";
        return what + hint + ". Its last output:\n  " + String.join("\n  ", lines);
    }

    /**
     * One AUTH and one PING in Redis's wire protocol (RESP), one second at most: true when the answers are
     * {@code +OK} and {@code +PONG}.
     */
    static boolean ping(int port, String password) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            socket.setSoTimeout(1000);
            byte[] secret = password.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("*2\r\n$4\r\nAUTH\r\n$" + secret.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(secret);
            out.write("\r\n*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            return "+OK".equals(in.readLine()) && "+PONG".equals(in.readLine());
        } catch (IOException e) {
            return false;
        }
    }

    private static void drain(InputStream stream, Deque<String> output) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                // Redis marks even routine start and stop lines as warnings ('#'): all of it is debug detail here,
                // and the last lines go into the error when it fails to start.
                LOG.debug("redis-server: {}", line);
                synchronized (output) {
                    if (output.size() == OUTPUT_LINES_KEPT) {
                        output.removeFirst();
                    }
                    output.addLast(line);
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
    }

    private static String readOrCreatePassword(Path file) throws IOException {
        if (Files.isRegularFile(file)) {
            String kept = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (kept.matches("[A-Za-z0-9_-]{32,}")) {
                return kept;
            }
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        // base64url: no character a config line or RESP would need quoted.
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        writeOwnerOnly(file, password + "\n");
        return password;
    }

    private static void writeOwnerOnly(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException notPosix) {
            Files.createFile(tmp);
        }
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static boolean awaitExit(ProcessHandle process, Duration limit) {
        try {
            process.onExit().get(limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return !process.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1 for Redis", e);
        }
    }
}
