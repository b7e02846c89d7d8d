package io.meshguard.xds.server;

import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows every ADS stream: which node it is, which version went out with which nonce, and what came back (ACK or
 * NACK). Feeds the {@link Fleet} and tells {@link NackParkingWatcher} which version a NACK rejected.
 *
 * <p>java-control-plane calls {@link #onV3StreamRequest} and then, on the same thread, creates the watch for that
 * request object; the rejected version is handed over keyed by that very request instance.
 */
public final class AdsStreams implements DiscoveryServerCallbacks, XdsSnapshots.ClusterSubscriptions {
    private static final Logger log = LoggerFactory.getLogger(AdsStreams.class);
    /** Nonces remembered per stream and type; a client answers the latest one, older ones are stale anyway. */
    private static final int NONCES_KEPT = 16;

    private final Fleet fleet;
    private final NodeGroupMapper groups;
    private final MeterRegistry meters;
    private final Map<Long, StreamState> streams = new ConcurrentHashMap<>();
    private final Map<DiscoveryRequest, String> rejectedVersions = Collections.synchronizedMap(new IdentityHashMap<>());
    private final Map<DeltaDiscoveryRequest, Map<String, String>> rejectedDeltas =
            Collections.synchronizedMap(new IdentityHashMap<>());
    private final Map<DiscoveryRequest, Set<String>> resubscribed =
            Collections.synchronizedMap(new IdentityHashMap<>());
    private final Map<String, Timer> answerLatency = new ConcurrentHashMap<>();
    private final NackEpisodes refusals = new NackEpisodes(log);

    /** The resource types the controller serves, short names as in the {@code type} label. */
    static final List<String> SERVED_TYPES =
            List.of("Cluster", "ClusterLoadAssignment", "Listener", "RouteConfiguration");

    public AdsStreams(Fleet fleet, NodeGroupMapper groups, MeterRegistry meters) {
        this.fleet = fleet;
        this.groups = groups;
        this.meters = meters;
        // every series an alert or panel reads exists at 0 from start: increase() then sees the first NACK
        for (String type : SERVED_TYPES) {
            for (String name :
                    List.of("meshguard_xds_nacks_total", "meshguard_xds_acks_total", "meshguard_xds_responses_total")) {
                counter(name, type);
            }
        }
    }

    /**
     * An ACK: the first answer to a nonce this stream sent, naming the very version that went out with it. A request
     * repeating a nonce the client NACKed, or an earlier version, or a nonce this replica never sent, accepts nothing.
     */
    private static boolean isAck(Optional<Sent> answered, boolean first, String versionInfo) {
        return answered.isPresent()
                && first
                && !answered.get().nacked()
                && answered.get().version().equals(versionInfo);
    }

    /**
     * A response as it went out: its version, and when (System.nanoTime), to time the client's answer; whether the
     * client answered it yet and whether that answer was a NACK.
     */
    private record Sent(String version, long nanos, AtomicBoolean answered, AtomicBoolean rejected) {
        Sent(String version, long nanos) {
            this(version, nanos, new AtomicBoolean(), new AtomicBoolean());
        }

        /** True for the first answer only. */
        boolean answerOnce() {
            return answered.compareAndSet(false, true);
        }

        void markNacked() {
            rejected.set(true);
        }

        boolean nacked() {
            return rejected.get();
        }
    }

    private static final class StreamState {
        volatile Node node;
        volatile NodeStatus.Key key;
        volatile String group;
        final Map<String, Map<String, Sent>> versionByNonce = new ConcurrentHashMap<>();
        final Map<String, Set<String>> lastRequested = new ConcurrentHashMap<>();
        /** Delta streams: per type, the resource versions each recent nonce carried. */
        final Map<String, Map<String, Map<String, String>>> deltaByNonce = new ConcurrentHashMap<>();
        /** Delta streams: the node, for the refusal log; delta nodes are not in the fleet. */
        volatile Optional<NodeStatus.Key> deltaNode = Optional.empty();

        void sentDelta(String typeUrl, String nonce, Map<String, String> versions) {
            deltaByNonce
                    .computeIfAbsent(
                            typeUrl,
                            t -> Collections.synchronizedMap(new LinkedHashMap<>(NONCES_KEPT * 2, 0.75f, false) {
                                @Override
                                protected boolean removeEldestEntry(Map.Entry<String, Map<String, String>> eldest) {
                                    return size() > NONCES_KEPT;
                                }
                            }))
                    .put(nonce, versions);
        }

        Optional<Map<String, String>> sentDelta(String typeUrl, String nonce) {
            Map<String, Map<String, String>> m = deltaByNonce.get(typeUrl);
            return m == null ? Optional.empty() : Optional.ofNullable(m.remove(nonce));
        }

        void sent(String typeUrl, String nonce, String version) {
            Map<String, Sent> m = versionByNonce.computeIfAbsent(
                    typeUrl,
                    t -> Collections.synchronizedMap(new LinkedHashMap<>(NONCES_KEPT * 2, 0.75f, false) {
                        @Override
                        protected boolean removeEldestEntry(Map.Entry<String, Sent> eldest) {
                            return size() > NONCES_KEPT;
                        }
                    }));
            m.put(nonce, new Sent(version, System.nanoTime()));
        }

        Optional<Sent> sent(String typeUrl, String nonce) {
            Map<String, Sent> m = versionByNonce.get(typeUrl);
            return m == null ? Optional.empty() : Optional.ofNullable(m.get(nonce));
        }
    }

    @Override
    public void onStreamOpen(long streamId, String typeUrl) {
        streams.put(streamId, new StreamState());
    }

    @Override
    public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
        StreamState s = streams.computeIfAbsent(streamId, id -> new StreamState());
        if (s.node == null && request.hasNode()) {
            // Envoy may send the node only on the first request of a stream
            s.node = request.getNode();
            s.key = new NodeStatus.Key(AdsPeerInterceptor.verifiedPeer(s.node), s.node.getId());
            s.group = groups.group(s.node);
            fleet.streamOpened(s.key, s.group, userAgent(s.node));
        }
        if (s.node == null) {
            return;
        }
        String type = shortType(request.getTypeUrl());
        Set<String> names = Set.copyOf(request.getResourceNamesList());
        Set<String> previous = s.lastRequested.put(request.getTypeUrl(), names);
        if (previous != null) {
            Set<String> added = new HashSet<>(names);
            added.removeAll(previous);
            if (!added.isEmpty()) {
                resubscribed.put(request, added);
            }
            if (request.getTypeUrl().equals(io.envoyproxy.controlplane.cache.Resources.V3.CLUSTER_TYPE_URL)
                    && !names.containsAll(previous)) {
                fleet.unsubscribed(s.key, s.group);
            }
        }
        if (request.getResponseNonce().isEmpty()) {
            return;
        }
        String result = request.hasErrorDetail() ? "nack" : "ack";
        Optional<Sent> answered = s.sent(request.getTypeUrl(), request.getResponseNonce());
        // The first answer to a nonce decides: a client repeats a nonce on later requests (a subscription change
        // carries the last nonce it saw), and under gRFC A46 (xDS NACK semantics improvement) it also repeats the
        // version it NACKed as version_info. Neither is a new ACK.
        boolean first = answered.map(Sent::answerOnce).orElse(false);
        if (first) {
            answerLatency(type, result)
                    .record(System.nanoTime() - answered.get().nanos(), TimeUnit.NANOSECONDS);
        }
        if (request.hasErrorDetail()) {
            answered.ifPresent(Sent::markNacked);
            String rejected = answered.map(Sent::version).orElse("unknown");
            rejectedVersions.put(request, rejected);
            if (answered.isPresent() && !first) {
                return;
            }
            counter("meshguard_xds_nacks_total", type).increment();
            refusals.refused(
                    s.key, type, s.group, rejected, request.getErrorDetail().getMessage());
            fleet.nacked(
                    s.key,
                    s.group,
                    request.getTypeUrl(),
                    rejected,
                    request.getErrorDetail().getMessage());
        } else if (isAck(answered, first, request.getVersionInfo())) {
            counter("meshguard_xds_acks_total", type).increment();
            refusals.accepted(s.key, type, s.group);
            fleet.acked(s.key, s.group, request.getTypeUrl(), request.getVersionInfo());
        }
    }

    @Override
    public void onV3StreamResponse(long streamId, DiscoveryRequest request, DiscoveryResponse response) {
        StreamState s = streams.get(streamId);
        if (s != null) {
            s.sent(response.getTypeUrl(), response.getNonce(), response.getVersionInfo());
        }
        String type = shortType(response.getTypeUrl());
        sent(meters, type, response.getSerializedSize());
    }

    /** One response of {@code type} sent, with its bytes; shared with {@link VirtualHostDiscovery}. */
    static void sent(MeterRegistry meters, String type, long bytes) {
        counter(meters, "meshguard_xds_responses_total", type).increment();
        Counter.builder("meshguard_xds_response_bytes_total")
                .description("Serialized bytes of xDS responses sent, by resource type")
                .tag("type", type)
                .register(meters)
                .increment(bytes);
    }

    /**
     * Delta ADS (java-control-plane serves it from the same snapshots): its nodes are not followed in the fleet, but a
     * NACK is counted, logged once per refusal episode and handed to {@link NackParkingWatcher} with the versions it
     * rejected, so the watch is not answered again with the same resources at once.
     */
    @Override
    public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
        StreamState s = streams.computeIfAbsent(streamId, id -> new StreamState());
        if (s.deltaNode.isEmpty() && request.hasNode()) {
            Node node = request.getNode();
            s.group = groups.group(node);
            s.deltaNode = Optional.of(new NodeStatus.Key(AdsPeerInterceptor.verifiedPeer(node), node.getId()));
        }
        if (s.deltaNode.isEmpty() || request.getResponseNonce().isEmpty()) {
            return;
        }
        String type = shortType(request.getTypeUrl());
        Optional<Map<String, String>> answered = s.sentDelta(request.getTypeUrl(), request.getResponseNonce());
        if (answered.isEmpty()) {
            return; // a nonce answered before, or one this replica never sent
        }
        if (request.hasErrorDetail()) {
            rejectedDeltas.put(request, answered.get());
            counter("meshguard_xds_nacks_total", type).increment();
            refusals.refused(
                    s.deltaNode.get(),
                    type,
                    s.group,
                    "delta " + answered.get().size() + " resources",
                    request.getErrorDetail().getMessage());
        } else {
            counter("meshguard_xds_acks_total", type).increment();
            refusals.accepted(s.deltaNode.get(), type, s.group);
        }
    }

    @Override
    public void onV3StreamDeltaResponse(long streamId, DeltaDiscoveryRequest request, DeltaDiscoveryResponse response) {
        StreamState s = streams.get(streamId);
        if (s != null) {
            Map<String, String> versions = new java.util.HashMap<>();
            response.getResourcesList().forEach(r -> versions.put(r.getName(), r.getVersion()));
            s.sentDelta(response.getTypeUrl(), response.getNonce(), Map.copyOf(versions));
        }
        sent(meters, shortType(response.getTypeUrl()), response.getSerializedSize());
    }

    /** The resource versions a delta NACK rejected, once (the watch for that request takes them). */
    Optional<Map<String, String>> takeRejectedDelta(DeltaDiscoveryRequest nack) {
        return Optional.ofNullable(rejectedDeltas.remove(nack));
    }

    @Override
    public void onStreamClose(long streamId, String typeUrl) {
        closed(streamId);
    }

    @Override
    public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
        closed(streamId);
    }

    @Override
    public boolean named(String group, String cluster) {
        for (StreamState s : streams.values()) {
            if (group.equals(s.group)) {
                Set<String> names = s.lastRequested.get(io.envoyproxy.controlplane.cache.Resources.V3.CLUSTER_TYPE_URL);
                if (names != null && names.contains(cluster)) {
                    return true;
                }
            }
        }
        return false;
    }

    private void closed(long streamId) {
        StreamState s = streams.remove(streamId);
        if (s != null && s.node != null) {
            fleet.streamClosed(s.key, s.group);
        }
    }

    /**
     * Names this request subscribes to that the stream's previous request of the same type did not, once. The client
     * dropped its copy when it unsubscribed, so they must be sent again even if the version did not change.
     */
    Set<String> takeNewlySubscribed(DiscoveryRequest request) {
        Set<String> added = resubscribed.remove(request);
        return added == null ? Set.of() : added;
    }

    /** The version the given NACK rejected, once (the watch for that request takes it). */
    Optional<String> takeRejectedVersion(DiscoveryRequest nack) {
        return Optional.ofNullable(rejectedVersions.remove(nack));
    }

    /**
     * From a response sent to the client's ACK or NACK of its nonce: what a push takes to reach and be applied by a
     * client (its network, its queue, its config apply), per resource type.
     */
    private Timer answerLatency(String type, String result) {
        return answerLatency.computeIfAbsent(
                type + '|' + result, k -> Timer.builder("meshguard_xds_ack_latency_seconds")
                        .description("Time from an xDS response sent to the client's ACK or NACK of it")
                        .tag("type", type)
                        .tag("result", result)
                        .publishPercentileHistogram()
                        .register(meters));
    }

    private static final Map<String, String> DESCRIPTIONS = Map.of(
            "meshguard_xds_nacks_total", "xDS responses a client rejected (NACK), once per response, by resource type",
            "meshguard_xds_acks_total", "xDS responses a client accepted (ACK of the version sent), by resource type",
            "meshguard_xds_responses_total", "xDS responses sent, by resource type");

    private Counter counter(String name, String type) {
        return counter(meters, name, type);
    }

    /** The ACK, NACK and response counters of one resource type, shared with {@link VirtualHostDiscovery}. */
    static Counter counter(MeterRegistry meters, String name, String type) {
        return Counter.builder(name)
                .description(DESCRIPTIONS.get(name))
                .tag("type", type)
                .register(meters);
    }

    private static String userAgent(Node node) {
        String name = node.getUserAgentName();
        String version = node.hasUserAgentBuildVersion() ? "" : node.getUserAgentVersion();
        return (name + " " + version).trim();
    }

    /** {@code type.googleapis.com/envoy.config.listener.v3.Listener} → {@code Listener}. */
    static String shortType(String typeUrl) {
        int dot = typeUrl.lastIndexOf('.');
        return dot < 0 ? typeUrl : typeUrl.substring(dot + 1);
    }
}
