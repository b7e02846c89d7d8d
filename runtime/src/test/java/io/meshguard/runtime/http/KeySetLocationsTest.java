package io.meshguard.runtime.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class KeySetLocationsTest {
    @Test
    void https_anyHost_allowed() {
        assertThat(KeySetLocations.allowed(URI.create("https://idp.bank.example/jwks")))
                .isTrue();
        assertThat(KeySetLocations.allowed(URI.create("HTTPS://idp.bank.example/jwks")))
                .isTrue();
    }

    @Test
    void http_onlyToThisMachine_allowed() {
        assertThat(KeySetLocations.allowed(URI.create("http://localhost:8080/jwks")))
                .isTrue();
        assertThat(KeySetLocations.allowed(URI.create("http://127.0.0.1:8080/jwks")))
                .isTrue();
        assertThat(KeySetLocations.allowed(URI.create("http://[::1]:8080/jwks")))
                .isTrue();
        assertThat(KeySetLocations.allowed(URI.create("http://idp.bank.example/jwks")))
                .isFalse();
        assertThat(KeySetLocations.allowed(URI.create("http://localhost.attacker.example/jwks")))
                .isFalse();
        assertThat(KeySetLocations.allowed(URI.create("http://127.0.0.1.nip.io/jwks")))
                .isFalse();
    }

    @Test
    void otherSchemes_andNoHost_refused() {
        assertThat(KeySetLocations.allowed(URI.create("file:///etc/jwks.json"))).isFalse();
        assertThat(KeySetLocations.allowed(URI.create("ftp://idp.bank.example/jwks")))
                .isFalse();
        assertThat(KeySetLocations.allowed(URI.create("https:///jwks"))).isFalse();
    }
}
