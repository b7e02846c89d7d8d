package io.meshguard.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * A real Keycloak (the {@code org.keycloak:keycloak-quarkus-dist} zip from Maven, dev mode, in-memory H2) for tests:
 * one per test JVM, started on first use on free ports (the first start builds the distribution: a minute or more) and stopped by a shutdown hook. Each test class imports its
 * own realm through the admin REST API. The distribution is the one the module's build unpacked
 * ({@code meshguard.keycloak.home}), or unpacked here once from the local Maven repository under {@code target/}.
 */
public final class KeycloakServer {
    public static final String VERSION = "26.4.5";
    private static final Duration START_TIMEOUT = Duration.ofMinutes(6);
    private static KeycloakServer instance;

    private final int port;
    private final String adminPassword;
    private final Process process;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private KeycloakServer(Path home) throws IOException {
        this.port = freePort();
        int management = freePort();
        this.adminPassword = UUID.randomUUID().toString();
        Path log = Paths.get("target", "keycloak-" + port + ".log").toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder("sh", home.resolve("bin/kc.sh").toString(), "start-dev",
                "--http-port=" + port, "--http-management-port=" + management, "--db=dev-mem",
                "--hostname-strict=false", "--cache=local")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
        pb.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", adminPassword);
        // jboss-threads resets thread locals through java.lang internals, which JDK 24+ keeps closed by default
        pb.environment().put("JAVA_OPTS_APPEND", "-Xms64m -Xmx512m --add-opens=java.base/java.lang=ALL-UNNAMED");
        this.process = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "keycloak-stop"));
        awaitReady(log);
    }

    /** The shared server, started on first use (about 15 s). */
    public static synchronized KeycloakServer shared() {
        if (instance == null) {
            try {
                instance = new KeycloakServer(distribution());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start Keycloak", e);
            }
        }
        return instance;
    }

    public String baseUrl() {
        return "http://localhost:" + port;
    }

    public String issuer(String realm) {
        return baseUrl() + "/realms/" + realm;
    }

    /** Imports a realm representation (JSON), replacing a realm of that name a previous class left. */
    public void importRealm(String realmJson) {
        Matcher m = Pattern.compile("\"realm\"\\s*:\\s*\"([^\"]+)\"").matcher(realmJson);
        if (!m.find()) {
            throw new IllegalArgumentException("the realm JSON names no realm");
        }
        admin("DELETE", "/admin/realms/" + m.group(1), null);
        HttpResponse<String> r = admin("POST", "/admin/realms", realmJson);
        if (r.statusCode() != 201) {
            throw new IllegalStateException("realm import answered " + r.statusCode() + ": " + r.body());
        }
    }

    /** A call to the admin REST API as the bootstrap admin. */
    public HttpResponse<String> admin(String method, String path, String jsonBody) {
        String token = jsonField(send(HttpRequest.newBuilder(URI.create(baseUrl()
                        + "/realms/master/protocol/openid-connect/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(Map.of("grant_type", "password",
                        "client_id", "admin-cli", "username", "admin", "password", adminPassword)))).build()).body(),
                "access_token");
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json");
        b.method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(jsonBody));
        return send(b.build());
    }

    /** POSTs a form to the realm's token endpoint and returns the JSON answer (status checked by the caller). */
    public HttpResponse<String> token(String realm, Map<String, String> form) {
        return send(HttpRequest.newBuilder(URI.create(issuer(realm) + "/protocol/openid-connect/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(form))).build());
    }

    public static String form(Map<String, String> fields) {
        return fields.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
    }

    /** A top-level string field of a flat JSON answer (token responses); fails naming the answer when absent. */
    public static String jsonField(String json, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no '" + field + "' in " + json);
        }
        return m.group(1);
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

    private void awaitReady(Path log) throws IOException {
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        HttpRequest probe = HttpRequest.newBuilder(URI.create(issuer("master") + "/.well-known/openid-configuration"))
                .timeout(Duration.ofSeconds(2)).build();
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IOException("Keycloak exited with " + process.exitValue() + "; see " + log);
            }
            try {
                if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for Keycloak", e);
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for Keycloak", e);
            }
        }
        stop();
        throw new IOException("Keycloak was not ready within " + START_TIMEOUT + "; see " + log);
    }

    private void stop() {
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        process.destroy();
        all.forEach(ProcessHandle::destroy);
        try {
            process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        all.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** The unpacked distribution: the build's (meshguard.keycloak.home) or unpacked here from the local repo. */
    static Path distribution() throws IOException {
        String configured = System.getProperty("meshguard.keycloak.home");
        if (configured != null && Files.isRegularFile(Path.of(configured, "bin", "kc.sh"))) {
            return Path.of(configured);
        }
        Path target = Paths.get("target", "keycloak-dist").toAbsolutePath();
        Path home = target.resolve("keycloak-" + VERSION);
        if (Files.isRegularFile(home.resolve("bin/kc.sh"))) {
            return home;
        }
        String repo = System.getProperty("maven.repo.local",
                Path.of(System.getProperty("user.home"), ".m2", "repository").toString());
        Path zip = Path.of(repo, "org", "keycloak", "keycloak-quarkus-dist", VERSION,
                "keycloak-quarkus-dist-" + VERSION + ".zip");
        if (!Files.isRegularFile(zip)) {
            throw new IOException("Keycloak's distribution is not in the local Maven repository (" + zip
                    + "); the access module's build downloads it");
        }
        unzip(zip, target);
        return home;
    }

    private static void unzip(Path zip, Path into) throws IOException {
        Path root = into.normalize();
        try (InputStream raw = Files.newInputStream(zip); ZipInputStream in = new ZipInputStream(raw)) {
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

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
