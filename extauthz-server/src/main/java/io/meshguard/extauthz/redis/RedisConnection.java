package io.meshguard.extauthz.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisCredentialsProvider;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.StaticCredentialsProvider;
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
    /** Null until the first connect succeeds ({@link #connectInBackground}); then Lettuce reconnects by itself. */
    private volatile StatefulRedisConnection<String, String> connection;

    private volatile String lastConnectError = "";
    private volatile boolean closed;
    private Thread connector;

    private RedisConnection(
            RedisSettings settings,
            ClientResources resources,
            RedisClient client,
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
        RedisConnection c = unconnected(settings);
        try {
            c.connection = c.client.connect(StringCodec.UTF8);
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * Returns at once, connected or not: a store that is down when the server starts must not stop the server. Until
     * the first connect succeeds (retried every {@code redis.connect_timeout}, at least every 500 ms) {@link #async()}
     * fails at once, as it does during later outages. {@link #isOpen()} says whether it is connected.
     */
    public static RedisConnection connectInBackground(RedisSettings settings) {
        return unconnected(settings).connectInBackground();
    }

    /**
     * Starts connecting this not yet connected instance ({@link #unconnected}) and returns at once, as
     * {@link #connectInBackground(RedisSettings)} does. Calling it again does nothing.
     */
    public synchronized RedisConnection connectInBackground() {
        if (connection != null || connector != null || closed) {
            return this;
        }
        // one attempt now (bounded by the connect timeout; a refused connection fails at once), so a healthy store
        // serves the very first Check; the retries run in the background
        try {
            connection = client.connect(StringCodec.UTF8);
            return this;
        } catch (RuntimeException e) {
            lastConnectError = e.getMessage() == null ? e.toString() : e.getMessage();
        }
        long pauseMs = Math.max(500, settings.connectTimeout().toMillis());
        connector = Thread.ofPlatform().daemon().name("redis-connect").start(() -> {
            while (!closed && connection == null) {
                try {
                    connection = client.connect(StringCodec.UTF8);
                } catch (RuntimeException retry) {
                    lastConnectError = retry.getMessage() == null ? retry.toString() : retry.getMessage();
                    try {
                        Thread.sleep(pauseMs);
                    } catch (InterruptedException stop) {
                        return;
                    }
                }
            }
            if (closed && connection != null) {
                connection.close();
            }
        });
        return this;
    }

    /** A client for these settings that has not connected yet: {@link #connectInBackground()} starts it. */
    public static RedisConnection unconnected(RedisSettings settings) {
        if (!settings.enabled()) {
            throw new IllegalArgumentException("redis.url is empty");
        }
        RedisURI uri = RedisURI.create(settings.url());
        // the URI's timeout also bounds the connection handshake (HELLO/AUTH): give it the connect timeout, so a
        // reconnect on a busy node is not lost to the 20 ms command budget; commands get theirs from TimeoutOptions
        uri.setTimeout(settings.connectTimeout());
        if (!settings.password().isEmpty()) {
            // The Secret's password wins over one in the URL; a username in the URL (Redis ACL user) is kept.
            String user =
                    uri.getCredentialsProvider() instanceof RedisCredentialsProvider.ImmediateRedisCredentialsProvider p
                            ? p.resolveCredentialsNow().getUsername()
                            : null;
            uri.setCredentialsProvider(
                    new StaticCredentialsProvider(user, settings.password().toCharArray()));
        }
        // Two event-loop threads are plenty for one multiplexed connection; the default is one per core. Two
        // computation
        // threads are Lettuce's minimum: below it DefaultClientResources' constructor (MIN_COMPUTATION_THREADS) raises
        // the number itself and logs an INFO line, which `meshguard quota` printed among its output.
        ClientResources resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .build();
        RedisClient client = RedisClient.create(resources, uri);
        ClientOptions.Builder options = ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder()
                        .connectTimeout(settings.connectTimeout())
                        .keepAlive(true)
                        .build())
                .timeoutOptions(TimeoutOptions.enabled(settings.commandTimeout()));
        settings.tlsCaFile()
                .ifPresent(ca -> options.sslOptions(SslOptions.builder()
                        .jdkSslProvider()
                        .trustManager(ca.toFile())
                        .build()));
        client.setOptions(options.build());
        return new RedisConnection(settings, resources, client, null);
    }

    /** Asynchronous commands on the shared connection (thread-safe, pipelined). */
    public RedisAsyncCommands<String, String> async() {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            throw new RedisConnectionException(
                    "not connected to " + settings.redactedUrl() + " yet: " + lastConnectError);
        }
        return c.async();
    }

    /** Whether the connection is up now (false before the first connect and during outages). */
    public boolean isOpen() {
        StatefulRedisConnection<String, String> c = connection;
        return c != null && c.isOpen();
    }

    public RedisSettings settings() {
        return settings;
    }

    @Override
    public void close() {
        closed = true;
        if (connector != null) {
            connector.interrupt();
        }
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown();
    }
}
