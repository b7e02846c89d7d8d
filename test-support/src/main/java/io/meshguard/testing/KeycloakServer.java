package io.meshguard.testing;

import io.meshguard.runtime.keycloak.LocalKeycloak;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;

/**
 * A real Keycloak for tests: one per test JVM, started on first use on a free port through {@link LocalKeycloak}
 * (the launcher {@code meshguard up --idp keycloak} uses too) and stopped by a shutdown hook. Each test class imports
 * its own realm through the admin REST API. The distribution is the one the module's build unpacked
 * ({@code meshguard.keycloak.home}), or unpacked once from the local Maven repository under {@code target/}.
 */
public final class KeycloakServer {
    public static final String VERSION = LocalKeycloak.VERSION;
    // the first start of a fresh unpack runs Quarkus's build step: a minute or more on a busy machine
    private static final Duration START_TIMEOUT = Duration.ofMinutes(6);
    private static KeycloakServer instance;

    private final LocalKeycloak keycloak;

    private KeycloakServer(LocalKeycloak keycloak) {
        this.keycloak = keycloak;
    }

    /** The shared server, started on first use (about 15 s). */
    public static synchronized KeycloakServer shared() {
        if (instance == null) {
            try {
                Path work = Paths.get("target", "keycloak-run").toAbsolutePath();
                LocalKeycloak.stopOrphan(work);
                LocalKeycloak started = LocalKeycloak.start(distribution(), 0, work, START_TIMEOUT);
                Runtime.getRuntime().addShutdownHook(new Thread(started::close, "keycloak-stop"));
                instance = new KeycloakServer(started);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start Keycloak", e);
            }
        }
        return instance;
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

    /** The unpacked distribution: the build's (meshguard.keycloak.home) or unpacked once under target/. */
    static Path distribution() throws IOException {
        String configured = System.getProperty("meshguard.keycloak.home");
        if (configured != null && Files.isRegularFile(Path.of(configured, "bin", "kc.sh"))) {
            return Path.of(configured);
        }
        return LocalKeycloak.distribution(Paths.get("target", "keycloak-dist").toAbsolutePath());
    }
}
