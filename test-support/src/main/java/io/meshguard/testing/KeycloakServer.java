package io.meshguard.testing;

import io.meshguard.runtime.keycloak.LocalKeycloak;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;

/**
 * A real Keycloak for tests: one per test JVM, started on first use on a free port through {@link LocalKeycloak}
 * (the launcher {@code meshguard up --idp keycloak} uses too) and stopped by a shutdown hook. Each test class imports
 * its own realm through the admin REST API. The distribution is the one under {@link #cacheDirectory} (the build's:
 * one directory for every module, so that Quarkus's build step at a fresh unpack's first start is paid once per
 * build, not once per module), unpacked there from the local Maven repository when missing.
 */
public final class KeycloakServer {
    public static final String VERSION = LocalKeycloak.VERSION;
    // the first start of a fresh unpack runs Quarkus's build step: a minute or more on a busy machine
    private static final Duration START_TIMEOUT = Duration.ofMinutes(6);
    private static KeycloakServer instance;

    private final LocalKeycloak keycloak;
    private final Path home;

    private KeycloakServer(LocalKeycloak keycloak, Path home) {
        this.keycloak = keycloak;
        this.home = home;
    }

    /** The shared server, started on first use (about 15 s). */
    public static synchronized KeycloakServer shared() {
        if (instance == null) {
            try {
                Path work = Paths.get("target", "keycloak-run").toAbsolutePath();
                LocalKeycloak.stopOrphan(work);
                Path home = LocalKeycloak.distribution(cacheDirectory());
                LocalKeycloak started;
                // one start at a time per distribution: two modules' test runs at once would otherwise both run the
                // build step of a fresh unpack into the same lib/quarkus
                try (FileChannel lock = FileChannel.open(
                                home.resolveSibling(".start.lock"),
                                StandardOpenOption.CREATE,
                                StandardOpenOption.WRITE);
                        FileLock held = lock.lock()) {
                    started = LocalKeycloak.start(home, 0, work, START_TIMEOUT);
                }
                Runtime.getRuntime().addShutdownHook(new Thread(started::close, "keycloak-stop"));
                instance = new KeycloakServer(started, home);
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
