package io.meshguard.extauthz.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCredentialsProvider;
import io.lettuce.core.StaticCredentialsProvider;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;

/**
 * One multiplexed, auto-reconnecting Lettuce connection to the shared Redis, used by every limiter and quota
 * counter of the server. Commands never queue while disconnected: a call during an outage fails at once instead
 * of waiting for the reconnect, so the callers' circuit breaker sees the outage within milliseconds.
 */
public final class RedisConnection implements AutoCloseable {

    private final RedisSettings settings;
    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;

    private RedisConnection(RedisSettings settings, ClientResources resources, RedisClient client,
                            StatefulRedisConnection<String, String> connection) {
        this.settings = settings;
        this.resources = resources;
        this.client = client;
        this.connection = connection;
    }

    /**
     * Connects once (failing with the store's error if it cannot); later outages reconnect in the background.
     *
     * @throws IllegalArgumentException when the settings have no URL
     * @throws io.lettuce.core.RedisConnectionException when the first connect fails
     */
    public static RedisConnection open(RedisSettings settings) {
        if (!settings.enabled()) {
            throw new IllegalArgumentException("redis.url is empty");
        }
        RedisURI uri = RedisURI.create(settings.url());
        uri.setTimeout(settings.commandTimeout());
        if (!settings.password().isEmpty()) {
            // The Secret's password wins over one in the URL; a username in the URL (Redis ACL user) is kept.
            String user = uri.getCredentialsProvider() instanceof RedisCredentialsProvider.ImmediateRedisCredentialsProvider p
                    ? p.resolveCredentialsNow().getUsername() : null;
            uri.setCredentialsProvider(new StaticCredentialsProvider(user, settings.password().toCharArray()));
        }
        // Two event-loop threads are plenty for one multiplexed connection; the default is one per core.
        ClientResources resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(1).build();
        RedisClient client = RedisClient.create(resources, uri);
        ClientOptions.Builder options = ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(settings.connectTimeout()).keepAlive(true).build())
                .timeoutOptions(TimeoutOptions.enabled(settings.commandTimeout()));
        settings.tlsCaFile().ifPresent(ca -> options.sslOptions(SslOptions.builder().jdkSslProvider().trustManager(ca.toFile()).build()));
        client.setOptions(options.build());
        try {
            StatefulRedisConnection<String, String> connection = client.connect(StringCodec.UTF8);
            return new RedisConnection(settings, resources, client, connection);
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            resources.shutdown();
            throw e;
        }
    }

    /** Asynchronous commands on the shared connection (thread-safe, pipelined). */
    public RedisAsyncCommands<String, String> async() {
        return connection.async();
    }

    public boolean isOpen() {
        return connection.isOpen();
    }

    public RedisSettings settings() {
        return settings;
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown();
    }
}
