package io.meshguard.xds.subscription;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.catalog.SnapshotMessage;
import io.meshguard.catalog.SubscriptionSnapshot;
import io.meshguard.contract.subscription.SubscriptionStateWire;
import io.meshguard.xds.server.ClientText;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves subscription state to extauthz replicas ({@link SubscriptionStateWire}): every stream gets the current
 * snapshot when it opens and each newer one when {@link #publish} is called; what each replica ACKed or NACKed is kept
 * per nonce, so {@link #replicas()} shows which version every replica decides from.
 *
 * <p>The state holds every tenant's catalogue: on the ADS port only streams of the group {@link #GROUP} reach this
 * service (AdsServer), and a replica is known by its verified peer identity with its node id, so a stream of
 * another identity reusing a replica's node id never writes that replica's ACK or NACK.
 */
public final class SubscriptionStateService implements BindableService {
    private static final Logger LOG = LoggerFactory.getLogger(SubscriptionStateService.class);
    /** The gateway group extauthz replicas name ({@code node.cluster}); the only one this service serves. */
    public static final String GROUP = "meshguard-extauthz";

    /** A replica's view: the version it last ACKed, and the error of its last NACK if that came later. */
    public record ReplicaState(String replica, Optional<Long> ackedVersion, Optional<String> lastError) {}

    private record Stream(
            String replica, ServerCallStreamObserver<DiscoveryResponse> out, Map<String, Long> sentByNonce) {}

    /** A snapshot with its resource, encoded once however many replicas it goes to. */
    private record Encoded(SubscriptionSnapshot snapshot, Any resource) {}

    private final AtomicReference<Optional<Encoded>> current = new AtomicReference<>(Optional.empty());
    private final Map<Long, Stream> streams = new ConcurrentHashMap<>();
    private final Map<String, ReplicaState> replicas = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong nonces = new AtomicLong();

    /** Makes {@code snapshot} current and sends it to every open stream. */
    public void publish(SubscriptionSnapshot snapshot) {
        Encoded encoded = new Encoded(snapshot, SnapshotMessage.resource(snapshot));
        current.set(Optional.of(encoded));
        streams.values().forEach(s -> send(s, encoded));
    }

    /** What each replica that ever connected reported last. */
    public Map<String, ReplicaState> replicas() {
        return Map.copyOf(replicas);
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerServiceDefinition.builder(SubscriptionStateWire.SERVICE)
                .addMethod(SubscriptionStateWire.STREAM, ServerCalls.asyncBidiStreamingCall(this::stream))
                .build();
    }

    private StreamObserver<DiscoveryRequest> stream(StreamObserver<DiscoveryResponse> responses) {
        long id = ids.incrementAndGet();
        ServerCallStreamObserver<DiscoveryResponse> out = (ServerCallStreamObserver<DiscoveryResponse>) responses;
        return new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryRequest request) {
                if (!request.getTypeUrl().equals(SubscriptionStateWire.TYPE_URL)) {
                    out.onError(io.grpc.Status.INVALID_ARGUMENT
                            .withDescription("this service serves " + SubscriptionStateWire.TYPE_URL + " only")
                            .asRuntimeException());
                    return;
                }
                // the node id names the replica in logs and /fleet (escaped like every client text), with the verified
                // identity the ADS port stamped on the node when there is one: a node id alone is a claim
                String replica = ClientText.escape(request.getNode().getId())
                        + io.meshguard.xds.server.PeerIdentity.stampedOn(request.getNode())
                                .map(p -> " (" + p.id() + ")")
                                .orElse("");
                Stream s = streams.get(id);
                if (s == null) {
                    s = new Stream(replica, out, new ConcurrentHashMap<>());
                    streams.put(id, s);
                    Optional<Encoded> now = current.get();
                    if (now.isPresent()) {
                        send(s, now.get());
                    }
                    return;
                }
                Long sent = s.sentByNonce().remove(request.getResponseNonce());
                if (sent == null) {
                    return; // a stale nonce: an answer to a response a newer one replaced
                }
                if (request.hasErrorDetail()) {
                    String error = ClientText.escape(request.getErrorDetail().getMessage());
                    LOG.error("replica {} refused subscription state version {}: {}", replica, sent, error);
                    replicas.compute(
                            replica,
                            (k, v) -> new ReplicaState(
                                    replica, v == null ? Optional.empty() : v.ackedVersion(), Optional.of(error)));
                } else {
                    replicas.put(replica, new ReplicaState(replica, Optional.of(sent), Optional.empty()));
                }
            }

            @Override
            public void onError(Throwable t) {
                streams.remove(id);
            }

            @Override
            public void onCompleted() {
                streams.remove(id);
                out.onCompleted();
            }
        };
    }

    private void send(Stream s, Encoded encoded) {
        SubscriptionSnapshot snapshot = encoded.snapshot();
        String nonce = Long.toString(nonces.incrementAndGet());
        s.sentByNonce().put(nonce, snapshot.version());
        synchronized (s) {
            if (s.out().isCancelled()) {
                return;
            }
            s.out()
                    .onNext(DiscoveryResponse.newBuilder()
                            .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                            .setVersionInfo(Long.toString(snapshot.version()))
                            .setNonce(nonce)
                            .addResources(encoded.resource())
                            .build());
        }
    }
}
