package io.meshguard.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A confidential client's tokens from a real Keycloak (the test realm's {@code meshguard-automation}, tokens living
 * 300 s), held on a clock the test moves: reused within their life, renewed before it ends, kept while valid when a
 * renewal fails.
 */
@IntegrationTest
class ClientCredentialsTokensTest {
    private static final Duration LIFE = Duration.ofSeconds(300);
    private static final Duration RENEW_BEFORE = Duration.ofSeconds(60);

    static KeycloakRealm realm;

    final MovableClock clock = new MovableClock(Instant.now());
    final AtomicReference<Optional<String>> secret = new AtomicReference<>(Optional.of("automation-secret"));

    @BeforeAll
    static void realm() {
        realm = new KeycloakRealm("client-credentials");
    }

    private ClientCredentialsTokens tokens(URI endpoint) {
        return new ClientCredentialsTokens(
                endpoint,
                "meshguard-automation",
                secret::get,
                RENEW_BEFORE,
                Duration.ofSeconds(10),
                clock,
                Optional.empty());
    }

    private ClientCredentialsTokens tokens() {
        return tokens(ClientCredentialsTokens.keycloakTokenEndpoint(realm.issuer()));
    }

    @Test
    void current_withinItsLife_reusesTheToken_andSignsInAgainBeforeItExpires() throws Exception {
        ClientCredentialsTokens tokens = tokens();
        String first = tokens.current();

        assertThat(tokens.current()).isEqualTo(first);
        clock.advance(LIFE.minus(RENEW_BEFORE).minusSeconds(1));
        assertThat(tokens.current()).as("still before the renewal time").isEqualTo(first);
        clock.advance(Duration.ofSeconds(2));
        String renewed = tokens.current();

        assertThat(renewed).isNotEqualTo(first);
        assertThat(tokens.current()).isEqualTo(renewed);
    }

    @Test
    void current_renewalRefused_keepsTheValidToken_thenSaysItCannotSignIn() throws Exception {
        ClientCredentialsTokens tokens = tokens();
        String first = tokens.current();
        secret.set(Optional.of("a-rotated-secret-keycloak-does-not-know"));

        clock.advance(LIFE.minus(RENEW_BEFORE).plusSeconds(1));
        assertThat(tokens.current())
                .as("the renewal failed, the token is still valid")
                .isEqualTo(first);
        clock.advance(RENEW_BEFORE);

        assertThatThrownBy(tokens::current)
                .isInstanceOf(ClientCredentialsTokens.SignInFailed.class)
                .hasMessageContaining("client meshguard-automation cannot sign in")
                .hasMessageContaining("401")
                .hasMessageNotContaining("a-rotated-secret");
        secret.set(Optional.of("automation-secret"));
        assertThat(tokens.current()).as("the next call signs in again").isNotEqualTo(first);
    }

    @Test
    void current_noSecretOrNoEndpoint_saysWhy() throws Exception {
        secret.set(Optional.empty());
        assertThatThrownBy(() -> tokens().current())
                .isInstanceOf(ClientCredentialsTokens.SignInFailed.class)
                .hasMessageContaining("no client secret");
        secret.set(Optional.of("automation-secret"));
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        assertThatThrownBy(() -> tokens(URI.create("http://127.0.0.1:" + closed + "/token"))
                        .current())
                .isInstanceOf(ClientCredentialsTokens.SignInFailed.class)
                .hasMessageContaining("cannot be reached");
    }
}
