package io.meshguard.devstack.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The OAuth2 step itself runs in e2e's GatewayJourneysTest against the real Keycloak. */
class ProductsDemoTest {
    @Test
    void oauth2Step_withoutAnIdp_saysItIsSkipped_andHowToPlayIt() {
        ByteArrayOutputStream text = new ByteArrayOutputStream();

        boolean play =
                ProductsDemo.announceOAuth2(new PrintStream(text, true, StandardCharsets.UTF_8), Optional.empty());

        assertThat(play).isFalse();
        assertThat(text.toString(StandardCharsets.UTF_8))
                .contains("== 12.", "skipped", "without an identity provider", "meshguard up --idp keycloak");
    }

    @Test
    void oauth2Step_withUpsRealm_isPlayed_withTheRealmsTokenEndpoint() {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        CustomerTokens realm = CustomerTokens.ofIssuer("http://127.0.0.1:8180/realms/meshguard/");

        boolean play =
                ProductsDemo.announceOAuth2(new PrintStream(text, true, StandardCharsets.UTF_8), Optional.of(realm));

        assertThat(play).isTrue();
        assertThat(text.toString(StandardCharsets.UTF_8)).contains("== 12.").doesNotContain("skipped");
        assertThat(realm.tokenEndpoint())
                .isEqualTo(URI.create("http://127.0.0.1:8180/realms/meshguard/protocol/openid-connect/token"));
    }
}
