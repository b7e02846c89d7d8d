package io.meshguard.xds.server;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.meshguard.contract.peer.ClientText;
import io.meshguard.contract.peer.XfccHeader;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds every ADS stream to its peer's verified identity ({@link AdsPeerPolicy}) and serves it only the gateway group
 * that identity may read. The node a client sends is a claim, never an identity: a stream whose node (id, or the
 * group named by {@code meshguard.group} / {@code node.cluster} / the default) asks for a group its identity lacks is
 * closed with PERMISSION_DENIED; a stream that later sends another node id or group is closed the same way; a stream
 * without an identity is closed with UNAUTHENTICATED before any request is read; a stream whose first request has
 * no node is closed with PERMISSION_DENIED (it names no group to check, and the default group would otherwise be
 * served unchecked: Envoy and gRPC clients always send the node first). A service that serves one group only (the
 * subscription state, {@code meshguard-extauthz}) refuses every other group, granted or not. Each refusal is counted in
 * {@code meshguard_xds_stream_refusals_total{reason}} and logged with the client's text escaped.
 *
 * <p>Accepted requests carry the verified identity in node metadata {@link #VERIFIED_PEER} (whatever the client put
 * there is overwritten), so {@link AdsStreams} keys the fleet by identity and node id.
 *
 * <p>Runs after {@link StreamNodeInterceptor} has given every request the stream's node.
 */
final class AdsPeerInterceptor implements ServerInterceptor {
    private static final Logger log = LoggerFactory.getLogger(AdsPeerInterceptor.class);
    /** Node metadata key carrying the verified peer identity inside the controller. */
    static final String VERIFIED_PEER = "meshguard.verified_peer";

    static final List<String> REFUSALS =
            List.of("unauthenticated", "untrusted_proxy", "group_not_allowed", "node_changed", "bad_node", "no_node");
    /** node_status.node_id is varchar(256); a longer or unprintable id is refused rather than cut (cuts collide). */
    static final int MAX_NODE_ID = 256;
    /** node_status.group_name is varchar(128). */
    static final int MAX_GROUP = 128;

    private static final Metadata.Key<String> XFCC = Metadata.Key.of(XfccHeader.NAME, Metadata.ASCII_STRING_MARSHALLER);

    private final AdsPeerPolicy policy;
    private final NodeGroupMapper groups;
    private final Map<String, Counter> refusals = new ConcurrentHashMap<>();
    /** The one group the guarded service serves, if it serves one only. */
    private final Optional<String> onlyGroup;

    AdsPeerInterceptor(AdsPeerPolicy policy, NodeGroupMapper groups, MeterRegistry meters) {
        this(policy, groups, meters, Optional.empty());
    }

