package io.meshguard.console;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The console's keys in a controller's config file ({@code console.*}, operator guide): its OIDC client at the admin
 * plane's issuer ({@code admin.oidc.issuer}) and the URL browsers reach the admin port at. The secret is read from a
 * file, never from the YAML itself, like every other secret of meshguard's config.
 *
 * @param publicUrl empty: {@code http://127.0.0.1:<admin port>} (a browser on the controller's own machine)
 */
public record ConsoleConfig(
        String clientId, Optional<Path> clientSecretFile, String publicUrl, Duration idle, Duration absolute) {

    public static final ConfigKey<String> CLIENT_ID = ConfigKey.string(
            "console.oidc.client_id",
            "meshguard-console",
            "The console's OIDC client at admin.oidc.issuer (authorization code + PKCE; confidential with a secret).");
    public static final ConfigKey<Optional<Path>> CLIENT_SECRET_FILE = ConfigKey.optionalPath(
            "console.oidc.client_secret_file",
            "File holding the console client's secret (sent as client_secret_post). "
                    + "Empty: a public client (PKCE only).");
    public static final ConfigKey<String> PUBLIC_URL = ConfigKey.string(
            "console.public_url",
            "",
            "The admin port's origin as browsers reach it, e.g. https://meshguard.example; the redirect URI is "
                    + "PUBLIC_URL/console/callback. Empty: http://127.0.0.1:<xds.http.port>.");
    public static final ConfigKey<Duration> IDLE = ConfigKey.duration(
            "console.session.idle", Duration.ofMinutes(30), "A console session unused this long ends.");
    public static final ConfigKey<Duration> ABSOLUTE = ConfigKey.duration(
            "console.session.absolute",
            Duration.ofHours(8),
            "A console session ends this long after sign-in, used or not.");

    public static ConfigGroup<ConsoleConfig> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(CLIENT_ID, CLIENT_SECRET_FILE, PUBLIC_URL, IDLE, ABSOLUTE);
            }

            @Override
            public ConsoleConfig read(Config config) {
                return new ConsoleConfig(
                        config.get(CLIENT_ID),
                        config.get(CLIENT_SECRET_FILE),
                        config.get(PUBLIC_URL),
                        config.get(IDLE),
                        config.get(ABSOLUTE));
            }
        };
    }

    /**
     * The settings the console runs with: sign-in at {@code issuer} (empty: the admin token file's token, local mode).
     *
     * @param port the admin port, for the default public URL
     * @throws UncheckedIOException when the secret file cannot be read
     */
    public ConsoleSettings settings(Optional<String> issuer, int port) {
        Optional<String> secret = clientSecretFile.map(f -> {
            try {
                return Files.readString(f, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new UncheckedIOException("console.oidc.client_secret_file: cannot read " + f, e);
            }
        });
        return new ConsoleSettings(
                issuer, clientId, secret, publicUrl.isBlank() ? "http://127.0.0.1:" + port : publicUrl, idle, absolute);
    }
}
