package io.meshguard.runtime.lifecycle;

import io.meshguard.runtime.grpc.GrpcServerHost;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.time.Duration;
import java.util.List;

/**
 * A process for {@link ComponentStackTest}: starts a status listener and a gRPC host the way a server's
 * {@code Main} does, prints {@code ready}, and waits for a signal.
 */
public final class ShutdownSignalDemo {
    private ShutdownSignalDemo() {}

    public static void main(String[] args) throws Exception {
        ProcessMetrics metrics = ProcessMetrics.create();
        StatusHttpServer http =
                new StatusHttpServer("demo-http", new HttpServerSettings("127.0.0.1", 0), metrics.registry());
        GrpcServerHost grpc = new GrpcServerHost(
                "demo-grpc",
                GrpcServerSettings.defaults(0)
                        .withAddress("127.0.0.1", 0)
                        .withShutdown(Duration.ofMillis(100), Duration.ofSeconds(5)),
                List.of(),
                metrics.forServer("demo"));
        ComponentStack stack = new ComponentStack();
        stack.closeOnJvmShutdown();
        stack.startAll(List.of(http, grpc));
        http.addReadinessChecks(stack.readinessChecks());
        System.out.println("ready " + grpc.port());
        System.out.flush();
        stack.awaitClosed();
    }
}
