package io.meshguard.testing;

import io.meshguard.runtime.keycloak.LocalKeycloak;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * A real Keycloak for tests: one per build, started on first use on a free port through {@link LocalKeycloak} (the
 * launcher {@code meshguard up --idp keycloak} uses too) by the build's first test JVM that needs it and found by the
 * later ones through a lease in the cache directory; a watchdog stops it when the build ends ({@link #shared}). Each
 * test class imports its own realm through the admin REST API. The distribution is the one under {@link #cacheDirectory} (the build's:
 * one directory for every module, so that Quarkus's build step at a fresh unpack's first start is paid once per
 * build, not once per module), unpacked there from the local Maven repository when missing.
 */
public final class KeycloakServer {
    public static final String VERSION = LocalKeycloak.VERSION;
    // the first start of a fresh unpack runs Quarkus's build step: a minute or more on a busy machine
    private static final Duration START_TIMEOUT = Duration.ofMinutes(6);
    /** How long the build's server stays without a test JVM using it before its watchdog stops it. */
    static final Duration IDLE_LIMIT = Duration.ofMinutes(20);

    private static final String LEASE = "lease.properties";
    private static KeycloakServer instance;

    private final LocalKeycloak keycloak;
    private final Path home;

    private KeycloakServer(LocalKeycloak keycloak, Path home) {
        this.keycloak = keycloak;
        this.home = home;
    }

    /**
     * The build's server: the one an earlier test JVM of this build started, else one started now (about 15 s) for
     * this JVM and the build's later ones. "The build" is the nearest JVM among this one's ancestors (Maven, whose
     * Surefire forks are the test JVMs; an IDE), else this JVM alone. The server outlives the JVM that started it: a
     * watchdog stops it when the build's process is gone, or after {@link #IDLE_LIMIT} without a test JVM using it.
     */
    public static synchronized KeycloakServer shared() {
        if (instance == null) {
            try {
                Path home = LocalKeycloak.distribution(cacheDirectory());
                long build = buildProcess().pid();
                Path work = home.resolveSibling("shared-" + build);
                // one start at a time per distribution: two modules' test runs at once would otherwise both run the
                // build step of a fresh unpack into the same lib/quarkus; and a build's JVMs find its one server
                try (FileChannel lock = FileChannel.open(
                                home.resolveSibling(".start.lock"),
                                StandardOpenOption.CREATE,
                                StandardOpenOption.WRITE);
                        FileLock held = lock.lock()) {
                    stopThoseOfEndedBuilds(home.getParent());
                    LocalKeycloak keycloak = runningFor(work).orElse(null);
                    if (keycloak == null) {
                        keycloak = startFor(build, home, work);
                    }
                    instance = new KeycloakServer(keycloak, home);
                }
                Thread user = new Thread(() -> markUsed(work.resolve(LEASE)), "keycloak-lease");
                user.setDaemon(true);
                user.start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start Keycloak", e);
            }
        }
        return instance;
    }

    /** The server an earlier JVM of this build started in {@code work}, when its lease names one that answers. */
    private static Optional<LocalKeycloak> runningFor(Path work) throws IOException {
        Path lease = work.resolve(LEASE);
        if (!Files.isRegularFile(lease)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(lease)) {
            p.load(in);
        }
        try {
            LocalKeycloak keycloak = LocalKeycloak.attach(
                    Integer.parseInt(p.getProperty("port", "")),
                    p.getProperty("adminPassword", ""),
                    Long.parseLong(p.getProperty("pid", "")),
                    work);
            Files.setLastModifiedTime(lease, FileTime.from(Instant.now()));
            return Optional.of(keycloak);
        } catch (IOException | NumberFormatException gone) {
            // stopped by its watchdog (idle) or killed: stop what is left of it and start another
            LocalKeycloak.stopOrphan(work);
            Files.deleteIfExists(lease);
            return Optional.empty();
        }
    }

    private static LocalKeycloak startFor(long build, Path home, Path work) throws IOException {
        LocalKeycloak.stopOrphan(work);
        LocalKeycloak keycloak = LocalKeycloak.start(home, 0, work, START_TIMEOUT);
        try {
            // the build owns it now: stopOrphan in a later build stops it only once this build has ended
            Files.writeString(work.resolve(LocalKeycloak.PID_FILE), keycloak.pid() + " " + build);
            Path lease = work.resolve(LEASE);
            Properties p = new Properties();
            p.setProperty("port", Integer.toString(keycloak.port()));
            p.setProperty("adminPassword", keycloak.adminPassword());
            p.setProperty("pid", Long.toString(keycloak.pid()));
            p.setProperty("build", Long.toString(build));
            Path written = work.resolve(LEASE + ".new");
            Files.deleteIfExists(written);
            Files.createFile(
                    written, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (var out = Files.newBufferedWriter(written)) {
                p.store(out, "the build's shared test Keycloak (test-support KeycloakServer)");
            }
            Files.move(written, lease, StandardCopyOption.ATOMIC_MOVE);
            watch(build, keycloak.pid(), lease);
            return keycloak;
        } catch (IOException | RuntimeException e) {
            keycloak.close();
            throw e;
        }
    }

    /**
     * Starts the server's watchdog, a shell outside every JVM: while the build's process and the server live and the
     * lease was used within {@link #IDLE_LIMIT}, it waits; then it stops the server (TERM, KILL after 15 s) and
     * removes the lease. A build killed outright leaves nothing running.
     */
    private static void watch(long build, long server, Path lease) throws IOException {
        String script = """
                build=$1; server=$2; lease=$3; idle=$4
                while kill -0 "$build" 2>/dev/null && kill -0 "$server" 2>/dev/null \
                    && [ -z "$(find "$lease" -mmin +"$idle" 2>/dev/null)" ]; do
                  sleep 2
                done
                rm -f "$lease"
                pkill -TERM -P "$server" 2>/dev/null; kill -TERM "$server" 2>/dev/null
                i=0
                while kill -0 "$server" 2>/dev/null && [ "$i" -lt 15 ]; do sleep 1; i=$((i + 1)); done
                pkill -KILL -P "$server" 2>/dev/null; kill -KILL "$server" 2>/dev/null
                """;
        new ProcessBuilder(
                        "sh",
                        "-c",
                        script,
                        "keycloak-watchdog",
                        Long.toString(build),
                        Long.toString(server),
                        lease.toString(),
                        Long.toString(IDLE_LIMIT.toMinutes()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    /** Keeps the lease fresh while this JVM runs: the watchdog's idle limit counts from the last JVM's end. */
    private static void markUsed(Path lease) {
        while (true) {
            try {
                Thread.sleep(Duration.ofMinutes(1));
                Files.setLastModifiedTime(lease, FileTime.from(Instant.now()));
            } catch (InterruptedException e) {
                return;
            } catch (IOException e) {
                return; // the watchdog removed it: the server is stopping
            }
        }
    }

    /** Servers of builds that ended while their watchdog could not stop them (it was killed too). */
    private static void stopThoseOfEndedBuilds(Path cache) throws IOException {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(cache, "shared-*")) {
            for (Path dir : dirs) {
                LocalKeycloak.stopOrphan(dir);
            }
        }
    }

    /** The nearest JVM among this one's ancestors (the build), else this JVM. */
    static ProcessHandle buildProcess() {
        Optional<ProcessHandle> p = ProcessHandle.current().parent();
        while (p.isPresent()) {
            ProcessHandle h = p.get();
            if (h.info().command().map(c -> c.endsWith("/java")).orElse(false)) {
                return h;
            }
            p = h.parent();
        }
        return ProcessHandle.current();
    }

    public String baseUrl() {
        return keycloak.baseUrl();
    }

    public String issuer(String realm) {
        return keycloak.issuer(realm);
    }

    /** Imports a realm representation (JSON), replacing a realm of that name a previous class left. */
    public void importRealm(String realmJson) {
        keycloak.importRealm(realmJson);
    }

    /**
     * A realm set up exactly as docs/install.md tells an operator ({@link InstallGuideRealm}), replacing a realm of
     * that name a previous class left; the console's redirect URIs are under {@code consolePublicUrl}.
     */
    public InstallGuideRealm realmAsInstallGuideSays(
            String realm, String consolePublicUrl, String consoleSecret, String provisionerSecret) {
        keycloak.admin("DELETE", "/admin/realms/" + realm, null);
        InstallGuideRealm r =
                new InstallGuideRealm(baseUrl(), realm, consolePublicUrl, consoleSecret, provisionerSecret);
        r.setUp(home, "admin", keycloak.adminPassword(), kcadmHome(realm));
        return r;
    }

    /** A person in the realm {@link #realmAsInstallGuideSays} set up, member of {@code groups}. */
    public void addPerson(InstallGuideRealm realm, String username, String password, java.util.List<String> groups) {
        realm.addPerson(home, kcadmHome(realm.realm()), username, password, groups);
    }

    private static Path kcadmHome(String realm) {
        return Paths.get("target", "keycloak-run", "kcadm-" + realm).toAbsolutePath();
    }

    /** A call to the admin REST API as the bootstrap admin. */
    public HttpResponse<String> admin(String method, String path, String jsonBody) {
        return keycloak.admin(method, path, jsonBody);
    }

    /** POSTs a form to the realm's token endpoint and returns the JSON answer (status checked by the caller). */
    public HttpResponse<String> token(String realm, Map<String, String> form) {
        return keycloak.token(realm, form);
    }

    public static String form(Map<String, String> fields) {
        return LocalKeycloak.form(fields);
    }

    /** A top-level string field of a flat JSON answer (token responses); fails naming the answer when absent. */
    public static String jsonField(String json, String field) {
        return LocalKeycloak.jsonField(json, field);
    }

    /**
     * Where the distribution is unpacked: {@code meshguard.keycloak.cache} (the root pom sets it for every module to
     * the reactor's {@code target/keycloak-dist}), else the module's {@code target/keycloak-dist}. {@code meshguard up
     * --idp keycloak} under test takes it as its cache.
     */
    public static Path cacheDirectory() {
        String shared = System.getProperty("meshguard.keycloak.cache", "");
        return (shared.isBlank() ? Paths.get("target", "keycloak-dist") : Paths.get(shared)).toAbsolutePath();
    }
}
