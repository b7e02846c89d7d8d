package io.meshguard.access;

import io.meshguard.testing.KeycloakServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** The test realm ({@code test-realm.json}) imported into the shared Keycloak under a per-class name. */
final class KeycloakRealm {
    final KeycloakServer keycloak = KeycloakServer.shared();
    final String name;

    KeycloakRealm(String name) {
        this.name = name;
        try (InputStream in = KeycloakRealm.class.getResourceAsStream("/test-realm.json")) {
            keycloak.importRealm(new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .replace("\"realm\": \"REALM\"", "\"realm\": \"" + name + "\""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String issuer() {
        return keycloak.issuer(name);
    }

    /** The JSON answer of the token endpoint, failing with Keycloak's answer when it is not 200. */
    String tokenResponse(Map<String, String> form) {
        var r = keycloak.token(name, form);
        if (r.statusCode() != 200) {
            throw new IllegalStateException("token endpoint answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    String passwordToken(String client, String user, String password) {
        return KeycloakServer.jsonField(
                tokenResponse(Map.of(
                        "grant_type",
                        "password",
                        "client_id",
                        client,
                        "username",
                        user,
                        "password",
                        password,
                        "scope",
                        "openid")),
                "access_token");
    }
}
