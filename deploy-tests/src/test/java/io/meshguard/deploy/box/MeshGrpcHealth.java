package io.meshguard.deploy.box;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.util.concurrent.TimeUnit;

/**
 * {@code HOST PORT COUNT}: {@code COUNT} gRPC health checks ({@code grpc.health.v1.Health/Check}, the server's
 * overall status) from inside a pod, each on a connection of its own, as a new client of the Service would make
 * them (through the pod's sidecar when it has one, which picks one of the Service's ready endpoints per connection);
 * prints {@code CHECK n STATUS} or {@code CHECK n FAILED why} per check.
 */
public final class MeshGrpcHealth {
    private MeshGrpcHealth() {}

    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(args[2]);
        for (int i = 1; i <= count; i++) {
            ManagedChannel channel = ManagedChannelBuilder.forAddress(args[0], Integer.parseInt(args[1]))
                    .usePlaintext()
                    .build();
            try {
                System.out.println("CHECK " + i + " "
                        + HealthGrpc.newBlockingStub(channel)
                                .withDeadlineAfter(5, TimeUnit.SECONDS)
                                .check(HealthCheckRequest.getDefaultInstance())
                                .getStatus());
            } catch (RuntimeException e) {
                System.out.println("CHECK " + i + " FAILED " + e.getMessage());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        System.out.flush();
    }
}
