package io.meshguard.testing;

import java.net.URI;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The one Redis server of this JVM's tests, started on first use and stopped when the JVM exits. Chosen in this
 * order: {@code MESHGUARD_TEST_REDIS_URL} (an external server, {@code redis://host:port}), Testcontainers when a
 * Docker engine answers, an embedded {@code redis-server} otherwise — so a fresh machine needs nothing installed.
 *
 * <p>Test classes share it: each should use its own key prefix (see {@link #keyPrefix(Class)}). Tests that stop
 * the server use {@link EmbeddedRedis#start()} for a server of their own instead.
 */
public final class SharedRedis {

    public static final String URL_VARIABLE = "MESHGUARD_TEST_REDIS_URL";
    static final String IMAGE_VARIABLE = "MESHGUARD_TEST_REDIS_IMAGE";
    static final String DEFAULT_IMAGE = "redis:7-alpine";

    private static final Logger LOG = LoggerFactory.getLogger(SharedRedis.class);

    private static RedisEndpoint endpoint;
    private static RuntimeException failure;

    private SharedRedis() {}

    /** The shared server, started if needed. */
    public static synchronized RedisEndpoint get() {
        if (endpoint != null) {
            return endpoint;
        }
        if (failure != null) {
            throw new IllegalStateException(
                    "Redis for tests is unavailable (see the first failure): " + failure.getMessage(), failure);
        }
        try {
            endpoint = select(System.getenv(), SharedRedis::dockerAvailable);
            LOG.info("Redis for tests: {} at {}", endpoint.backend(), endpoint.url());
            return endpoint;
        } catch (RuntimeException e) {
            failure = new IllegalStateException(
                    "No Redis for tests. Tried in order: " + URL_VARIABLE
                            + " (redis://host:port), Testcontainers (needs a Docker engine), the embedded redis-server "
                            + "(linux or macOS, x86_64 or arm64). Last error: " + e.getMessage(),
                    e);
            throw failure;
        }
    }

    /** A key prefix of the class's own, so classes sharing the server never see each other's keys. */
    public static String keyPrefix(Class<?> testClass) {
        return "t:" + testClass.getSimpleName() + ":" + Long.toHexString(System.nanoTime()) + ":";
    }

    static RedisEndpoint select(Map<String, String> env, BooleanSupplier dockerAvailable) {
        String url = env.get(URL_VARIABLE);
        if (url != null && !url.isBlank()) {
            return external(url.strip());
        }
        if (dockerAvailable.getAsBoolean()) {
            GenericContainer<?> container = new GenericContainer<>(
                            DockerImageName.parse(env.getOrDefault(IMAGE_VARIABLE, DEFAULT_IMAGE)))
                    .withExposedPorts(6379);
            container.start();
            Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "meshguard-test-redis-stop"));
            return new RedisEndpoint(container.getHost(), container.getMappedPort(6379), "testcontainers");
        }
        EmbeddedRedis redis = EmbeddedRedis.start();
        Runtime.getRuntime().addShutdownHook(new Thread(redis::close, "meshguard-test-redis-stop"));
        return redis.endpoint();
    }

    static RedisEndpoint external(String url) {
        URI uri = URI.create(url);
        if (!"redis".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException(URL_VARIABLE + " must look like redis://host:port, got " + url);
        }
        return new RedisEndpoint(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 6379, "external");
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("Docker probe failed", e);
            return false;
        }
    }
}
