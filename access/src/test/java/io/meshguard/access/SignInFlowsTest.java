package io.meshguard.access;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.testing.HeadlessBrowser;
import io.meshguard.testing.InstallGuideRealm;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.KeycloakServer;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** People signing in against a real Keycloak: the device grant (meshguard login) and code + PKCE (the console). */
@IntegrationTest
class SignInFlowsTest {
    private static final AdminRoute ROLLBACK = AdminRoute.system("POST", "/rollback/{revision}", "revision:rollback");
    private static KeycloakRealm realm;
    private static RoleBindings bindings;

    @TempDir
    Path tmp;

    @BeforeAll
    static void realm() throws Exception {
        realm = new KeycloakRealm("sign-in");
        try (var in = SignInFlowsTest.class.getResourceAsStream("/test-access.yaml")) {
            bindings = RoleBindings.parse("test-access.yaml", new String(in.readAllBytes()));
        }
    }

    private static AdminGate gate() {
        return new AdminGate(
                Optional.of(new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(realm.issuer(), "meshguard-admin", Duration.ofSeconds(30)))),
                bindings,
                new BearerTokens(Optional.empty()),
                false,
                e -> {},
                Clock.systemUTC(),
                "admin.token_file");
    }

    @Test
    void deviceGrant_withPkce_againstTheRealmAsInstallGuideSays_storesA0600Token_thatTheAdminPlaneAccepts()
            throws Exception {
        // the realm docs/install.md sets up (its meshguard-cli requires PKCE S256), not the test realm: a device
        // request without a code challenge was refused there with 400 "Missing parameter: code_challenge_method"
        KeycloakServer keycloak = KeycloakServer.shared();
        InstallGuideRealm shipped = keycloak.realmAsInstallGuideSays(
                "sign-in-guide", "http://127.0.0.1:1", CodeFlowClient.random(24), CodeFlowClient.random(24));
        String password = CodeFlowClient.random(18);
        keycloak.addPerson(shipped, "alice", password, List.of("meshguard-system-admins"));
        String issuer = keycloak.issuer(shipped.realm());
        OidcClient client = new OidcClient(issuer, "meshguard-cli", Clock.systemUTC());
        OidcClient.DeviceCode code = client.startDeviceLogin();
        assertThat(code.verifier()).hasSize(64).matches("[A-Za-z0-9_-]+");
        assertThat(code.toString()).doesNotContain(code.verifier()).doesNotContain(code.deviceCode());
        CompletableFuture<SignedInToken> login = CompletableFuture.supplyAsync(() -> {
            try {
                return client.awaitDeviceLogin(code);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        // the person: opens the link, signs in, grants access
        new HeadlessBrowser().approveDevice(code.verificationUriComplete(), "alice", password);
        SignedInToken token = login.get(60, java.util.concurrent.TimeUnit.SECONDS);

        TokenStore store = new TokenStore(tmp.resolve("config/meshguard/token.json"));
        store.save(token);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file())))
                .isEqualTo("rw-------");
        assertThat(store.load()).contains(token);
        AdminGate shippedGate = new AdminGate(
                Optional.of(new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(issuer, "meshguard-admin", Duration.ofSeconds(30)))),
                bindings,
                new BearerTokens(Optional.empty()),
                false,
                e -> {},
                Clock.systemUTC(),
                "admin.token_file");
        assertThat(shippedGate.admit(
                        "Bearer " + store.load().orElseThrow().accessToken(),
                        "127.0.0.1",
                        "r",
                        ROLLBACK,
                        List.of("rollback", "3")))
                .isInstanceOf(AdminGate.Admitted.class);
        SignedInToken refreshed = client.refresh(token);
        assertThat(refreshed.accessToken()).isNotEqualTo(token.accessToken());
    }

    @Test
    void deviceGrant_theShippedRealm_refusesADeviceRequestWithoutACodeChallenge() throws Exception {
        // what meshguard login sent before RFC 7636 support, against the realm as docs/install.md sets it up
        KeycloakServer keycloak = KeycloakServer.shared();
        InstallGuideRealm shipped = keycloak.realmAsInstallGuideSays(
                "sign-in-no-pkce", "http://127.0.0.1:1", CodeFlowClient.random(24), CodeFlowClient.random(24));
        java.net.http.HttpResponse<String> refused = java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(URI.create(
                                        keycloak.issuer(shipped.realm()) + "/protocol/openid-connect/auth/device"))
                                .header("Content-Type", "application/x-www-form-urlencoded")
                                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                        KeycloakServer.form(Map.of("client_id", "meshguard-cli", "scope", "openid"))))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        assertThat(refused.body()).contains("code_challenge_method");
    }

    @Test
    void codeWithPkce_followingTheLoginForm_givesAnAccessTokenWithTheUsersRoles() throws Exception {
        String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(new SecureRandom().generateSeed(32));
        String challenge = Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(
                        MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        String redirect = "http://127.0.0.1/callback";
        String authorize = realm.issuer() + "/protocol/openid-connect/auth?response_type=code"
                + "&client_id=meshguard-console"
                + "&scope=openid&state=s1&code_challenge_method=S256&code_challenge=" + challenge
                + "&redirect_uri=" + URLEncoder.encode(redirect, StandardCharsets.UTF_8);

        HeadlessBrowser browser = new HeadlessBrowser();
        HttpResponse<String> login = browser.open(authorize);
        HttpResponse<String> back = browser.submit(login, Map.of("username", "dora", "password", "dora-pw"));
        assertThat(back.statusCode())
                .as("after the login form: %s", back.body())
                .isEqualTo(302);
        URI callback = URI.create(back.headers().firstValue("Location").orElseThrow());
        assertThat(callback.toString()).startsWith(redirect).contains("state=s1");
        String code = callback.getQuery().replaceAll(".*(?:^|&)code=([^&]+).*", "$1");

        var withoutVerifier = realm.keycloak.token(
                realm.name,
                Map.of(
                        "grant_type",
                        "authorization_code",
                        "client_id",
                        "meshguard-console",
                        "client_secret",
                        "console-secret",
                        "code",
                        code,
                        "redirect_uri",
                        redirect));
        assertThat(withoutVerifier.statusCode()).as("PKCE is enforced").isEqualTo(400);
        // a code is single-use: a fresh login for the exchange with the verifier
        HttpResponse<String> again = browser.open(authorize);
        assertThat(again.statusCode())
                .as("signed in already: straight back with a code")
                .isEqualTo(302);
        URI callback2 = URI.create(again.headers().firstValue("Location").orElseThrow());
        String code2 = callback2.getQuery().replaceAll(".*(?:^|&)code=([^&]+).*", "$1");
        String access = KeycloakServer.jsonField(
                realm.tokenResponse(Map.of(
                        "grant_type",
                        "authorization_code",
                        "client_id",
                        "meshguard-console",
                        "client_secret",
                        "console-secret",
                        "code",
                        code2,
                        "redirect_uri",
                        redirect,
                        "code_verifier",
                        verifier)),
                "access_token");

        AdminGate.Admission fleet = gate().admit(
                        "Bearer " + access,
                        "127.0.0.1",
                        "r",
                        AdminRoute.system("GET", "/fleet", "fleet:read"),
                        List.of("fleet"));
        assertThat(fleet).isInstanceOfSatisfying(AdminGate.Admitted.class, a -> assertThat(
                        a.decision().roleUsed())
                .isEqualTo("auditor@system"));
    }
}
