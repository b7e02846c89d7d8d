package io.meshguard.extauthz.server;

import io.meshguard.access.AdminAccessSettings;
import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.catalog.apikey.ApiKeyLimits;
import io.meshguard.db.DbConfig;
import io.meshguard.extauthz.quota.QuotaConfig;
import io.meshguard.extauthz.ratelimit.RateLimitSettings;
import io.meshguard.extauthz.redis.RedisConfig;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.extauthz.subscription.SubscriptionStateSettings;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigException;
import io.meshguard.runtime.config.ConfigKey;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Settings of the ext_authz server, read through the runtime's config loader (defaults, YAML file,
 * {@code MESHGUARD_*} environment). {@link #SCHEMA} lists every key with its default and meaning.
 */
public record ExtAuthzConfig(
        GrpcServerSettings grpc,
        HttpServerSettings http,
        Path policyFile,
        Duration policyReloadInterval,
        Duration jwksHttpTimeout,
        long tokenCacheMaxEntries,
        Duration tokenCacheMaxTtl,
        Duration apiKeyCacheTtl,
        Duration apiKeyUsageFlushInterval,
        long apiKeyUnlistedReadsPerSecond,
        ApiKeyAuthenticator.WrongSecrets apiKeyWrongSecrets,
        ApiKeyLimits apiKeyLimits,
        long rateLimitMaxBuckets,
        RedisSettings redis,
        RateLimitSettings rateLimit,
        QuotaConfig.Values quota,
        SubscriptionStateSettings subscriptions,
        Optional<Path> jwksTlsCaFile,
        boolean policyRequireApproval,
        io.meshguard.extauthz.exchange.TokenExchangeSettings tokenExchange) {

    public static final ConfigKey<Path> POLICY_FILE = ConfigKey.path(
            "policy.file",
            Path.of("policies/authz.yaml"),
            "The authz policy. Validated before use; watched and hot-reloaded (an invalid change keeps the running policy).");
    public static final ConfigKey<Duration> POLICY_RELOAD_INTERVAL = ConfigKey.duration(
            "policy.reload_interval",
            Duration.ofSeconds(2),
            "Re-check interval of the policy file besides file-system watch events (content hash; ConfigMap swaps included).");
    public static final ConfigKey<Boolean> POLICY_REQUIRE_APPROVAL = ConfigKey.bool(
            "policy.require_approval",
            false,
            "Enforce only policy files whose digest a second person approved (meshguard policy requests; read from "
                    + "PostgreSQL): other files keep the last approved policy in force, and readiness, metrics, logs "
                    + "and the admin trail say so. Needs db.url.");
    public static final ConfigKey<Duration> JWKS_HTTP_TIMEOUT = ConfigKey.duration(
            "jwks.http_timeout", Duration.ofSeconds(2), "Connect and read timeout of JWKS and OIDC discovery fetches.");
    public static final ConfigKey<Optional<Path>> JWKS_TLS_CA_FILE = ConfigKey.optionalPath(
            "jwks.tls_ca_file",
            "PEM file of the CAs trusted for JWKS and OIDC discovery fetches (an identity provider behind the bank's "
                    + "own CA); when set and present only these CAs are trusted, when unset or absent (an optional "
                    + "Secret not created) the JDK trust store.");
    public static final ConfigKey<Long> TOKEN_CACHE_MAX_ENTRIES = ConfigKey.longInteger(
            "token_cache.max_entries",
            100_000,
            0,
            10_000_000,
            "Verified tokens remembered (by SHA-256 of the token); 0 turns the cache off.");
    public static final ConfigKey<Duration> TOKEN_CACHE_MAX_TTL = ConfigKey.duration(
            "token_cache.max_ttl",
            Duration.ofMinutes(10),
            "Longest time a verified token is trusted without verifying it again (never past its exp).");
    public static final ConfigKey<Duration> APIKEY_CACHE_TTL = ConfigKey.duration(
            "apikey.cache_ttl",
            Duration.ofSeconds(30),
            "How long API key records are cached at most. A revocation, a rotation's new expiry or a deleted key is "
                    + "pushed to every replica through PostgreSQL's `NOTIFY meshguard_apikey` (V62) and drops that key's "
                    + "cached record there at once (about 0.2 s in `ApiKeyRevocationTest`; at once on the replica that revoked); this "
                    + "TTL is only the net under a lost notice.");
    public static final ConfigKey<Duration> APIKEY_USAGE_FLUSH = ConfigKey.duration(
            "apikey.usage_flush_interval",
            Duration.ofSeconds(10),
            "How often API key use counts are written to PostgreSQL.");
    public static final ConfigKey<Long> APIKEY_UNLISTED_READS = ConfigKey.longInteger(
            "apikey.unlisted_reads_per_second",
            20,
            0,
            100_000,
            "PostgreSQL reads a second (per replica, with a burst of as many) for presented API key ids the replica "
                    + "does not know to exist. Each replica follows the ids of the stored keys (read at start, a new key "
                    + "added when its transaction commits: a `created:` notice on `meshguard_apikey`, V79, confirmed "
                    + "against `api_keys` before its id is added), so such an id is "
                    + "either a key created a moment ago, whose notice is still on its way, or a made-up one; beyond "
                    + "this rate they are refused (401 `invalid_api_key`) without a read, so a flood of made-up keys "
                    + "costs the database nothing more. 0 reads none of them.");
    public static final ConfigKey<Long> APIKEY_WRONG_SECRETS = ConfigKey.longInteger(
            "apikey.wrong_secrets_per_source",
            ApiKeyAuthenticator.WrongSecrets.DEFAULTS.limit(),
            1,
            1_000_000,
            "Wrong secrets one client (its address, as rate limits see it) may present for one API key id before that "
                    + "id is refused for it (401 `invalid_api_key`, the same answer as a wrong secret) without a "
                    + "PostgreSQL read, until `apikey.wrong_secret_window` has passed since its last wrong secret. "
                    + "Other clients keep using the key; counted per replica.");
    public static final ConfigKey<Duration> APIKEY_WRONG_SECRET_WINDOW = ConfigKey.duration(
            "apikey.wrong_secret_window",
            ApiKeyAuthenticator.WrongSecrets.DEFAULTS.window(),
            "How long a client that spent `apikey.wrong_secrets_per_source` on a key id stays refused for it, counted "
                    + "from its last wrong secret.");
    public static final ConfigKey<Long> RATELIMIT_MAX_BUCKETS = ConfigKey.longInteger(
            "ratelimit.max_buckets",
            100_000,
            1,
            10_000_000,
            "Rate-limit buckets kept in memory (per replica; idle buckets are dropped).");

    public static final ConfigKey<Integer> RATELIMIT_BREAKER_FAILURES = ConfigKey.integer(
            "ratelimit.breaker_failures",
            3,
            1,
            100,
            "Failed or timed-out Redis calls in a row that open the rate-limit store's circuit breaker (then no Check waits on it).");
    public static final ConfigKey<Duration> RATELIMIT_BREAKER_OPEN_FOR = ConfigKey.duration(
            "ratelimit.breaker_open_for",
            Duration.ofMillis(500),
            "How long the breaker stays open before one Check (or the heartbeat) probes Redis again.");
    public static final ConfigKey<Duration> RATELIMIT_HEARTBEAT = ConfigKey.duration(
            "ratelimit.heartbeat_interval",
            Duration.ofSeconds(1),
            "How often each replica reports itself to Redis; the live count sets each replica's share in degraded mode.");
    public static final ConfigKey<Integer> RATELIMIT_ASSUMED_REPLICAS = ConfigKey.integer(
            "ratelimit.assumed_replicas",
            1,
            1,
            10_000,
            "Replica count for the degraded share until the first heartbeat answers (Redis down at start); set it to the Deployment's replicas.");

    /** Every key of the server, including {@code http.*} and {@code db.*}. */
    public static final ConfigSchema SCHEMA = ConfigSchema.builder()
            .add(GrpcServerSettings.configGroup(9001))
            .add(HttpServerSettings.configGroup(9101))
            .add(
                    POLICY_FILE,
                    POLICY_RELOAD_INTERVAL,
                    POLICY_REQUIRE_APPROVAL,
                    JWKS_HTTP_TIMEOUT,
                    JWKS_TLS_CA_FILE,
                    TOKEN_CACHE_MAX_ENTRIES,
                    TOKEN_CACHE_MAX_TTL,
                    APIKEY_CACHE_TTL,
                    APIKEY_USAGE_FLUSH,
                    APIKEY_UNLISTED_READS,
                    APIKEY_WRONG_SECRETS,
                    APIKEY_WRONG_SECRET_WINDOW,
                    RATELIMIT_MAX_BUCKETS,
                    RATELIMIT_BREAKER_FAILURES,
                    RATELIMIT_BREAKER_OPEN_FOR,
                    RATELIMIT_HEARTBEAT,
                    RATELIMIT_ASSUMED_REPLICAS)
            .add(new RedisConfig())
            .add(new QuotaConfig())
            .add(new DbConfig("meshguard-extauthz"))
            .add(AdminAccessSettings.configGroup())
            .add(ApiKeyLimits.configGroup())
            .add(SubscriptionStateSettings.configGroup())
            .add(io.meshguard.extauthz.exchange.TokenExchangeSettings.configGroup())
            .build();

    public static ExtAuthzConfig defaults() {
        return read(Config.defaults(SCHEMA));
    }

    /**
     * The defaults as tests, benchmarks and local tools start a server on this machine: gRPC on a free loopback port,
     * no drain and five seconds to stop, the policy in {@code policyFile} re-read every {@code reloadInterval}.
     */
    public static ExtAuthzConfig onLoopback(Path policyFile, Duration reloadInterval) {
        return defaults()
                .withGrpc("127.0.0.1", 0)
                .withShutdown(Duration.ZERO, Duration.ofSeconds(5))
                .withPolicy(policyFile, reloadInterval);
    }

    /** Loads defaults, then the file, then the environment; every problem is reported with its key and line. */
    public static Config load(Optional<Path> file, Map<String, String> env) throws ConfigException {
        return ConfigLoader.load(SCHEMA, file, env);
    }

    public static ExtAuthzConfig read(Config config) {
        return new ExtAuthzConfig(
                GrpcServerSettings.configGroup(9001).read(config),
                HttpServerSettings.configGroup(9101).read(config),
                config.get(POLICY_FILE),
                config.get(POLICY_RELOAD_INTERVAL),
                config.get(JWKS_HTTP_TIMEOUT),
                config.get(TOKEN_CACHE_MAX_ENTRIES),
                config.get(TOKEN_CACHE_MAX_TTL),
                config.get(APIKEY_CACHE_TTL),
                config.get(APIKEY_USAGE_FLUSH),
                config.get(APIKEY_UNLISTED_READS),
                new ApiKeyAuthenticator.WrongSecrets(
                        config.get(APIKEY_WRONG_SECRETS), config.get(APIKEY_WRONG_SECRET_WINDOW)),
                ApiKeyLimits.configGroup().read(config),
                config.get(RATELIMIT_MAX_BUCKETS),
                new RedisConfig().read(config),
                new RateLimitSettings(
                        config.get(RATELIMIT_MAX_BUCKETS),
                        config.get(RATELIMIT_BREAKER_FAILURES),
                        config.get(RATELIMIT_BREAKER_OPEN_FOR),
                        config.get(RATELIMIT_HEARTBEAT),
                        config.get(RATELIMIT_ASSUMED_REPLICAS)),
                new QuotaConfig().read(config),
                SubscriptionStateSettings.configGroup().read(config),
                config.get(JWKS_TLS_CA_FILE),
                config.get(POLICY_REQUIRE_APPROVAL),
                io.meshguard.extauthz.exchange.TokenExchangeSettings.configGroup()
                        .read(config));
    }

    /** A copy listening on {@code bind:port}. */
    public ExtAuthzConfig withGrpc(String bind, int port) {
        return withGrpcSettings(grpc.withAddress(bind, port));
    }

    /** A copy that drains and stops within these times (tests and tools use zero drain). */
    public ExtAuthzConfig withShutdown(Duration drain, Duration shutdown) {
        return withGrpcSettings(grpc.withShutdown(drain, shutdown));
    }

    public ExtAuthzConfig withGrpcSettings(GrpcServerSettings settings) {
        return with(b -> b.grpc = settings);
    }

    public ExtAuthzConfig withPolicy(Path file, Duration reloadInterval) {
        return with(b -> {
            b.policyFile = file;
            b.policyReloadInterval = reloadInterval;
        });
    }

    public ExtAuthzConfig withTokenCache(long maxEntries) {
        return with(b -> b.tokenCacheMaxEntries = maxEntries);
    }

    /** A copy that enforces only approved policy files ({@link #POLICY_REQUIRE_APPROVAL}). */
    public ExtAuthzConfig withPolicyApproval(boolean required) {
        return with(b -> b.policyRequireApproval = required);
    }

    /** A copy reading at most this many unknown API key ids a second ({@link #APIKEY_UNLISTED_READS}). */
    public ExtAuthzConfig withApiKeyUnlistedReads(long perSecond) {
        return with(b -> b.apiKeyUnlistedReadsPerSecond = perSecond);
    }

    /** A copy with these quota settings. */
    public ExtAuthzConfig withQuota(QuotaConfig.Values settings) {
        return with(b -> b.quota = settings);
    }

    /** A copy using this shared Redis ({@link RedisSettings#none()} for per-replica local limits). */
    public ExtAuthzConfig withRedis(RedisSettings settings) {
        return with(b -> b.redis = settings);
    }

    /** A copy with these rate-limit store settings (breaker, heartbeat). */
    public ExtAuthzConfig withRateLimit(RateLimitSettings settings) {
        return with(b -> b.rateLimit = settings);
    }

    /** A copy following subscription state from this controller. */
    public ExtAuthzConfig withSubscriptions(SubscriptionStateSettings settings) {
        return with(b -> b.subscriptions = settings);
    }

    /** A copy exchanging callers' tokens on MCP routes with {@code token_exchange:} as {@code settings} say. */
    public ExtAuthzConfig withTokenExchange(io.meshguard.extauthz.exchange.TokenExchangeSettings settings) {
        return with(b -> b.tokenExchange = settings);
    }

    /**
     * Every changed copy above goes through here: this config's values, {@code change} replacing some of them, then a
     * new record of them (so a component added to the record is carried by every copy).
     */
    private ExtAuthzConfig with(Consumer<Builder> change) {
        Builder b = new Builder();
        change.accept(b);
        return b.build();
    }

    /** Starts from this record's values (an inner class reads them through the accessors), one field per component. */
    private final class Builder {
        private GrpcServerSettings grpc = grpc();
        private HttpServerSettings http = http();
        private Path policyFile = policyFile();
        private Duration policyReloadInterval = policyReloadInterval();
        private Duration jwksHttpTimeout = jwksHttpTimeout();
        private long tokenCacheMaxEntries = tokenCacheMaxEntries();
        private Duration tokenCacheMaxTtl = tokenCacheMaxTtl();
        private Duration apiKeyCacheTtl = apiKeyCacheTtl();
        private Duration apiKeyUsageFlushInterval = apiKeyUsageFlushInterval();
        private long apiKeyUnlistedReadsPerSecond = apiKeyUnlistedReadsPerSecond();
        private ApiKeyAuthenticator.WrongSecrets apiKeyWrongSecrets = apiKeyWrongSecrets();
        private ApiKeyLimits apiKeyLimits = apiKeyLimits();
        private long rateLimitMaxBuckets = rateLimitMaxBuckets();
        private RedisSettings redis = redis();
        private RateLimitSettings rateLimit = rateLimit();
        private QuotaConfig.Values quota = quota();
        private SubscriptionStateSettings subscriptions = subscriptions();
        private Optional<Path> jwksTlsCaFile = jwksTlsCaFile();
        private boolean policyRequireApproval = policyRequireApproval();
        private io.meshguard.extauthz.exchange.TokenExchangeSettings tokenExchange = tokenExchange();

        private ExtAuthzConfig build() {
            return new ExtAuthzConfig(
                    grpc,
                    http,
                    policyFile,
                    policyReloadInterval,
                    jwksHttpTimeout,
                    tokenCacheMaxEntries,
                    tokenCacheMaxTtl,
                    apiKeyCacheTtl,
                    apiKeyUsageFlushInterval,
                    apiKeyUnlistedReadsPerSecond,
                    apiKeyWrongSecrets,
                    apiKeyLimits,
                    rateLimitMaxBuckets,
                    redis,
                    rateLimit,
                    quota,
                    subscriptions,
                    jwksTlsCaFile,
                    policyRequireApproval,
                    tokenExchange);
        }
    }
}
