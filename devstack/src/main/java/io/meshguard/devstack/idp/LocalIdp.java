package io.meshguard.devstack.idp;

import io.meshguard.access.AdminAccessSettings;
import io.meshguard.cli.idp.LocalRealm;
import io.meshguard.cli.idp.ProductIdp;
import io.meshguard.cli.idp.UpIdp;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ComponentStack;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code up --idp keycloak}: starts {@link KeycloakComponent} in the stack (stopped with it) and says how the admin
 * APIs accept its tokens. The static token file stays usable as break-glass ({@code admin.break_glass: true}, every
 * use logged at WARN and in the admin trail): {@code meshguard apikey} and {@code meshguard quota} read it from
 * up.json and keep working with no sign-in step, and the CLI carries no password-grant code a production IdP could
 * be pointed at.
 */
public final class LocalIdp {
    private final KeycloakComponent keycloak;
    private final LocalRealm realm;
    private final Path accessFile;

    private LocalIdp(KeycloakComponent keycloak, LocalRealm realm, Path accessFile) {
        this.keycloak = keycloak;
        this.realm = realm;
        this.accessFile = accessFile;
    }

    /** {@code DATA_DIR/keycloak}: log and pid file of up's Keycloak. */
    public static Path workDir(Path dataDir) {
        return dataDir.resolve("keycloak");
    }

    /** Stops a Keycloak an {@code up} that was killed left running on this data directory. */
    public static void stopOrphan(Path dataDir) throws IOException {
        KeycloakComponent.stopOrphan(workDir(dataDir));
    }

    /** Starts Keycloak with the {@code meshguard} realm as a component of {@code stack}. */
    public static LocalIdp start(
            ComponentStack stack, Path dataDir, int port, Path policiesDir, StatusHttpServer status) throws Exception {
        LocalRealm realm = LocalRealm.generate(AdminAccessSettings.AUDIENCE.defaultValue());
        KeycloakComponent keycloak = new KeycloakComponent(
                workDir(dataDir), KeycloakComponent.defaultCacheDir(System.getenv()), port, realm);
        stack.start(keycloak);
        status.addReadinessChecks(keycloak.readinessChecks());
        return new LocalIdp(keycloak, realm, policiesDir.resolve("access.yaml"));
    }

    /** The admin plane's settings: this realm's issuer, policies/access.yaml, the token file as break-glass. */
    public AdminAccessSettings adminAccess() {
        return new AdminAccessSettings(
                Optional.of(keycloak.issuer()),
                realm.audience(),
                Duration.ofSeconds(30),
                Optional.of(accessFile),
                true);
    }

    /** Where the catalogue creates customers' OAuth2 clients, and the issuer extauthz trusts for their tokens. */
    public ProductIdp productIdp() {
        return ProductIdp.of(keycloak.baseUrl(), realm);
    }

    /** The realm's confidential console client, for the console's sign-in. */
    public ConsoleClient consoleClient() {
        return new ConsoleClient(realm.consoleClient(), realm.consoleSecret());
    }

    /** What up.json says. */
    public UpIdp state() {
        return keycloak.state();
    }

    /** The banner's line. */
    public String endpoint() {
        return String.format(
                "%-10s %s  (realm %s, issuer %s; clients %s and %s; demo users and passwords in "
                        + "up.json, local realm only; admin token file = break-glass)",
                "keycloak",
                keycloak.baseUrl(),
                realm.name(),
                keycloak.issuer(),
                realm.cliClient(),
                realm.consoleClient());
    }
}
