package io.meshguard.extauthz.redis;

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
 * The {@code redis.*} keys. As with {@code db.*}, the password comes from a file (a mounted Secret) or
 * {@code MESHGUARD_REDIS_PASSWORD}, never from the YAML file, which lives in a ConfigMap.
 */
public final class RedisConfig implements ConfigGroup<RedisSettings> {
    public static final ConfigKey<String> URL = ConfigKey.string(
            "redis.url",
            "",
            "Redis shared by all replicas for global rate limits and live quota counters: redis://host:port or "
                    + "rediss://host:port (TLS). Empty: each replica enforces its own local limits.");
    public static final ConfigKey<Optional<Path>> PASSWORD_FILE = ConfigKey.optionalPath(
            "redis.password_file",
            "File holding the Redis password (a mounted Secret); takes precedence over redis.password.");
    public static final ConfigKey<String> PASSWORD = ConfigKey.string(
            "redis.password", "", "Redis password; set it through MESHGUARD_REDIS_PASSWORD, not in the YAML file.");
    public static final ConfigKey<Optional<Path>> TLS_CA_FILE = ConfigKey.optionalPath(
            "redis.tls_ca_file", "PEM file of the CAs trusted for rediss:// (default: the JDK trust store).");
    public static final ConfigKey<Duration> CONNECT_TIMEOUT = ConfigKey.duration(
            "redis.connect_timeout", Duration.ofSeconds(1), "How long a connect or reconnect to Redis may take.");
    public static final ConfigKey<Duration> COMMAND_TIMEOUT = ConfigKey.duration(
            "redis.command_timeout",
            Duration.ofMillis(20),
            "Longest a Check waits for one Redis call before counting it as failed. 20 ms suits a Redis in the same"
                    + " zone; for a managed Redis across zones take its p99.9 round trip plus headroom, typically 50ms to"
                    + " 100ms. A caller Redis last counted past a blocking quota stays refused with 429 while Redis is"
                    + " slow or away; only a caller whose count is unknown gets 503 quota_unavailable.");
    public static final ConfigKey<String> KEY_PREFIX = ConfigKey.string(
            "redis.key_prefix",
            "meshguard:",
            "Prefix of every key this server writes, so several installs can share one Redis.");

    @Override
    public List<ConfigKey<?>> keys() {
        return List.of(URL, PASSWORD_FILE, PASSWORD, TLS_CA_FILE, CONNECT_TIMEOUT, COMMAND_TIMEOUT, KEY_PREFIX);
    }

    @Override
    public RedisSettings read(Config config) {
        String password =
                config.get(PASSWORD_FILE).map(RedisConfig::readPassword).orElse(config.get(PASSWORD));
        return new RedisSettings(
                config.get(URL),
                password,
                config.get(TLS_CA_FILE),
                config.get(CONNECT_TIMEOUT),
                config.get(COMMAND_TIMEOUT),
                config.get(KEY_PREFIX));
    }

    private static String readPassword(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read redis.password_file " + file + ": " + e.getMessage(), e);
        }
    }
}
