package io.meshguard.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the manifests need to know about how a meshguard server reads its settings. */
final class ServerContract {
    /** Environment variable of the runtime's {@code grpc.drain_timeout} key. */
    static final String DRAIN_ENV = "MESHGUARD_GRPC_DRAIN_TIMEOUT";
    /** The runtime's default for {@code grpc.drain_timeout} when the Deployment does not set it. */
    static final Duration DEFAULT_DRAIN = Duration.ofSeconds(5);
    /** Environment variable of the runtime's {@code grpc.shutdown_timeout} key. */
    static final String SHUTDOWN_ENV = "MESHGUARD_GRPC_SHUTDOWN_TIMEOUT";
    /** The runtime's default for {@code grpc.shutdown_timeout}. */
    static final Duration DEFAULT_SHUTDOWN = Duration.ofSeconds(20);

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    private ServerContract() {}

    static Optional<String> env(Container container, String name) {
        return Optional.ofNullable(container.getEnv()).orElse(List.of()).stream()
                .filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst();
    }

    /** The gRPC drain a server container is configured with. */
    static Duration drainTimeout(Container container) {
        return env(container, DRAIN_ENV).map(ServerContract::duration).orElse(DEFAULT_DRAIN);
    }

    /** How long in-flight calls may run after the drain before the server cancels them. */
    static Duration shutdownTimeout(Container container) {
        return env(container, SHUTDOWN_ENV).map(ServerContract::duration).orElse(DEFAULT_SHUTDOWN);
    }

    /** A duration in the runtime's notation ({@code 300ms}, {@code 5s}, {@code 2m}, {@code 1h}). */
    static Duration duration(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration: " + text);
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }
}
