package io.meshguard.xds.soak;

import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.route.v3.VirtualHostDiscoveryServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.contract.subscription.SubscriptionStateWire;
import io.meshguard.xds.server.VirtualHostDiscovery;
import io.meshguard.xds.subscription.SubscriptionStateService;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The bare nodes of {@link XdsSoak}: each answers every response on the gRPC thread the moment it arrives,
 * ACK or (for what it refuses) NACK, so its answers race the core's own work, and opens its streams again 200 ms
 * after they end (a controller restarting, a reconnect), as Envoy and extauthz redial.
 */
public final class SoakNodes {
    static final String GROUP = "local";
    static final String TABLE = "http-8080";
    static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
    static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

    private static final ScheduledExecutorService REDIAL = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("soak-redial").daemon().factory());

    private SoakNodes() {}

    public enum Refuses {
        NOTHING,
        VIRTUAL_HOSTS,
        ROUTE_TABLES,
        STATE
    }

    /**
     * One emulated node of any kind: its id, what it refuses, the responses of that kind it was sent, and its streams.
     */
    public abstract static sealed class SoakNode permits SotwNode, DeltaAdsNode, StateNode {
        private final String id;
        private final Refuses refuses;
        private final AtomicInteger refusable = new AtomicInteger();
        private final List<Redialing<?, ?>> streams = new java.util.concurrent.CopyOnWriteArrayList<>();

        SoakNode(String id, Refuses refuses) {
            this.id = id;
            this.refuses = refuses;
        }

        /** Opens {@code stream} as one of this node's. */
        final <Q, R> Redialing<Q, R> opened(Redialing<Q, R> stream) {
            streams.add(stream);
            return stream.open();
        }

        /** One response of the kind this node refuses (or, refusing nothing, would) was received. */
        final void countRefusable() {
            refusable.incrementAndGet();
        }

        /** The same node on new streams of {@code channel} (a reconnect). */
        abstract SoakNode again(ManagedChannel channel);

        public final String id() {
            return id;
        }

        public final Refuses refuses() {
            return refuses;
        }

        /** Responses of the kind it refuses (its route tables or subscription states for a node that refuses nothing). */
        public final int refusedResponses() {
            return refusable.get();
        }

        /** Streams opened (the most of any of its streams): each new stream is sent everything again. */
        public final int streamsOpened() {
            return streams.stream().mapToInt(Redialing::opened).max().orElse(0);
        }

        public final void close() {
            streams.forEach(Redialing::close);
        }
    }

    /**
     * A client stream opened again 200 ms after it ends, until closed; waits for the channel to be ready, so a
     * controller that is restarting is redialled, not failed at once.
     */
    static final class Redialing<Q, R> {
        private final Function<StreamObserver<R>, StreamObserver<Q>> call;
        private final Supplier<List<Q>> hello;
        private final BiConsumer<R, Redialing<Q, R>> answer;
        private final AtomicInteger opened = new AtomicInteger();
        private StreamObserver<Q> out;
        private int stream;
        private boolean closed;

        Redialing(
                Function<StreamObserver<R>, StreamObserver<Q>> call,
                Supplier<List<Q>> hello,
                BiConsumer<R, Redialing<Q, R>> answer) {
            this.call = call;
            this.hello = hello;
            this.answer = answer;
        }

        synchronized Redialing<Q, R> open() {
            if (closed) {
                return this;
            }
            int mine = ++stream;
            out = call.apply(new StreamObserver<>() {
                @Override
                public void onNext(R r) {
                    if (current(mine)) {
                        answer.accept(r, Redialing.this);
                    }
                }

                @Override
                public void onError(Throwable t) {
                    ended(mine);
                }

                @Override
                public void onCompleted() {
                    ended(mine);
                }
            });
            opened.incrementAndGet();
            hello.get().forEach(this::send);
            return this;
        }

        private synchronized boolean current(int s) {
            return s == stream && !closed;
        }

        private synchronized void ended(int s) {
            if (s != stream || closed) {
                return;
            }
            out = null;
            REDIAL.schedule(this::open, 200, TimeUnit.MILLISECONDS);
        }

        synchronized void send(Q q) {
            if (out == null) {
                return;
            }
            try {
                out.onNext(q);
            } catch (IllegalStateException ended) {
                // the stream ended meanwhile: the next one says it again
            }
        }

        int opened() {
            return opened.get();
        }

        synchronized void close() {
            closed = true;
            if (out != null) {
                try {
                    out.onCompleted();
                } catch (IllegalStateException ended) {
                    // ended before
                }
            }
        }
    }

    private static Node node(String id, String group) {
        return Node.newBuilder()
                .setId(id)
                .setCluster(group)
                .setUserAgentName("envoy")
                .build();
    }

    private static Status refusal(String what) {
        return Status.newBuilder()
                .setCode(13)
                .setMessage("soak: " + what + " refused")
                .build();
    }

    /** A gateway on state-of-the-world ADS (clusters, listeners, its route table) and, when asked, VHDS. */
    static final class SotwNode extends SoakNode {
        private final boolean overVhds;

        SotwNode(ManagedChannel channel, String id, Refuses refuses, boolean overVhds) {
            super(id, refuses);
            this.overVhds = overVhds;
            Node node = node(id, GROUP);
            opened(new Redialing<DiscoveryRequest, DiscoveryResponse>(
                    o -> AggregatedDiscoveryServiceGrpc.newStub(channel)
                            .withWaitForReady()
                            .streamAggregatedResources(o),
                    () -> List.of(
                            DiscoveryRequest.newBuilder()
                                    .setNode(node)
                                    .setTypeUrl(CDS)
                                    .build(),
                            DiscoveryRequest.newBuilder().setTypeUrl(LDS).build(),
                            DiscoveryRequest.newBuilder()
                                    .setTypeUrl(RDS)
                                    .addResourceNames(TABLE)
                                    .build()),
                    (r, stream) -> {
                        DiscoveryRequest.Builder answer = DiscoveryRequest.newBuilder()
                                .setTypeUrl(r.getTypeUrl())
                                .setResponseNonce(r.getNonce())
                                .addAllResourceNames(r.getTypeUrl().equals(RDS) ? List.of(TABLE) : List.of());
                        if (r.getTypeUrl().equals(RDS) && refuses != Refuses.VIRTUAL_HOSTS) {
                            countRefusable();
                        }
                        if (r.getTypeUrl().equals(RDS) && refuses == Refuses.ROUTE_TABLES) {
                            answer.setErrorDetail(refusal("route table"));
                        } else {
                            answer.setVersionInfo(r.getVersionInfo());
                        }
                        stream.send(answer.build());
                    }));
            if (overVhds) {
                opened(new Redialing<DeltaDiscoveryRequest, DeltaDiscoveryResponse>(
                        o -> VirtualHostDiscoveryServiceGrpc.newStub(channel)
                                .withWaitForReady()
                                .deltaVirtualHosts(o),
                        () -> List.of(DeltaDiscoveryRequest.newBuilder()
                                .setNode(node)
                                .setTypeUrl(VirtualHostDiscovery.TYPE_URL)
                                .build()),
                        (r, stream) -> {
                            DeltaDiscoveryRequest.Builder answer = DeltaDiscoveryRequest.newBuilder()
                                    .setTypeUrl(VirtualHostDiscovery.TYPE_URL)
                                    .setResponseNonce(r.getNonce());
                            if (refuses == Refuses.VIRTUAL_HOSTS) {
                                countRefusable();
                                answer.setErrorDetail(refusal("virtual host"));
                            }
                            stream.send(answer.build());
                        }));
            }
        }

        @Override
        SoakNode again(ManagedChannel channel) {
            return new SotwNode(channel, id(), refuses(), overVhds);
        }
    }

    /**
     * A gateway on delta ADS (clusters and listeners by wildcard, its route table by name): the versions it ACKed last
     * per type, which name the revision it runs.
     */
    public static final class DeltaAdsNode extends SoakNode {
        private final Map<String, String> acked = new ConcurrentHashMap<>();

        public DeltaAdsNode(ManagedChannel channel, String id, Refuses refuses) {
            super(id, refuses);
            Node node = node(id, GROUP);
            opened(new Redialing<DeltaDiscoveryRequest, DeltaDiscoveryResponse>(
                    o -> AggregatedDiscoveryServiceGrpc.newStub(channel)
                            .withWaitForReady()
                            .deltaAggregatedResources(o),
                    () -> {
                        acked.clear();
                        return List.of(
                                DeltaDiscoveryRequest.newBuilder()
                                        .setNode(node)
                                        .setTypeUrl(CDS)
                                        .build(),
                                DeltaDiscoveryRequest.newBuilder()
                                        .setTypeUrl(LDS)
                                        .build(),
                                DeltaDiscoveryRequest.newBuilder()
                                        .setTypeUrl(RDS)
                                        .addResourceNamesSubscribe(TABLE)
                                        .build());
                    },
                    (r, stream) -> {
                        DeltaDiscoveryRequest.Builder answer = DeltaDiscoveryRequest.newBuilder()
                                .setTypeUrl(r.getTypeUrl())
                                .setResponseNonce(r.getNonce());
                        if (r.getTypeUrl().equals(RDS)) {
                            countRefusable();
                        }
                        if (r.getTypeUrl().equals(RDS) && refuses == Refuses.ROUTE_TABLES) {
                            answer.setErrorDetail(refusal("route table"));
                        } else {
                            acked.put(r.getTypeUrl(), r.getSystemVersionInfo());
                        }
                        stream.send(answer.build());
                    }));
        }

        /** Per type URL, the system version of the response it ACKed last on its current stream. */
        public Map<String, String> acked() {
            return Map.copyOf(acked);
        }

        @Override
        SoakNode again(ManagedChannel channel) {
            return new DeltaAdsNode(channel, id(), refuses());
        }
    }

    /** An extauthz replica following the catalogue's subscription state, state of the world or delta. */
    static final class StateNode extends SoakNode {
        private final boolean delta;

        StateNode(ManagedChannel channel, String id, boolean delta, Refuses refuses) {
            super(id, refuses);
            this.delta = delta;
            Node node = Node.newBuilder()
                    .setId(id)
                    .setCluster(SubscriptionStateService.GROUP)
                    .build();
            Status refused = refusal("subscription state");
            if (delta) {
                opened(new Redialing<DeltaDiscoveryRequest, DeltaDiscoveryResponse>(
                        o -> ClientCalls.asyncBidiStreamingCall(
                                channel.newCall(SubscriptionStateWire.DELTA, CallOptions.DEFAULT.withWaitForReady()),
                                o),
                        () -> List.of(DeltaDiscoveryRequest.newBuilder()
                                .setNode(node)
                                .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                                .addResourceNamesSubscribe("*")
                                .build()),
                        (r, s) -> {
                            countRefusable();
                            DeltaDiscoveryRequest.Builder answer = DeltaDiscoveryRequest.newBuilder()
                                    .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                                    .setResponseNonce(r.getNonce());
                            if (refuses == Refuses.STATE) {
                                answer.setErrorDetail(refused);
                            }
                            s.send(answer.build());
                        }));
            } else {
                opened(new Redialing<DiscoveryRequest, DiscoveryResponse>(
                        o -> ClientCalls.asyncBidiStreamingCall(
                                channel.newCall(SubscriptionStateWire.STREAM, CallOptions.DEFAULT.withWaitForReady()),
                                o),
                        () -> List.of(DiscoveryRequest.newBuilder()
                                .setNode(node)
                                .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                                .build()),
                        (r, s) -> {
                            countRefusable();
                            DiscoveryRequest.Builder answer = DiscoveryRequest.newBuilder()
                                    .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                                    .setResponseNonce(r.getNonce());
                            if (refuses == Refuses.STATE) {
                                answer.setErrorDetail(refused);
                            } else {
                                answer.setVersionInfo(r.getVersionInfo());
                            }
                            s.send(answer.build());
                        }));
            }
        }

        @Override
        SoakNode again(ManagedChannel channel) {
            return new StateNode(channel, id(), delta, refuses());
        }
    }
}
