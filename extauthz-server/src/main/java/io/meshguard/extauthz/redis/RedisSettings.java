package io.meshguard.extauthz.redis;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How the server reaches the Redis shared by all replicas (global rate limits, live quota counters).
 *
 * @param url            {@code redis://host:port[/db]} or {@code rediss://…} for TLS; empty: no shared store, each
 *                       replica keeps its own local limits
 * @param password       from {@code redis.password_file} (a mounted Secret) or {@code MESHGUARD_REDIS_PASSWORD};
 *                       empty for none
 * @param tlsCaFile      PEM trust anchors for {@code rediss://}; empty: the JDK's default trust store
 * @param connectTimeout how long a (re)connect may take
 * @param commandTimeout the longest a Check waits for one store call before treating it as failed
 * @param keyPrefix      prefix of every key this server writes, so several installs can share one Redis
 */
public record RedisSettings(
        String url,
        String password,
        Optional<Path> tlsCaFile,
        Duration connectTimeout,
        Duration commandTimeout,
        String keyPrefix) {

    public RedisSettings {
        url = url.strip();
        if (!url.isEmpty() && !url.startsWith("redis://") && !url.startsWith("rediss://")) {
            throw new IllegalArgumentException("redis.url must start with redis:// or rediss:// (TLS), got " + url);
        }
    }

    /** No shared store: the server keeps per-replica local limits and says so at start. */
    public static RedisSettings none() {
        return new RedisSettings("", "", Optional.empty(), Duration.ofSeconds(1), Duration.ofMillis(20), "meshguard:");
    }

    public boolean enabled() {
        return !url.isEmpty();
    }

    public boolean tls() {
        return url.startsWith("rediss://");
    }

    public RedisSettings withUrl(String newUrl) {
        return new RedisSettings(newUrl, password, tlsCaFile, connectTimeout, commandTimeout, keyPrefix);
    }

    public RedisSettings withKeyPrefix(String prefix) {
        return new RedisSettings(url, password, tlsCaFile, connectTimeout, commandTimeout, prefix);
    }

    public RedisSettings withCommandTimeout(Duration timeout) {
        return new RedisSettings(url, password, tlsCaFile, connectTimeout, timeout, keyPrefix);
    }

    /** The URL without any password, for logs and readiness. */
    public String redactedUrl() {
        return url.replaceFirst("//[^@/]*@", "//***@");
    }

    @Override
    public String toString() {
        return "RedisSettings[" + redactedUrl() + ", prefix=" + keyPrefix + "]";
    }
}
