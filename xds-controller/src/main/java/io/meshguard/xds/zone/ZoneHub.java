package io.meshguard.xds.zone;

import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.xds.store.RevisionStore;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Central's end of the zone streams: admits each zone ({@link ZoneRegistry}), then runs a {@link ZoneSession} per
 * stream that sends the revisions of the cluster's groups and reads the zone's echoes into the {@link ZoneBoard}.
 */
public final class ZoneHub {
    private final ZoneRegistry registry;
    private final RevisionStore revisions;
    private final ZoneBoard board;
    private final ZoneHubSettings settings;
    private final Clock clock;
    private final Set<ZoneSession> sessions = ConcurrentHashMap.newKeySet();
    /**
     * The newest subscription state: each zone receives its cluster's slice ({@link ZoneSubscriptionSlice}) when
     * its stream opens and on every change.
     */
    private final java.util.concurrent.atomic.AtomicReference<
                    java.util.Optional<io.meshguard.catalogmodel.SubscriptionSnapshot>>
            subscriptionState = new java.util.concurrent.atomic.AtomicReference<>(java.util.Optional.empty());

    public ZoneHub(
            ZoneRegistry registry, RevisionStore revisions, ZoneBoard board, ZoneHubSettings settings, Clock clock) {
        this.registry = registry;
        this.revisions = revisions;
        this.board = board;
        this.settings = settings;
        this.clock = clock;
    }

    /** The gRPC service to add to a server. */
    public ServerServiceDefinition service() {
        return ServerServiceDefinition.builder(ZoneStream.SERVICE)
                .addMethod(ZoneStream.FOLLOW, ServerCalls.asyncBidiStreamingCall(this::follow))
                .build();
    }

    private StreamObserver<ZoneProto.ZoneUp> follow(StreamObserver<ZoneProto.ZoneDown> out) {
        return new ZoneSession(
                (ServerCallStreamObserver<ZoneProto.ZoneDown>) out,
                registry,
                revisions,
                board,
                settings,
                clock,
                sessions,
                subscriptionState::get);
    }

    /**
     * Revokes a cluster: its credentials are deleted and its open streams closed now (streams on other central
     * replicas see the revocation on their next tick).
     */
    public boolean revoke(String cluster) {
        boolean found = registry.revoke(cluster);
        sessions.stream()
                .filter(s -> s.cluster().equals(java.util.Optional.of(cluster)))
                .forEach(s -> s.close(
                        io.grpc.Status.PERMISSION_DENIED.withDescription("cluster " + cluster + " was revoked")));
        return found;
    }

    /**
     * Ticks every stream now: called when a revision is stored (by any replica, through PostgreSQL's NOTIFY) and when
     * a cluster's groups change, so a publish reaches the zones without waiting for their next tick.
     */
    public void nudge() {
        sessions.forEach(ZoneSession::wake);
    }

    /** The catalogue's newest subscription state (from central's snapshot feed): every zone receives its slice now. */
    public void subscriptionState(io.meshguard.catalogmodel.SubscriptionSnapshot snapshot) {
        subscriptionState.set(java.util.Optional.of(snapshot));
        nudge();
    }

    public ZoneRegistry registry() {
        return registry;
    }

    public ZoneBoard board() {
        return board;
    }

    /** Closes every stream (central shutting down); zones keep serving and redial. */
    public void closeAll() {
        sessions.forEach(s -> s.close(io.grpc.Status.UNAVAILABLE.withDescription("central is shutting down")));
    }
}
