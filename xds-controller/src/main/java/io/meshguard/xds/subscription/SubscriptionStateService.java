package io.meshguard.xds.subscription;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.catalog.SnapshotMessage;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.TenantHoldings;
import io.meshguard.contract.peer.ClientText;
import io.meshguard.contract.subscription.SubscriptionStateWire;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves subscription state to extauthz replicas ({@link SubscriptionStateWire}) over two methods: state of the world
 * (the whole state as one resource, for replicas of earlier releases) and delta, where the state is one resource of
 * publishes and plans and one per tenant, each sent only when it changed, so a change costs its tenant whatever the
 * catalogue's size. Every stream gets the current state when it opens and what changed when {@link #publish} is
 * called; what each replica ACKed or NACKed is kept per nonce, so {@link #replicas()} shows which version every
 * replica decides from.
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

    /** A delta stream: {@code initial} are the names the replica said it holds, until it received the full state. */
    private static final class DeltaStream {
        final String replica;
        final ServerCallStreamObserver<DeltaDiscoveryResponse> out;
        final Map<String, Long> sentByNonce = new ConcurrentHashMap<>();
        Optional<Set<String>> initial;

        DeltaStream(String replica, ServerCallStreamObserver<DeltaDiscoveryResponse> out, Set<String> initial) {
            this.replica = replica;
            this.out = out;
            this.initial = Optional.of(initial);
        }
    }

    /**
     * The state served: the snapshot, its delta resources by name (each encoded once, when its part changed), and the
     * whole state as one resource, encoded only when a state-of-the-world stream asks for it.
     */
    private static final class Served {
        final SubscriptionSnapshot snapshot;
        final Map<String, Resource> resources;
        private Any whole;

        Served(SubscriptionSnapshot snapshot, Map<String, Resource> resources) {
            this.snapshot = snapshot;
            this.resources = resources;
        }

        Any whole() {
            if (whole == null) {
                whole = SnapshotMessage.resource(snapshot);
            }
            return whole;
        }
    }

    /** Guards {@code current} and the sends, so each stream sees every change once and in order. */
    private final Object lock = new Object();

    private Optional<Served> current = Optional.empty();
    private final Map<Long, Stream> streams = new ConcurrentHashMap<>();
    private final Map<Long, DeltaStream> deltaStreams = new ConcurrentHashMap<>();
    private final Map<String, ReplicaState> replicas = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong nonces = new AtomicLong();

    /** Makes {@code snapshot} current and sends it, or what changed in it, to every open stream. */
    public void publish(SubscriptionSnapshot snapshot) {
        synchronized (lock) {
            Optional<Served> before = current;
            Map<String, Resource> resources =
                    new HashMap<>(before.map(b -> b.resources).orElse(Map.of()));
            List<Resource> changed = new ArrayList<>();
            long version = snapshot.version();
            // a part the producer kept is the same object (the feed swaps only changed tenants); a zone rebuilds every
            // part from central's message, so equal content counts as unchanged too
            if (before.isEmpty()
                    || !(before.get().snapshot.shared() == snapshot.shared()
                            || before.get().snapshot.shared().equals(snapshot.shared()))) {
                Resource r = resource(
                        SubscriptionStateWire.SHARED_RESOURCE,
                        version,
                        SnapshotMessage.sharedResource(version, snapshot.shared()));
                resources.put(r.getName(), r);
                changed.add(r);
            }
            Map<String, TenantHoldings> old =
                    before.map(b -> b.snapshot.tenants()).orElse(Map.of());
            for (TenantHoldings t : snapshot.tenants().values()) {
                TenantHoldings was = old.get(t.tenant());
                if (was == t || t.equals(was)) {
                    continue;
                }
                Resource r = resource(
                        SubscriptionStateWire.tenantResource(t.tenant()),
                        version,
                        SnapshotMessage.tenantResource(version, t));
                resources.put(r.getName(), r);
                changed.add(r);
            }
            List<String> removed = new ArrayList<>();
            for (String tenant : old.keySet()) {
                if (!snapshot.tenants().containsKey(tenant)) {
                    String name = SubscriptionStateWire.tenantResource(tenant);
                    resources.remove(name);
                    removed.add(name);
                }
            }
            Served served = new Served(snapshot, Map.copyOf(resources));
            current = Optional.of(served);
            streams.values().forEach(s -> send(s, served));
            for (DeltaStream s : deltaStreams.values()) {
                if (s.initial.isPresent()) {
                    sendAll(s, served);
                } else {
                    send(s, version, changed, removed);
                }
            }
        }
    }

    /** What each replica that ever connected reported last. */
    public Map<String, ReplicaState> replicas() {
        return Map.copyOf(replicas);
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerServiceDefinition.builder(SubscriptionStateWire.SERVICE)
                .addMethod(SubscriptionStateWire.STREAM, ServerCalls.asyncBidiStreamingCall(this::stream))
                .addMethod(SubscriptionStateWire.DELTA, ServerCalls.asyncBidiStreamingCall(this::deltaStream))
                .build();
    }

    private static Resource resource(String name, long version, Any body) {
        return Resource.newBuilder()
                .setName(name)
                .setVersion(Long.toString(version))
                .setResource(body)
                .build();
    }

    // the node id names the replica in logs and /fleet (escaped like every client text), with the verified identity
    // the ADS port stamped on the node when there is one: a node id alone is a claim
    private static String replica(io.envoyproxy.envoy.config.core.v3.Node node) {
        return ClientText.escape(node.getId())
                + io.meshguard.xds.server.PeerIdentity.stampedOn(node)
                        .map(p -> " (" + p.id() + ")")
                        .orElse("");
    }

    private void acknowledged(String replica, Long sent, Optional<String> errorDetail) {
        if (errorDetail.isPresent()) {
            String error = ClientText.escape(errorDetail.get());
            LOG.error("replica {} refused subscription state version {}: {}", replica, sent, error);
            replicas.compute(
                    replica,
                    (k, v) -> new ReplicaState(
                            replica, v == null ? Optional.empty() : v.ackedVersion(), Optional.of(error)));
        } else {
            replicas.put(replica, new ReplicaState(replica, Optional.of(sent), Optional.empty()));
        }
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
                String replica = replica(request.getNode());
                Stream s = streams.get(id);
                if (s == null) {
                    synchronized (lock) {
                        s = new Stream(replica, out, new ConcurrentHashMap<>());
                        streams.put(id, s);
                        if (current.isPresent()) {
                            send(s, current.get());
                        }
                    }
                    return;
                }
                Long sent = s.sentByNonce().remove(request.getResponseNonce());
                if (sent == null) {
                    return; // a stale nonce: an answer to a response a newer one replaced
                }
                acknowledged(
                        replica,
                        sent,
                        request.hasErrorDetail()
                                ? Optional.of(request.getErrorDetail().getMessage())
                                : Optional.empty());
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

    private StreamObserver<DeltaDiscoveryRequest> deltaStream(StreamObserver<DeltaDiscoveryResponse> responses) {
        long id = ids.incrementAndGet();
        ServerCallStreamObserver<DeltaDiscoveryResponse> out =
                (ServerCallStreamObserver<DeltaDiscoveryResponse>) responses;
        return new StreamObserver<>() {
            @Override
            public void onNext(DeltaDiscoveryRequest request) {
                if (!request.getTypeUrl().equals(SubscriptionStateWire.TYPE_URL)) {
                    out.onError(io.grpc.Status.INVALID_ARGUMENT
                            .withDescription("this service serves " + SubscriptionStateWire.TYPE_URL + " only")
                            .asRuntimeException());
                    return;
                }
                DeltaStream s = deltaStreams.get(id);
                if (s == null) {
                    // every replica subscribes to everything (wildcard), so resource_names_subscribe is not read;
                    // what it says it holds is read only to tell it which of those are gone
                    synchronized (lock) {
                        s = new DeltaStream(
                                replica(request.getNode()),
                                out,
                                Set.copyOf(
                                        request.getInitialResourceVersionsMap().keySet()));
                        deltaStreams.put(id, s);
                        if (current.isPresent()) {
                            sendAll(s, current.get());
                        }
                    }
                    return;
                }
                if (request.getResponseNonce().isEmpty()) {
                    return; // a subscription change: every stream already receives every resource
                }
                Long sent = s.sentByNonce.remove(request.getResponseNonce());
                if (sent == null) {
                    return;
                }
                acknowledged(
                        s.replica,
                        sent,
                        request.hasErrorDetail()
                                ? Optional.of(request.getErrorDetail().getMessage())
                                : Optional.empty());
            }

            @Override
            public void onError(Throwable t) {
                deltaStreams.remove(id);
            }

            @Override
            public void onCompleted() {
                deltaStreams.remove(id);
                out.onCompleted();
            }
        };
    }

    /** The whole state, on a stream's first response: every resource, and which of what it held are gone. */
    private void sendAll(DeltaStream s, Served served) {
        Set<String> gone = new HashSet<>(s.initial.orElse(Set.of()));
        gone.removeAll(served.resources.keySet());
        s.initial = Optional.empty();
        send(s, served.snapshot.version(), served.resources.values(), List.copyOf(gone));
    }

    private void send(DeltaStream s, long version, java.util.Collection<Resource> resources, List<String> removed) {
        if (s.out.isCancelled()) {
            return;
        }
        String nonce = Long.toString(nonces.incrementAndGet());
        s.sentByNonce.put(nonce, version);
        s.out.onNext(DeltaDiscoveryResponse.newBuilder()
                .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                .setSystemVersionInfo(Long.toString(version))
                .setNonce(nonce)
                .addAllResources(resources)
                .addAllRemovedResources(removed)
                .build());
    }

    private void send(Stream s, Served served) {
        String nonce = Long.toString(nonces.incrementAndGet());
        s.sentByNonce().put(nonce, served.snapshot.version());
        if (s.out().isCancelled()) {
            return;
        }
        s.out()
                .onNext(DiscoveryResponse.newBuilder()
                        .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                        .setVersionInfo(Long.toString(served.snapshot.version()))
                        .setNonce(nonce)
                        .addResources(served.whole())
                        .build());
    }
}
