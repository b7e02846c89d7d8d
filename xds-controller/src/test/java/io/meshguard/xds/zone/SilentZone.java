package io.meshguard.xds.zone;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.contract.zone.ZoneDown;
import io.meshguard.contract.zone.ZoneUp;
import java.util.Map;
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
        StreamObserver<ZoneUp> up = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(ZoneStream.FOLLOW, CallOptions.DEFAULT), new StreamObserver<ZoneDown>() {
                    @Override
                    public void onNext(ZoneDown value) {}

                    @Override
                    public void onError(Throwable t) {
                        closedWith.set(String.valueOf(Status.fromThrowable(t).getDescription()));
                    }

                    @Override
                    public void onCompleted() {
                        closedWith.set("completed");
                    }
                });
        up.onNext(ZoneUp.of(new ZoneUp.Hello(
                cluster,
                Optional.empty(),
                Optional.of(credential),
                Map.of(),
                "silent",
                ZoneSettings.LOOPBACK_REPLICA)));
    }

    Optional<String> closedWith() {
        return Optional.ofNullable(closedWith.get());
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
