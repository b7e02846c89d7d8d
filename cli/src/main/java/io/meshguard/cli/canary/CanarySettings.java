package io.meshguard.cli.canary;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code meshguard canary}'s settings ({@code canary.*}).
 *
 * @param expiredToken an operator's expired token from the real issuer; empty: the canary signs its own
 * @param credential how card canaries get the bearer token they present; empty when no route lists {@code test_card}
 * @param auditUrl the admin API a pass is confirmed through (its audit rows)
 * @param auditToken how the canary gets the bearer token that reads them ({@code audit:read}, system scope)
 * @param evidenceWait how long a canary waits for its audit rows
 * @param renewBefore how long before a signed-in token's expiry the canary signs in again
 * @param tlsCaFile the CAs the canary trusts instead of the JDK's: a bank's gateway, identity provider and admin
 *     origin present certificates of its own CA
 */
public record CanarySettings(
        Path routesFile,
        Duration interval,
        Duration timeout,
        int blockStatus,
        Optional<String> expiredToken,
        Optional<TokenSetting> credential,
        String auditUrl,
        TokenSetting auditToken,
        Duration evidenceWait,
        Duration renewBefore,
        Optional<Path> tlsCaFile) {

    /** Where a token comes from: a file holding one (re-read when it changes), or a client that signs in. */
    public sealed interface TokenSetting {}

    /** A file holding a bearer token as is, re-read when it changes (a token someone else keeps fresh). */
    public record TokenFile(Path file) implements TokenSetting {}

    /**
     * A confidential client that signs in with the client-credentials grant at {@code tokenEndpoint}, its secret in
     * {@code secretFile} (re-read when it changes).
     */
    public record SignIn(URI tokenEndpoint, String clientId, Path secretFile) implements TokenSetting {}

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
            "File holding a bearer token test_card canaries present, re-read when it changes: the static alternative"
                    + " to canary.client_id, for a token something else keeps fresh.");
    public static final ConfigKey<String> TOKEN_ENDPOINT = ConfigKey.string(
            "canary.token_endpoint",
            "",
            "The identity provider's OAuth 2.0 token endpoint (Keycloak: <issuer>/protocol/openid-connect/token) at"
                    + " which canary.client_id and canary.audit_client_id sign in with the client-credentials grant.");
    public static final ConfigKey<String> CLIENT_ID = ConfigKey.string(
            "canary.client_id",
            "",
            "The confidential client whose tokens test_card canaries present so that the Check passes them on to the"
                    + " DLP (a client of its own, allowed on the probed routes only). It or canary.credential_file is"
                    + " required with test_card routes.");
    public static final ConfigKey<Optional<Path>> CLIENT_SECRET_FILE = ConfigKey.optionalPath(
            "canary.client_secret_file",
            "File holding canary.client_id's secret (a mounted Secret), re-read when it changes.");
    public static final ConfigKey<String> AUDIT_CLIENT_ID = ConfigKey.string(
            "canary.audit_client_id",
            "",
            "The confidential client whose tokens read the audit log (its service account bound to audit:read,"
                    + " system scope). It or canary.audit_token_file is required.");
    public static final ConfigKey<Optional<Path>> AUDIT_CLIENT_SECRET_FILE = ConfigKey.optionalPath(
            "canary.audit_client_secret_file",
            "File holding canary.audit_client_id's secret (a mounted Secret), re-read when it changes.");
    public static final ConfigKey<Duration> RENEW_BEFORE = ConfigKey.duration(
            "canary.renew_before",
            Duration.ofSeconds(60),
            "How long before a signed-in token expires the canary signs in again (at most half the token's life);"
                    + " a failed renewal keeps the token while it is valid and is tried again at the next use.");

    public static final ConfigKey<String> AUDIT_URL = ConfigKey.string(
            "canary.audit_url",
            "",
            "The admin API (the controller's admin port) whose audit log confirms each canary: a canary passes only"
                    + " when the Check's (and for test_card the DLP's) audit rows for its trace id are there. Required.");
    public static final ConfigKey<Optional<Path>> AUDIT_TOKEN_FILE = ConfigKey.optionalPath(
            "canary.audit_token_file",
            "File holding a bearer token the canary reads the audit log with (audit:read, system scope: an expired"
                    + " token's Check row has no tenant), re-read when it changes: the static alternative to"
                    + " canary.audit_client_id.");
    public static final ConfigKey<Duration> EVIDENCE_WAIT = ConfigKey.duration(
            "canary.evidence_wait",
            Duration.ofSeconds(30),
            "How long a canary waits for its audit rows (the servers write them in batches); none by then: the"
                    + " canary got through.");

    public static final ConfigKey<Optional<Path>> TLS_CA_FILE = ConfigKey.optionalPath(
            "canary.tls_ca_file",
            "PEM file of the CAs the canary trusts for the probed routes, the token endpoint and the admin API (the"
                    + " optional Secret meshguard-idp-ca, as the servers read it): set, only its CAs are trusted, so it"
                    + " holds every CA those present; unset or absent, the JDK trust store.");

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
                        TOKEN_ENDPOINT,
                        CLIENT_ID,
                        CLIENT_SECRET_FILE,
                        AUDIT_URL,
                        AUDIT_TOKEN_FILE,
                        AUDIT_CLIENT_ID,
                        AUDIT_CLIENT_SECRET_FILE,
                        RENEW_BEFORE,
                        EVIDENCE_WAIT,
                        TLS_CA_FILE);
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
                        token(config, CREDENTIAL_FILE, CLIENT_ID, CLIENT_SECRET_FILE),
                        Optional.of(config.get(AUDIT_URL))
                                .filter(u -> !u.isBlank())
                                .orElseThrow(() -> new IllegalArgumentException(AUDIT_URL.name()
                                        + ": required (a canary passes only when the audit log shows meshguard"
                                        + " decided it)")),
                        token(config, AUDIT_TOKEN_FILE, AUDIT_CLIENT_ID, AUDIT_CLIENT_SECRET_FILE)
                                .orElseThrow(() -> new IllegalArgumentException(AUDIT_CLIENT_ID.name() + " and "
                                        + AUDIT_CLIENT_SECRET_FILE.name() + " (with " + TOKEN_ENDPOINT.name()
                                        + "): required, the client whose tokens read the audit log (or "
                                        + AUDIT_TOKEN_FILE.name() + " for a static token)")),
                        config.get(EVIDENCE_WAIT),
                        config.get(RENEW_BEFORE),
                        config.get(TLS_CA_FILE));
            }
        };
    }

    /** The token file, or the client that signs in, one of the two; empty when neither is set. */
    private static Optional<TokenSetting> token(
            Config config,
            ConfigKey<Optional<Path>> file,
            ConfigKey<String> clientId,
            ConfigKey<Optional<Path>> secret) {
        Optional<Path> tokenFile = config.get(file);
        Optional<String> client = Optional.of(config.get(clientId)).filter(c -> !c.isBlank());
        if (tokenFile.isPresent() && client.isPresent()) {
            throw new IllegalArgumentException(
                    file.name() + " and " + clientId.name() + ": set one (a static token, or a client that signs in)");
        }
        if (tokenFile.isPresent()) {
            readable(file, tokenFile.get());
            return Optional.of(new TokenFile(tokenFile.get()));
        }
        if (client.isEmpty()) {
            if (config.get(secret).isPresent()) {
                throw new IllegalArgumentException(secret.name() + " is set without " + clientId.name());
            }
            return Optional.empty();
        }
        Path secretFile = config.get(secret)
                .orElseThrow(() -> new IllegalArgumentException(secret.name() + ": required with " + clientId.name()
                        + " (the client's secret, a mounted file)"));
        readable(secret, secretFile);
        String endpoint = config.get(TOKEN_ENDPOINT);
        if (endpoint.isBlank()) {
            throw new IllegalArgumentException(TOKEN_ENDPOINT.name() + ": required with " + clientId.name()
                    + " (Keycloak: <issuer>/protocol/openid-connect/token)");
        }
        URI uri = URI.create(endpoint);
        if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) {
            throw new IllegalArgumentException(TOKEN_ENDPOINT.name() + ": an http(s) URL, got '" + endpoint + "'");
        }
        return Optional.of(new SignIn(uri, client.get(), secretFile));
    }

    private static String secret(ConfigKey<?> key, Path file) {
        readable(key, file);
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(key.name() + ": cannot read " + file, e);
        }
    }

    /** Refuses at start a file the canary could never read; its content is read at each use. */
    private static void readable(ConfigKey<?> key, Path file) {
        try {
            if (Files.readString(file).isBlank()) {
                throw new IllegalArgumentException(key.name() + ": " + file + " is empty");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(key.name() + ": cannot read " + file, e);
        }
    }
}
