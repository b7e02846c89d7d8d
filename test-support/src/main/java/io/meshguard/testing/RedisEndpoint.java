package io.meshguard.testing;

/**
 * Where a test Redis listens.
 *
 * @param host    address to connect to
 * @param port    TCP port
 * @param backend {@code external}, {@code testcontainers} or {@code embedded}
 */
public record RedisEndpoint(String host, int port, String backend) {

    /** A {@code redis://host:port} URL, as {@code redis.url} takes it. */
    public String url() {
        return "redis://" + host + ":" + port;
    }
}
