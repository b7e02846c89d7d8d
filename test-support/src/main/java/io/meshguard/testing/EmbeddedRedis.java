package io.meshguard.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import redis.embedded.RedisServer;

/**
 * A real {@code redis-server} process from the binary inside {@code com.github.codemonstur:embedded-redis},
 * on loopback, persisting nothing. Stop and start keep the port, so clients can reconnect to the same URL.
 */
public final class EmbeddedRedis implements AutoCloseable {

    private final int port;
    private final RedisServer server;

    private EmbeddedRedis(int port, RedisServer server) {
        this.port = port;
        this.server = server;
    }

    /** Starts a server on a free loopback port. */
    public static EmbeddedRedis start() {
        int port = freePort();
        try {
            RedisServer server = RedisServer.newRedisServer()
                    .port(port)
                    .bind("127.0.0.1")
                    // No RDB/AOF files in the working directory, and no background save to fail on a full disk.
                    .setting("save \"\"")
                    .setting("appendonly no")
                    .setting("protected-mode yes")
                    .onShutdownForceStop(true)
                    .build();
            EmbeddedRedis redis = new EmbeddedRedis(port, server);
            redis.startServer();
            return redis;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start embedded redis-server: " + e.getMessage(), e);
        }
    }

    /** The URL of a server that was started and closed again: a loopback port nothing listens on (a store down). */
    public static String closedUrl() {
        EmbeddedRedis gone = start();
        String url = gone.endpoint().url();
        gone.close();
        return url;
    }

    public RedisEndpoint endpoint() {
        return new RedisEndpoint("127.0.0.1", port, "embedded");
    }

    public int port() {
        return port;
    }

    /** Starts the process again on the same port (after {@link #stopServer()}). */
    public synchronized void startServer() {
        try {
            if (!server.isActive()) {
                server.start();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start redis-server on port " + port + ": " + e.getMessage(), e);
        }
    }

    /** Stops the process: open connections break and new ones are refused until {@link #startServer()}. */
    public synchronized void stopServer() {
        try {
            if (server.isActive()) {
                server.stop();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop redis-server on port " + port + ": " + e.getMessage(), e);
        }
        awaitPortClosed();
    }

    /** The process may still be exiting when stop() returns; tests that stop the store expect it gone. */
    private void awaitPortClosed() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            } catch (IOException refused) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new IllegalStateException("redis-server on port " + port + " still accepts connections 10 s after stop");
    }

    public boolean isRunning() {
        return server.isActive();
    }

    @Override
    public void close() {
        stopServer();
    }

    @Override
    public String toString() {
        return "embedded redis-server on 127.0.0.1:" + port;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
