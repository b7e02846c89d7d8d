package io.meshguard.cli.common;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Which running gRPC server a command sends to (a picocli mixin): {@code --target HOST:PORT}, else the server of the
 * {@code meshguard up} running on {@code --data-dir}, at the port its {@code up.json} lists ({@link RunningStack}).
 */
public final class GrpcTarget {
    @Option(
            names = "--target",
            paramLabel = "HOST:PORT",
            description = "Server to send to (default: the running `meshguard up`'s).")
    String target;

    @Option(
            names = "--data-dir",
            defaultValue = ".meshguard",
            description =
                    "Data directory of the running `meshguard up` used without --target (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    /** host:port of the server; {@code server} names it in {@link RunningStack#port(String)}. */
    public String resolve(String server) throws IOException {
        return target != null ? target : RunningStack.require(dataDir).target(server);
    }

    /** A plaintext channel to the server (loopback, as {@code up} listens); the caller shuts it down. */
    public ManagedChannel channel(String server) throws IOException {
        return ManagedChannelBuilder.forTarget(resolve(server)).usePlaintext().build();
    }
}
