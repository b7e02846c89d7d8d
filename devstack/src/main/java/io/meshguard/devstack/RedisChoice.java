package io.meshguard.devstack;

import io.meshguard.extauthz.redis.RedisSettings;
import java.util.Optional;

/**
 * What {@code meshguard up --redis} asked for: {@code local} (a redis-server of its own, the default), {@code none}
 * (no shared store: extauthz keeps per-process local limits and says so) or the URL of a Redis to use instead
 * ({@code redis://host:port} or {@code rediss://host:port} for TLS).
 *
 * @param kind which of the three
 * @param url the external server's URL; empty for the other two
 */
public record RedisChoice(Kind kind, String url) {
    /** The three answers to "which Redis". */
    public enum Kind {
        LOCAL,
        NONE,
        EXTERNAL
    }

    public static final RedisChoice LOCAL = new RedisChoice(Kind.LOCAL, "");
    public static final RedisChoice NONE = new RedisChoice(Kind.NONE, "");

    /**
     * Reads the flag's value.
     *
     * @throws IllegalArgumentException for anything else than {@code local}, {@code none} or a redis(s):// URL
     */
    public static RedisChoice parse(String value) {
        String v = value.strip();
        if (v.equals("local")) {
            return LOCAL;
        }
        if (v.equals("none")) {
            return NONE;
        }
        if (v.startsWith("redis://") || v.startsWith("rediss://")) {
            return new RedisChoice(Kind.EXTERNAL, v);
        }
        throw new IllegalArgumentException(
                "--redis takes local, none or a redis://host:port (rediss:// for TLS) URL, got '" + v + "'");
    }

    /** Settings for a server at {@code url} with extauthz's defaults for timeouts and key prefix. */
    static RedisSettings settings(String url, Optional<String> password) {
        RedisSettings defaults = RedisSettings.none();
        return new RedisSettings(
                url,
                password.orElse(""),
                Optional.empty(),
                defaults.connectTimeout(),
                defaults.commandTimeout(),
                defaults.keyPrefix());
    }
}
