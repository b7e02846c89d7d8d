package io.meshguard.runtime.lifecycle;

import java.util.List;

/**
 * A part of a server with a start and a graceful stop: the gRPC host, the status HTTP listener, a policy
 * watcher, an audit writer. Servers and {@code meshguard up} start components in order with a
 * {@link ComponentStack}, which closes them in reverse order on shutdown.
 */
public interface ServerComponent extends AutoCloseable {

    /** Short name for logs and shutdown messages, e.g. {@code extauthz-grpc}. */
    String name();

    /** Starts the component; returns once it is serving (or has failed). */
    void start() throws Exception;

    /** What {@code /readyz} should check for this component; none by default. */
    default List<ReadinessCheck> readinessChecks() {
        return List.of();
    }

    /** Stops gracefully (drains in-flight work within the component's own time limits). Idempotent. */
    @Override
    void close();
}
