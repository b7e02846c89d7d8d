package io.meshguard.authz.ratelimit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Store keys from caller parts, unambiguous and bounded. Each part is written as {@code <length>:<text>}, so
 * {@code a:b} + {@code c} and {@code a} + {@code b:c} never meet (a plain {@code _}- or {@code :}-joined key, as in
 * envoyproxy/ratelimit's {@code src/limiter/cache_key.go}, lets them collide). A part longer than
 * {@value #LONGEST_PART} characters is replaced by {@code #} and its SHA-256 (literal parts always start with a digit,
 * so the two forms never meet either), which bounds every key.
 */
public final class RateLimitKeys {
    static final int LONGEST_PART = 96;

    private RateLimitKeys() {}

    /** One caller's key: scope, kind, identity parts and tier, each length-prefixed. */
    public static String caller(String... parts) {
        StringBuilder sb = new StringBuilder(64);
        for (String p : parts) {
            part(sb, p);
        }
        return sb.toString();
    }

    static void part(StringBuilder sb, String p) {
        if (p.length() > LONGEST_PART) {
            sb.append('#').append(sha256(p));
        } else {
            sb.append(p.length()).append(':').append(p);
        }
    }

    /**
     * The Redis key of one limit of one caller. The caller part sits in a hash tag ({@code {...}}), so all limits of a
     * decision hash to one Redis Cluster slot and one script can touch them all.
     */
    public static String storeKey(String prefix, String callerKey, String limitLabel) {
        StringBuilder sb = new StringBuilder(prefix.length() + callerKey.length() + 24);
        sb.append(prefix).append("rl:{").append(callerKey).append('}');
        part(sb, limitLabel);
        return sb.toString();
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
