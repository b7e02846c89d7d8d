package io.meshguard.xds.zone;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A zone whose stream stays open at the transport but carries no echo after its hello: what a stream cut at an
 * HTTP/2 proxy looks like to central (Kuma #16428).
 */
final class SilentZone implements AutoCloseable {
    private final ManagedChannel channel;
    private final AtomicReference<String> closedWith = new AtomicReference<>();

    /** Presents {@code credential} (of replica {@link ZoneSettings#LOOPBACK_REPLICA}) and then says nothing. */
    SilentZone(String central, String cluster, String credential) {
        channel = ManagedChannelBuilder.forTarget(central).usePlaintext().build();
        StreamObserver<ZoneProto.ZoneUp> up = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(ZoneStream.FOLLOW, CallOptions.DEFAULT), new StreamObserver<ZoneProto.ZoneDown>() {
                    @Override
                    public void onNext(ZoneProto.ZoneDown value) {}

                    @Override
                    public void onError(Throwable t) {
                        closedWith.set(String.valueOf(Status.fromThrowable(t).getDescription()));
                    }

                    @Override
                    public void onCompleted() {
                        closedWith.set("completed");
                    }
                });
        up.onNext(ZoneWire.up()
                .setHello(ZoneProto.Hello.newBuilder()
                        .setCluster(cluster)
                        .setCredential(credential)
                        .setZoneVersion("silent")
                        .setReplica(ZoneSettings.LOOPBACK_REPLICA))
                .build());
    }

    Optional<String> closedWith() {
        return Optional.ofNullable(closedWith.get());
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
