package io.meshguard.runtime.keycloak;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * A real Keycloak on this machine: the {@code org.keycloak:keycloak-quarkus-dist} zip, unpacked once under a cache
 * directory and started in dev mode ({@code kc.sh start-dev}, in-memory H2: nothing survives a stop) on 127.0.0.1,
 * with a random bootstrap admin password. Used by {@code meshguard up --idp keycloak} and by the tests' Keycloak
 * fixture — one launcher for both.
 *
 * <p>The zip comes from the local Maven repository ({@code ~/.m2}, where the access module's build puts it) or from
 * {@code MESHGUARD_KEYCLOAK_ZIP}; nothing is downloaded here, so offline it works exactly when the zip is already on
 * disk, and otherwise fails naming the one command that fetches it. The first start of a fresh unpack runs Quarkus's
 * build step (a minute or more); later starts take about 15 s.
 *
 * <p>The server's pid is kept in the work directory so that a server left by a killed owner is stopped by the next
 * start ({@link #stopOrphan}), as {@code up}'s Redis does.
 */
public final class LocalKeycloak implements AutoCloseable {
    /** The distribution version (access/pom.xml's keycloak.version). */
    public static final String VERSION = "26.4.5";
    /** Pid file in the work directory. */
    public static final String PID_FILE = "keycloak.pid";

    private static final Duration IMPORT_RETRY_PAUSE = Duration.ofSeconds(5);
    private static final Duration STOP_WAIT = Duration.ofSeconds(15);

    private final int port;
    private final String adminPassword;
    private final ProcessHandle process;
    private final Path log;
    private final Path pidFile;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private LocalKeycloak(int port, String adminPassword, ProcessHandle process, Path log, Path pidFile) {
        this.port = port;
        this.adminPassword = adminPassword;
        this.process = process;
        this.log = log;
        this.pidFile = pidFile;
    }

    /**
     * Starts the distribution at {@code home} on {@code port} (0: a free one) and waits until its master realm
     * answers; the log and pid file go to {@code workDir}. The server runs on the JDK of this process (21 or later,
     * which Keycloak 26 requires).
     */
    public static LocalKeycloak start(Path home, int port, Path workDir, Duration timeout) throws IOException {
        if (Runtime.version().feature() < 21) {
            throw new IOException("Keycloak " + VERSION + " needs JDK 21 or later; this is " + Runtime.version());
        }
        Files.createDirectories(workDir);
        int httpPort = port == 0 ? freePort() : port;
        int management = freePort();
        String adminPassword = UUID.randomUUID().toString();
        Path log = workDir.resolve("keycloak.log");
        ProcessBuilder pb = new ProcessBuilder(command(home, "127.0.0.1", httpPort, management))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(environment(adminPassword));
        Process process = pb.start();
        Path pidFile = workDir.resolve(PID_FILE);
        // the server's pid, then its owner's: a start beside a live owner (two test runs of one module) leaves it be
        Files.writeString(pidFile, process.pid() + " " + ProcessHandle.current().pid());
        LocalKeycloak keycloak = new LocalKeycloak(httpPort, adminPassword, process.toHandle(), log, pidFile);
        try {
            keycloak.awaitReady(process, timeout);
        } catch (IOException | RuntimeException e) {
            keycloak.close();
            throw e;
        }
        return keycloak;
    }

    /**
     * A server another process started with {@link #start} in {@code workDir} (its log and pid file are there): this
     * process calls its APIs and {@link #close} stops it. Fails when it does not answer as ready.
     */
    public static LocalKeycloak attach(int port, String adminPassword, long pid, Path workDir) throws IOException {
        ProcessHandle process =
                ProcessHandle.of(pid).orElseThrow(() -> new IOException("no Keycloak process " + pid + " any more"));
        LocalKeycloak keycloak = new LocalKeycloak(
                port, adminPassword, process, workDir.resolve("keycloak.log"), workDir.resolve(PID_FILE));
        if (!keycloak.answers()) {
            throw new IOException("Keycloak " + pid + " on port " + port + " does not answer; see " + keycloak.log);
        }
        return keycloak;
    }

    /**
     * The server's command line: {@code kc.sh start-dev} of the distribution at {@code home} (HTTP, in-memory H2, no
     * hostname checks: Keycloak docs, "Starting Keycloak in development mode") on {@code host:httpPort}, its health
     * and metrics on {@code managementPort}. The cluster in a box starts its IdP pod with this line too.
     */
    public static List<String> command(Path home, String host, int httpPort, int managementPort) {
        return List.of(
                "sh",
                home.resolve("bin/kc.sh").toString(),
                "start-dev",
                "--http-host=" + host,
                "--http-port=" + httpPort,
                "--http-management-port=" + managementPort,
                "--db=dev-mem",
                "--hostname-strict=false",
                "--cache=local");
    }

    /** The launcher's environment: this process's JDK, the bootstrap admin {@code admin}, the JVM's options. */
    public static Map<String, String> environment(String adminPassword) {
        return Map.of(
                "JAVA_HOME",
                System.getProperty("java.home"),
                "KC_BOOTSTRAP_ADMIN_USERNAME",
                "admin",
                "KC_BOOTSTRAP_ADMIN_PASSWORD",
                adminPassword,
                // jboss-threads resets thread locals through java.lang internals, which JDK 24+ keeps closed
                "JAVA_OPTS_APPEND",
                "-Xms64m -Xmx512m --add-opens=java.base/java.lang=ALL-UNNAMED");
    }

    /**
     * Stops a Keycloak that a killed owner of {@code workDir} left running: the pid file names it and its owner, and
     * it is stopped only when the owner is gone and the process still looks like Keycloak (a recycled pid is left
     * alone).
     */
    public static void stopOrphan(Path workDir) throws IOException {
        Path pidFile = workDir.resolve(PID_FILE);
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        long pid;
        long owner;
        try {
            String[] fields = Files.readString(pidFile).strip().split("\\s+");
            pid = Long.parseLong(fields[0]);
            owner = fields.length > 1 ? Long.parseLong(fields[1]) : 0;
        } catch (NumberFormatException e) {
            Files.deleteIfExists(pidFile);
            return;
        }
        if (owner != 0
                && owner != ProcessHandle.current().pid()
                && ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false)) {
            return; // its owner still runs: not an orphan
        }
        Optional<ProcessHandle> left = ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .filter(p -> {
                    List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
                    tree.add(p);
                    return tree.stream()
                            .anyMatch(h -> h.info().commandLine().orElse("").contains("keycloak"));
                });
        left.ifPresent(p -> stopTree(p, STOP_WAIT));
        Files.deleteIfExists(pidFile);
    }

    /**
     * The unpacked distribution under {@code cacheDir} ({@code keycloak-VERSION}), unpacked from the zip on first use
     * (under a file lock: two starts at once unpack it once).
     */
    public static Path distribution(Path cacheDir) throws IOException {
        Path home = cacheDir.resolve("keycloak-" + VERSION);
        if (Files.isRegularFile(home.resolve("bin/kc.sh"))) {
            return home;
        }
        Files.createDirectories(cacheDir);
        try (FileChannel channel = FileChannel.open(
                        cacheDir.resolve(".unpack.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock ignored = channel.lock()) {
            if (!Files.isRegularFile(home.resolve("bin/kc.sh"))) {
                Path partial = cacheDir.resolve("unpacking-" + VERSION);
                deleteTree(partial);
                unzip(zip(), partial);
                Files.move(partial.resolve("keycloak-" + VERSION), home, StandardCopyOption.ATOMIC_MOVE);
                deleteTree(partial);
            }
        }
        return home;
    }

    /** The distribution zip: {@code MESHGUARD_KEYCLOAK_ZIP}, else the local Maven repository's. */
    static Path zip() throws IOException {
        String configured = System.getenv("MESHGUARD_KEYCLOAK_ZIP");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String repo = System.getProperty(
                "maven.repo.local",
                Path.of(System.getProperty("user.home"), ".m2", "repository").toString());
        Path zip = Path.of(
                repo, "org", "keycloak", "keycloak-quarkus-dist", VERSION, "keycloak-quarkus-dist-" + VERSION + ".zip");
        if (!Files.isRegularFile(zip)) {
            throw new IOException("Keycloak's distribution is not on this machine (" + zip + "). Fetch it once "
                    + "(needs the network): ./mvnw dependency:get -Dartifact=org.keycloak:keycloak-quarkus-dist:"
                    + VERSION + ":zip — or point MESHGUARD_KEYCLOAK_ZIP at a copy of the zip");
        }
        return zip;
    }

    public int port() {
        return port;
    }

    /** The bootstrap administrator's password of the {@code master} realm (user {@code admin}). */
    public String adminPassword() {
        return adminPassword;
    }

    /** Process id of the server (its launcher script execs the JVM). */
    public long pid() {
        return process.pid();
    }

    public Path logFile() {
        return log;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public String issuer(String realm) {
        return baseUrl() + "/realms/" + realm;
    }

    /**
     * Imports a realm representation (JSON), replacing a realm of that name already there. Tried three times: on a
     * machine loaded far past its cores, Keycloak's admin API has been seen to drop a connection just after it
     * reported ready ("EOF reached while reading"); delete-then-create makes a repeat harmless.
     */
    public void importRealm(String realmJson) {
        Matcher m = Pattern.compile("\"realm\"\\s*:\\s*\"([^\"]+)\"").matcher(realmJson);
        if (!m.find()) {
            throw new IllegalArgumentException("the realm JSON names no realm");
        }
        for (int attempt = 1; ; attempt++) {
            try {
                admin("DELETE", "/admin/realms/" + m.group(1), null);
                HttpResponse<String> r = admin("POST", "/admin/realms", realmJson);
                if (r.statusCode() != 201) {
                    throw new IllegalStateException("realm import answered " + r.statusCode() + ": " + r.body());
                }
                return;
            } catch (UncheckedIOException dropped) {
                if (attempt == 3) {
                    throw dropped;
                }
                pause(IMPORT_RETRY_PAUSE);
            }
        }
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while importing a realm", e);
        }
    }

    /** A call to the admin REST API as the bootstrap admin ({@code jsonBody} empty: no body). */
    public HttpResponse<String> admin(String method, String path, String jsonBody) {
        String token = jsonField(
                token(
                                "master",
                                Map.of(
                                        "grant_type",
                                        "password",
                                        "client_id",
                                        "admin-cli",
                                        "username",
                                        "admin",
                                        "password",
                                        adminPassword))
                        .body(),
                "access_token");
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json");
        b.method(
                method,
                jsonBody == null || jsonBody.isEmpty()
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(jsonBody));
        return send(b.build());
    }

    /** POSTs a form to the realm's token endpoint and returns the answer (status checked by the caller). */
    public HttpResponse<String> token(String realm, Map<String, String> form) {
        return send(HttpRequest.newBuilder(URI.create(issuer(realm) + "/protocol/openid-connect/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(form)))
                .build());
    }

    public static String form(Map<String, String> fields) {
        return fields.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }

    /** A top-level string field of a flat JSON answer (token responses); fails naming the answer when absent. */
    public static String jsonField(String json, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\"\\s*:\\s*\"([^\"]*)\"")
                .matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no '" + field + "' in " + json);
        }
        return m.group(1);
    }

    /** Stops the server and every process it started; removes the pid file. */
    @Override
    public void close() {
        stopTree(process, STOP_WAIT);
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            // the next start's stopOrphan finds a dead pid and removes it
        }
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void awaitReady(Process started, Duration timeout) throws IOException {
        Instant deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            if (!started.isAlive()) {
                throw new IOException("Keycloak exited with " + started.exitValue() + "; see " + log);
            }
            if (answers()) {
                return;
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for Keycloak", e);
            }
        }
        throw new IOException("Keycloak was not ready within " + timeout.toSeconds() + " s; see " + log);
    }

    /** Whether the server's master realm answers its discovery document now. */
    private boolean answers() throws IOException {
        HttpRequest probe = HttpRequest.newBuilder(URI.create(issuer("master") + "/.well-known/openid-configuration"))
                .timeout(Duration.ofSeconds(2))
                .build();
        try {
            return http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false; // not listening (yet, or any more)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for Keycloak", e);
        }
    }

    private static void stopTree(ProcessHandle root, Duration wait) {
        List<ProcessHandle> all = new ArrayList<>(root.descendants().toList());
        all.add(root);
        all.forEach(ProcessHandle::destroy);
        try {
            root.onExit().get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // forced below
        }
        all.forEach(ProcessHandle::destroyForcibly);
    }

    private static void unzip(Path zip, Path into) throws IOException {
        Path root = into.normalize();
        try (InputStream raw = Files.newInputStream(zip);
                ZipInputStream in = new ZipInputStream(raw)) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                Path out = root.resolve(e.getName()).normalize();
                if (!out.startsWith(root)) {
                    throw new IOException("zip entry outside the target: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }
}
