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
 * @param auditUrl the admin API a pass is confirmed through (its audit rows)
 * @param auditTokenFile the file of the bearer token that reads them ({@code audit:read}, system scope)
 * @param evidenceWait how long a canary waits for its audit rows
 */
public record CanarySettings(
        Path routesFile,
        Duration interval,
        Duration timeout,
        int blockStatus,
        Optional<String> expiredToken,
        Optional<String> credential,
        String auditUrl,
        Path auditTokenFile,
        Duration evidenceWait) {

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
            "The status dlp.yaml's block_response gives a blocked request: a test_card canary answered otherwise got"
                    + " through; answered so, it passes once the DLP's blocked session is in the audit log.");
    public static final ConfigKey<Optional<Path>> EXPIRED_TOKEN_FILE = ConfigKey.optionalPath(
            "canary.expired_token_file",
            "File holding an expired token from the real issuer (it stays expired): the Check then refuses it for"
                    + " its expiry. Unset: a token signed with a key no issuer has, refused for its key.");
    public static final ConfigKey<Optional<Path>> CREDENTIAL_FILE = ConfigKey.optionalPath(
            "canary.credential_file",
            "File holding the bearer token test_card canaries present so that the Check passes them on to the DLP"
                    + " (a client of its own, allowed on the probed routes only). Required with test_card routes.");

    public static final ConfigKey<String> AUDIT_URL = ConfigKey.string(
            "canary.audit_url",
            "",
            "The admin API (the controller's admin port) whose audit log confirms each canary: a canary passes only"
                    + " when the Check's (and for test_card the DLP's) audit rows for its trace id are there. Required.");
    public static final ConfigKey<Optional<Path>> AUDIT_TOKEN_FILE = ConfigKey.optionalPath(
            "canary.audit_token_file",
            "File holding the bearer token the canary reads the audit log with (audit:read, system scope: an expired"
                    + " token's Check row has no tenant). Required.");
    public static final ConfigKey<Duration> EVIDENCE_WAIT = ConfigKey.duration(
            "canary.evidence_wait",
            Duration.ofSeconds(30),
            "How long a canary waits for its audit rows (the servers write them in batches); none by then: the"
                    + " canary got through.");

    public static ConfigGroup<CanarySettings> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(
                        ROUTES_FILE,
                        INTERVAL,
                        TIMEOUT,
                        BLOCK_STATUS,
                        EXPIRED_TOKEN_FILE,
                        CREDENTIAL_FILE,
                        AUDIT_URL,
                        AUDIT_TOKEN_FILE,
                        EVIDENCE_WAIT);
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
                        config.get(CREDENTIAL_FILE).map(f -> secret(CREDENTIAL_FILE, f)),
                        Optional.of(config.get(AUDIT_URL))
                                .filter(u -> !u.isBlank())
                                .orElseThrow(() -> new IllegalArgumentException(AUDIT_URL.name()
                                        + ": required (a canary passes only when the audit log shows meshguard"
                                        + " decided it)")),
                        config.get(AUDIT_TOKEN_FILE)
                                .orElseThrow(() -> new IllegalArgumentException(
                                        AUDIT_TOKEN_FILE.name() + ": required (the token the audit log is read with)")),
                        config.get(EVIDENCE_WAIT));
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
