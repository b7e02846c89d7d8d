package io.meshguard.extauthz.exchange;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where and as whom extauthz exchanges callers' tokens for MCP routes with {@code token_exchange:}
 * ({@code token_exchange.*}). The client credential is a mounted secret file, never part of the policy.
 *
 * @param tokenEndpoint the identity provider's token endpoint; empty: exchange routes are refused (503)
 * @param clientId the confidential client the exchange is made as (Keycloak: standard token exchange enabled on it)
 * @param clientSecretFile the client's secret (re-read when the file changes)
 * @param timeout longest wait for one exchange, connect included; past it the request is refused (503)
 * @param cacheMaxEntries exchanged tokens kept (per replica); 0: every request exchanges
 * @param renewBefore an exchanged token is not reused in its last this-long (so it never expires on its way upstream)
 */
public record TokenExchangeSettings(
        Optional<URI> tokenEndpoint,
        String clientId,
        Optional<Path> clientSecretFile,
        Duration timeout,
        long cacheMaxEntries,
        Duration renewBefore) {

    public static final ConfigKey<String> TOKEN_ENDPOINT = ConfigKey.string(
            "token_exchange.token_endpoint",
            "",
            "Token endpoint where callers' tokens on MCP routes with token_exchange are exchanged (RFC 8693), e.g. "
                    + "https://idp.bank.example/realms/agents/protocol/openid-connect/token. Empty: such routes are "
                    + "refused (503 token_exchange_unavailable), never forwarded with the caller's token.");
    public static final ConfigKey<String> CLIENT_ID = ConfigKey.string(
            "token_exchange.client_id",
            "",
            "The confidential client extauthz exchanges as (Keycloak: standard token exchange enabled, the MCP "
                    + "servers' audiences mapped to it).");
    public static final ConfigKey<Optional<Path>> CLIENT_SECRET_FILE = ConfigKey.optionalPath(
            "token_exchange.client_secret_file",
            "File (a mounted Secret) holding the exchange client's secret; re-read when it changes. Missing or empty: "
                    + "exchange routes are refused (503).");
    public static final ConfigKey<Duration> TIMEOUT = ConfigKey.duration(
            "token_exchange.timeout",
            Duration.ofSeconds(2),
            "Longest wait for one token exchange, connect included; a slower identity provider gets the request "
                    + "refused (503 token_exchange_unavailable).");
    public static final ConfigKey<Long> CACHE_MAX_ENTRIES = ConfigKey.longInteger(
            "token_exchange.cache_max_entries",
            10_000,
            0,
            1_000_000,
            "Exchanged tokens remembered per replica, by SHA-256 of the caller's token and the audience; 0 exchanges "
                    + "on every request.");
    public static final ConfigKey<Duration> RENEW_BEFORE = ConfigKey.duration(
            "token_exchange.renew_before",
            Duration.ofSeconds(30),
            "An exchanged token is reused until this long before its exp (and never past the caller's token's exp); "
                    + "then it is exchanged again.");

    public static final TokenExchangeSettings NONE = new TokenExchangeSettings(
            Optional.empty(), "", Optional.empty(), Duration.ofSeconds(2), 10_000, Duration.ofSeconds(30));

    /** Whether an endpoint, a client and its secret file are all named. */
    public boolean configured() {
        return tokenEndpoint.isPresent() && !clientId.isBlank() && clientSecretFile.isPresent();
    }

    public static ConfigGroup<TokenExchangeSettings> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(TOKEN_ENDPOINT, CLIENT_ID, CLIENT_SECRET_FILE, TIMEOUT, CACHE_MAX_ENTRIES, RENEW_BEFORE);
            }

            @Override
            public TokenExchangeSettings read(Config config) {
                String endpoint = config.get(TOKEN_ENDPOINT).strip();
                Optional<URI> uri = Optional.empty();
                if (!endpoint.isEmpty()) {
                    URI u = URI.create(endpoint);
                    if (u.getScheme() == null
                            || !(u.getScheme().equals("https") || u.getScheme().equals("http"))
                            || u.getHost() == null) {
                        throw new IllegalArgumentException(
                                TOKEN_ENDPOINT.name() + ": an absolute http(s) URL, got '" + endpoint + "'");
                    }
                    uri = Optional.of(u);
                }
                return new TokenExchangeSettings(
                        uri,
                        config.get(CLIENT_ID).strip(),
                        config.get(CLIENT_SECRET_FILE),
                        config.get(TIMEOUT),
                        config.get(CACHE_MAX_ENTRIES),
                        config.get(RENEW_BEFORE));
            }
        };
    }
}
