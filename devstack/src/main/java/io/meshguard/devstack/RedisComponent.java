package io.meshguard.devstack;

import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The Redis of {@code meshguard up} ({@code --redis local}, the default): started after PostgreSQL and before the
 * servers, so extauthz connects to a server that already answers; closed after them.
 */
final class RedisComponent implements ServerComponent {
    private final Path dir;
    private final int port;
    private LocalRedis server;

    RedisComponent(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    @Override
    public String name() {
        return "redis";
    }

    @Override
    public void start() {
        server = LocalRedis.start(dir, port);
    }

    LocalRedis server() {
        return server;
    }

    /** How extauthz reaches this server: its URL and the password from the owner-only file. */
    RedisSettings settings() {
        try {
            return RedisChoice.settings(
                    server.url(),
                    Optional.of(Files.readString(server.passwordFile()).strip()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + server.passwordFile(), e);
        }
    }

    /**
     * Whether the process runs; no I/O. What extauthz itself sees of the store (connected, breaker state) is its own
     * readiness detail.
     */
    @Override
    public List<ReadinessCheck> readinessChecks() {
        return List.of(ReadinessCheck.of(
                "redis",
                () -> server != null && server.isRunning()
                        ? ReadinessCheck.Result.ready("redis-server pid " + server.pid() + " on " + server.url())
                        : ReadinessCheck.Result.notReady("redis-server is not running")));
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }
}
