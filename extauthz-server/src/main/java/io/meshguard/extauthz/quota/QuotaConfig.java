package io.meshguard.extauthz.quota;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The {@code quota.*} keys of the ext_authz server (docs/operate/sell-an-api.md, "Calendar quotas"). */
public final class QuotaConfig implements ConfigGroup<QuotaConfig.Values> {
    public static final ConfigKey<Duration> FLUSH_INTERVAL = ConfigKey.duration(
            "quota.flush_interval",
            Duration.ofMillis(500),
            "How often counted quota requests are written to PostgreSQL (at most 1s: the durable count lags by this much).");
    public static final ConfigKey<Long> MAX_COUNTERS = ConfigKey.longInteger(
            "quota.max_counters",
            200_000,
            1_000,
            10_000_000,
            "Quota counters (quota, caller, period) a replica holds in memory, those waiting for PostgreSQL included.");
    public static final ConfigKey<Duration> REDIS_RETRY = ConfigKey.duration(
            "quota.redis_retry_interval",
            Duration.ofSeconds(1),
            "After a Redis error, quotas are counted locally for this long before Redis is tried again.");
    public static final ConfigKey<Optional<Path>> ADMIN_TOKEN_FILE = ConfigKey.optionalPath(
            "quota.admin.token_file",
            "Bearer tokens of the quota admin endpoint (/quotas on the HTTP port), one 'name:token' per line (a mounted"
                    + " Secret); unset: the endpoint answers 503.");

    /** The settings read from these keys. */
    public record Values(Duration flushInterval, int maxCounters, Duration redisRetry, Optional<Path> adminTokenFile) {
        public static final Values DEFAULTS =
                new Values(Duration.ofMillis(500), 200_000, Duration.ofSeconds(1), Optional.empty());

        public Values {
            if (flushInterval.isZero()
                    || flushInterval.isNegative()
                    || flushInterval.compareTo(Duration.ofSeconds(1)) > 0) {
                throw new IllegalArgumentException(
                        "quota.flush_interval must be between 1ms and 1s, got " + flushInterval);
            }
        }

        public QuotaCounter.Settings counterSettings() {
            // two flushes: by then every replica has written what Redis counted before it went away
            return new QuotaCounter.Settings(
                    redisRetry,
                    maxCounters,
                    10_000,
                    Duration.ofSeconds(1),
                    Duration.ofMillis(100),
                    flushInterval.multipliedBy(2));
        }

        public Values withAdminTokenFile(Optional<Path> file) {
            return new Values(flushInterval, maxCounters, redisRetry, file);
        }
    }

    @Override
    public List<ConfigKey<?>> keys() {
        return List.of(FLUSH_INTERVAL, MAX_COUNTERS, REDIS_RETRY, ADMIN_TOKEN_FILE);
    }

    @Override
    public Values read(Config config) {
        return new Values(
                config.get(FLUSH_INTERVAL),
                (int) (long) config.get(MAX_COUNTERS),
                config.get(REDIS_RETRY),
                config.get(ADMIN_TOKEN_FILE));
    }
}
