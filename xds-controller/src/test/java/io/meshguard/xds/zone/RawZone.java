package io.meshguard.xds.zone;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A zone stream driven by hand over real gRPC: one hello (a registration token or a credential, as a copied
 * credential's holder would send it), then an echo every 100 ms; it keeps every credential central sends and how the
 * stream ended.
 */
final class RawZone implements AutoCloseable {
    private final ManagedChannel channel;
    private final StreamObserver<ZoneProto.ZoneUp> up;
    private final ScheduledExecutorService echoes = Executors.newSingleThreadScheduledExecutor();
    private final List<String> credentials = new CopyOnWriteArrayList<>();
    private final AtomicBoolean answered = new AtomicBoolean();
    private final AtomicReference<String> closedWith = new AtomicReference<>();
    private final AtomicLong sequence = new AtomicLong();

    private RawZone(String central, ZoneProto.Hello hello, List<String> held) {
        credentials.addAll(held);
        channel = ManagedChannelBuilder.forTarget(central).usePlaintext().build();
        up = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(ZoneStream.FOLLOW, CallOptions.DEFAULT), new StreamObserver<ZoneProto.ZoneDown>() {
                    @Override
                    public void onNext(ZoneProto.ZoneDown down) {
                        if (down.hasCredential()) {
                            credentials.add(down.getCredential().getSecret());
                        }
                        if (down.hasEchoReceived()) {
                            answered.set(true);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        Status s = Status.fromThrowable(t);
                        closedWith.set(s.getCode() + ": " + s.getDescription());
                    }

                    @Override
                    public void onCompleted() {
                        closedWith.set("completed");
                    }
                });
        send(ZoneWire.up().setHello(hello).build());
        echoes.scheduleWithFixedDelay(
                () -> send(ZoneWire.up()
                        .setEcho(ZoneProto.Echo.newBuilder().setSequence(sequence.incrementAndGet()))
                        .build()),
                100,
                100,
                TimeUnit.MILLISECONDS);
    }

    /** A registration stream: central answers the token with a credential and ends it. */
    static RawZone registering(String central, String cluster, String replica, String token) {
        return new RawZone(
                central, hello(cluster, replica).setRegistrationToken(token).build(), List.of());
    }

    static RawZone registering(String central, String cluster, String token) {
        return registering(central, cluster, ZoneSettings.LOOPBACK_REPLICA, token);
    }

    /**
     * As a zone registers: the token for a credential on one stream, then a stream presenting that credential (which
     * spends the token). Its {@link #credentials()} start with the first credential.
     */
    static RawZone registered(String central, String cluster, String replica, String token) throws Exception {
        try (RawZone registration = registering(central, cluster, replica, token)) {
            long until = System.nanoTime() + java.time.Duration.ofSeconds(5).toNanos();
            while (registration.credentials().isEmpty() && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            if (registration.credentials().isEmpty()) {
                throw new AssertionError("central sent no credential: " + registration.closedWith());
            }
            return new RawZone(
                    central,
                    hello(cluster, replica)
                            .setCredential(registration.credentials().get(0))
                            .build(),
                    registration.credentials());
        }
    }

    static RawZone registered(String central, String cluster, String token) throws Exception {
        return registered(central, cluster, ZoneSettings.LOOPBACK_REPLICA, token);
    }

    static RawZone presenting(String central, String cluster, String replica, String credential) {
        return new RawZone(
                central, hello(cluster, replica).setCredential(credential).build(), List.of());
    }

    static RawZone presenting(String central, String cluster, String credential) {
        return presenting(central, cluster, ZoneSettings.LOOPBACK_REPLICA, credential);
    }

    /** Ends the stream from the zone's side now, as a zone that gives up on a slow answer does. */
    void cancel() {
        synchronized (this) {
            closedWith.compareAndSet(null, "cancelled by the zone");
            up.onError(Status.CANCELLED.withDescription("the zone gave up").asRuntimeException());
        }
    }

    private static ZoneProto.Hello.Builder hello(String cluster, String replica) {
        return ZoneProto.Hello.newBuilder()
                .setCluster(cluster)
                .setZoneVersion("raw")
                .setReplica(replica);
    }

    private synchronized void send(ZoneProto.ZoneUp message) {
        if (closedWith.get() == null) {
            up.onNext(message);
        }
    }

    List<String> credentials() {
        return credentials;
    }

    /** Central admitted the hello and answered it. */
    boolean answered() {
        return answered.get();
    }

    Optional<String> closedWith() {
        return Optional.ofNullable(closedWith.get());
    }

    @Override
    public void close() {
        echoes.shutdownNow();
        channel.shutdownNow();
    }
}
