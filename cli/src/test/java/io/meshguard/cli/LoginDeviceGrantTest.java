package io.meshguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.OidcClient;
import io.meshguard.access.SignedInToken;
import io.meshguard.cli.idp.DemoUser;
import io.meshguard.cli.idp.LocalRealm;
import io.meshguard.testing.HeadlessBrowser;
import io.meshguard.testing.KeycloakServer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code meshguard login} (its client, {@link OidcClient}) against the realm {@code meshguard up --idp keycloak}
 * imports, whose {@code meshguard-cli} requires PKCE S256: before RFC 7636 support the device request was refused
 * with 400 "Missing parameter: code_challenge_method". The realm docs/install.md sets up is access's SignInFlowsTest.
 */
class LoginDeviceGrantTest {
    @Test
    void login_againstTheRealmUpCreates_sendsPkce_andSignsThePersonIn() throws Exception {
        KeycloakServer keycloak = KeycloakServer.shared();
        LocalRealm realm = LocalRealm.generate("meshguard-admin");
        String name = "login-up";
        keycloak.importRealm(realm.toJson().replace("\"realm\":\"" + LocalRealm.NAME + "\"",
                "\"realm\":\"" + name + "\""));
        DemoUser admin = realm.user("system-admin", "");
        OidcClient cli = new OidcClient(keycloak.issuer(name), LocalRealm.CLI_CLIENT, Clock.systemUTC());

        OidcClient.DeviceCode code = cli.startDeviceLogin();
        CompletableFuture<SignedInToken> login = CompletableFuture.supplyAsync(() -> {
            try {
                return cli.awaitDeviceLogin(code);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        new HeadlessBrowser().approveDevice(code.verificationUriComplete(), admin.username(), admin.password());
        SignedInToken token = login.get(90, TimeUnit.SECONDS);

        String claims = new String(Base64.getUrlDecoder().decode(token.accessToken().split("\\.")[1]),
                StandardCharsets.UTF_8);
        assertThat(claims).contains("\"meshguard-admin\"").contains("meshguard-system-admins")
                .contains("\"preferred_username\":\"" + admin.username() + "\"");
    }
}
