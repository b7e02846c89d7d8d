package io.meshguard.catalog.api;

import io.meshguard.access.KeycloakClients;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The catalogue API's settings ({@code catalog.*}), served on the xDS controller's admin port.
 *
 * @param keycloak where customers' OAuth2 clients are created; empty: only API keys are bound as credentials
 */
public record CatalogSettings(String domain, Optional<KeycloakClients> keycloak) {

    public static final ConfigKey<String> DOMAIN = ConfigKey.string(
            "catalog.domain",
            "meshguard.localhost",
            "DNS domain product publishes are served under: {product}.{environment}.{cluster region}.api.{domain}.");
    public static final ConfigKey<String> KEYCLOAK_URL = ConfigKey.string(
            "catalog.keycloak.url",
            "",
            "Keycloak base URL where customers' OAuth2 clients are created (client credentials). Empty: OAuth2 "
                    + "credentials are refused with 422; API keys work without it.");
    public static final ConfigKey<String> KEYCLOAK_REALM = ConfigKey.string(
            "catalog.keycloak.realm",
            "meshguard",
            "Realm the clients are created in (the realm extauthz's issuer is).");
    public static final ConfigKey<String> KEYCLOAK_CLIENT_ID = ConfigKey.string(
            "catalog.keycloak.client_id",
            "meshguard-provisioner",
            "meshguard's own confidential client in that realm; its service account needs "
                    + "realm-management manage-clients and view-clients, nothing else.");
    public static final ConfigKey<Optional<Path>> KEYCLOAK_CLIENT_SECRET_FILE = ConfigKey.optionalPath(
            "catalog.keycloak.client_secret_file", "File holding that client's secret (a mounted Secret).");
    public static final ConfigKey<String> KEYCLOAK_AUDIENCE = ConfigKey.string(
            "catalog.keycloak.audience",
            "meshguard",
            "Audience mapped into the created clients' access tokens: the audience extauthz's issuer "
                    + "entry expects.");

    public CatalogSettings {
        // fail at start, naming the key, rather than at the first publish
        try {
            PublishHost.of("p", Environment.DEV, "r", domain);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(DOMAIN.name() + ": " + e.getMessage(), e);
        }
    }

    public static ConfigGroup<CatalogSettings> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(
                        DOMAIN,
                        KEYCLOAK_URL,
                        KEYCLOAK_REALM,
                        KEYCLOAK_CLIENT_ID,
                        KEYCLOAK_CLIENT_SECRET_FILE,
                        KEYCLOAK_AUDIENCE);
            }

            @Override
            public CatalogSettings read(Config config) {
                String url = config.get(KEYCLOAK_URL).strip();
                if (url.isEmpty()) {
                    return new CatalogSettings(config.get(DOMAIN), Optional.empty());
                }
                Path secretFile = config.get(KEYCLOAK_CLIENT_SECRET_FILE)
                        .orElseThrow(() -> new IllegalArgumentException(
                                KEYCLOAK_CLIENT_SECRET_FILE.name() + ": required with " + KEYCLOAK_URL.name()));
                String secret;
                try {
                    secret = Files.readString(secretFile).strip();
                } catch (IOException e) {
                    throw new UncheckedIOException(
                            KEYCLOAK_CLIENT_SECRET_FILE.name() + ": cannot read " + secretFile, e);
                }
                return new CatalogSettings(
                        config.get(DOMAIN),
                        Optional.of(new KeycloakClients(
                                url,
                                config.get(KEYCLOAK_REALM),
                                config.get(KEYCLOAK_CLIENT_ID),
                                secret,
                                config.get(KEYCLOAK_AUDIENCE))));
            }
        };
    }
}