    /** @param onlyGroup the one group the guarded service serves (any other is refused even when granted) */
    AdsPeerInterceptor(AdsPeerPolicy policy, NodeGroupMapper groups, MeterRegistry meters, Optional<String> onlyGroup) {
        this.policy = policy;
        this.groups = groups;
        this.onlyGroup = onlyGroup;
        for (String reason : REFUSALS) {
            refusals.put(
                    reason,
                    Counter.builder("meshguard_xds_stream_refusals_total")
                            .description("ADS streams closed because the peer had no verified identity or asked for a "
                                    + "gateway group its identity may not read, by reason")
                            .tag("reason", reason)
                            .register(meters));
        }
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Iterable<String> xfccValues = headers.getAll(XFCC);
        List<String> xfcc = xfccValues == null
                ? List.of()
                : StreamSupport.stream(xfccValues.spliterator(), false).toList();
        AdsPeerPolicy.Identified identified =
                policy.identify(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), xfcc);
        if (identified.peer().isEmpty()) {
            refuse(identified.refusal(), "ADS stream refused: no verified peer identity: " + identified.reason());
            call.close(
                    Status.UNAUTHENTICATED.withDescription("no verified peer identity: " + identified.reason()),
                    new Metadata());
            return new ServerCall.Listener<>() {};
        }
        PeerIdentity peer = identified.peer().get();
        ClosableCall<Q, R> guarded = new ClosableCall<>(call);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(guarded, headers)) {
            private String nodeId;
            private String group;

            @Override
            @SuppressWarnings("unchecked")
            public void onMessage(Q message) {
                if (guarded.closed) {
                    return;
                }
                Optional<Node> node = message instanceof DiscoveryRequest r && r.hasNode()
                        ? Optional.of(r.getNode())
                        : message instanceof DeltaDiscoveryRequest d && d.hasNode()
                                ? Optional.of(d.getNode())
                                : Optional.empty();
                if (node.isEmpty()) {
                    if (nodeId == null) {
                        // java-control-plane would hash the empty node to xds.default_group: served unchecked
                        deny(
                                "no_node",
                                peer,
                                "",
                                "",
                                "the stream's first request must carry its node: a request "
                                        + "without one names no gateway group to check");
                        return;
                    }
                    super.onMessage(message);
                    return;
                }
                String claimedGroup = groups.group(node.get());
                String claimedId = node.get().getId();
                if (claimedId.isEmpty()
                        || claimedId.length() > MAX_NODE_ID
                        || !ClientText.printable(claimedId)
                        || claimedGroup.length() > MAX_GROUP
                        || !ClientText.printable(claimedGroup)) {
                    deny(
                            "bad_node",
                            peer,
                            claimedId,
                            claimedGroup,
                            "node id must be 1-" + MAX_NODE_ID + " printable characters, its group at most " + MAX_GROUP
                                    + " printable characters");
                    return;
                }
                if (nodeId == null) {
                    if (onlyGroup.isPresent() && !onlyGroup.get().equals(claimedGroup)) {
                        deny(
                                "group_not_allowed",
                                peer,
                                claimedId,
                                claimedGroup,
                                "this service serves group '" + onlyGroup.get() + "' only");
                        return;
                    }
                    if (!policy.allows(peer, claimedGroup)) {
                        deny(
                                "group_not_allowed",
                                peer,
                                claimedId,
                                claimedGroup,
                                "identity " + peer + " may not read gateway group '"
                                        + ClientText.escape(claimedGroup, 128) + "'");
                        return;
                    }
                    nodeId = claimedId;
                    group = claimedGroup;
                } else if (!nodeId.equals(claimedId) || !group.equals(claimedGroup)) {
                    deny(
                            "node_changed",
                            peer,
                            claimedId,
                            claimedGroup,
                            "the stream's node changed from " + ClientText.escape(nodeId, 128) + " to "
                                    + ClientText.escape(claimedId, 128));
                    return;
                }
                Node stamped = stamp(node.get(), peer);
                if (message instanceof DiscoveryRequest r) {
                    message = (Q) r.toBuilder().setNode(stamped).build();
                } else if (message instanceof DeltaDiscoveryRequest d) {
                    message = (Q) d.toBuilder().setNode(stamped).build();
                }
                super.onMessage(message);
            }

            private void deny(String reason, PeerIdentity who, String claimedId, String claimedGroup, String why) {
                refuse(
                        reason,
                        "ADS stream refused: peer=" + who + " node=" + ClientText.escape(claimedId, 128) + " group="
                                + ClientText.escape(claimedGroup, 128) + ": " + why);
                guarded.closeOnce(Status.PERMISSION_DENIED.withDescription(why));
            }
        };
    }

    private static Node stamp(Node node, PeerIdentity peer) {
        Struct metadata = node.getMetadata().toBuilder()
                .putFields(
                        VERIFIED_PEER,
                        Value.newBuilder().setStringValue(peer.id()).build())
                .build();
        return node.toBuilder().setMetadata(metadata).build();
    }

    /** The verified identity stamped on a request's node; empty for a node this interceptor did not pass. */
    static String verifiedPeer(Node node) {
        Value v = node.getMetadata().getFieldsOrDefault(VERIFIED_PEER, null);
        return v != null && v.hasStringValue() ? v.getStringValue() : "";
    }

    private void refuse(String reason, String message) {
        refusals.get(reason).increment();
        log.warn(message);
    }

    /**
     * The call as java-control-plane sees it: once this interceptor closed it, a response or close from a watch that
     * fires later is dropped instead of throwing "call is closed" on a cache thread.
     */
    private static final class ClosableCall<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        volatile boolean closed;

        ClosableCall(ServerCall<Q, R> call) {
            super(call);
        }

        synchronized void closeOnce(Status status) {
            if (!closed) {
                closed = true;
                super.close(status, new Metadata());
            }
        }

        @Override
        public synchronized void sendMessage(R message) {
            if (!closed) {
                super.sendMessage(message);
            }
        }

        @Override
        public synchronized void close(Status status, Metadata trailers) {
            if (!closed) {
                closed = true;
                super.close(status, trailers);
            }
        }
    }
}
