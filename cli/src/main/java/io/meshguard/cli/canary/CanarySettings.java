package io.meshguard.cli.canary;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code meshguard canary}'s settings ({@code canary.*}).
 *
 * @param expiredToken an operator's expired token from the real issuer; empty: the canary signs its own
 * @param credential the bearer token card canaries present; empty when no route lists {@code test_card}
 */
public record CanarySettings(
        Path routesFile,
        Duration interval,
        Duration timeout,
        int blockStatus,
        Optional<String> expiredToken,
        Optional<String> credential) {

    /** The status listener's default port (metrics, health), next to the servers' 9101–9103. */
    public static final int DEFAULT_HTTP_PORT = 9104;

    public static final ConfigKey<Optional<Path>> ROUTES_FILE = ConfigKey.optionalPath(
            "canary.routes_file",
            "YAML file listing the protected routes to probe: name, url (the real path through the gateway or"
                    + " waypoint), kinds (expired_token, test_card), headers. Required.");
    public static final ConfigKey<Duration> INTERVAL = ConfigKey.duration(
            "canary.interval",
            Duration.ofMinutes(1),
            "How often every route's canaries are sent (meshguard_canary_checks_total{route,kind,result}).");
    public static final ConfigKey<Duration> TIMEOUT = ConfigKey.duration(
            "canary.timeout",
            Duration.ofSeconds(10),
            "How long one canary waits for its answer; no answer counts as unreachable.");
    public static final ConfigKey<Integer> BLOCK_STATUS = ConfigKey.integer(
            "canary.block_status",
            403,
            400,
            499,
            "The status dlp.yaml's block_response gives a blocked request: a test_card canary passes on it with the"
                    + " DLP's dlp_blocked body.");
    public static final ConfigKey<Optional<Path>> EXPIRED_TOKEN_FILE = ConfigKey.optionalPath(
            "canary.expired_token_file",
            "File holding an expired token from the real issuer (it stays expired): the Check then refuses it for"
                    + " its expiry. Unset: a token signed with a key no issuer has, refused for its key.");
    public static final ConfigKey<Optional<Path>> CREDENTIAL_FILE = ConfigKey.optionalPath(
            "canary.credential_file",
            "File holding the bearer token test_card canaries present so that the Check passes them on to the DLP"
                    + " (a client of its own, allowed on the probed routes only). Required with test_card routes.");

    public static ConfigGroup<CanarySettings> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(ROUTES_FILE, INTERVAL, TIMEOUT, BLOCK_STATUS, EXPIRED_TOKEN_FILE, CREDENTIAL_FILE);
            }

            @Override
            public CanarySettings read(Config config) {
                Path routes = config.get(ROUTES_FILE)
                        .orElseThrow(() -> new IllegalArgumentException(ROUTES_FILE.name() + ": required"));
                Duration interval = config.get(INTERVAL);
                if (interval.isZero() || interval.isNegative()) {
                    throw new IllegalArgumentException(INTERVAL.name() + ": must be positive");
                }
                return new CanarySettings(
                        routes,
                        interval,
                        config.get(TIMEOUT),
                        config.get(BLOCK_STATUS),
                        config.get(EXPIRED_TOKEN_FILE).map(f -> secret(EXPIRED_TOKEN_FILE, f)),
                        config.get(CREDENTIAL_FILE).map(f -> secret(CREDENTIAL_FILE, f)));
            }
        };
    }

    private static String secret(ConfigKey<?> key, Path file) {
        try {
            String value = Files.readString(file).strip();
            if (value.isEmpty()) {
                throw new IllegalArgumentException(key.name() + ": " + file + " is empty");
            }
            return value;
        } catch (IOException e) {
            throw new UncheckedIOException(key.name() + ": cannot read " + file, e);
        }
    }
}
