package io.meshguard.extauthz.subscription;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.meshguard.catalog.SnapshotJson;
import io.meshguard.catalog.SubscriptionSnapshot;
import java.io.IOException;

/**
 * How subscription state travels from the xDS controller to extauthz replicas: xDS state-of-the-world over its own
 * service, the way Envoy's per-type discovery services are declared ({@code ClusterDiscoveryService/StreamClusters}
 * in {@code envoy/service/cluster/v3/cds.proto}): a bidirectional stream of {@code DiscoveryRequest} and
 * {@code DiscoveryResponse}, ACK and NACK by {@code version_info} and {@code response_nonce}, {@code error_detail} on a
 * NACK. The one resource is the whole snapshot as a {@code google.protobuf.Struct} (docs/products.md explains why
 * xDS and why one snapshot).
 */
public final class SubscriptionStateProtocol {

    /** The resource type replicas subscribe to. */
    public static final String TYPE_URL = "type.googleapis.com/meshguard.catalog.v1.SubscriptionState";
    /** The one resource's name. */
    public static final String RESOURCE_NAME = "subscription-state";
    public static final String SERVICE = "meshguard.catalog.v1.SubscriptionStateDiscoveryService";

    public static final MethodDescriptor<DiscoveryRequest, DiscoveryResponse> STREAM =
            MethodDescriptor.<DiscoveryRequest, DiscoveryResponse>newBuilder()
                    .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                    .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "StreamSubscriptionState"))
                    .setRequestMarshaller(ProtoUtils.marshaller(DiscoveryRequest.getDefaultInstance()))
                    .setResponseMarshaller(ProtoUtils.marshaller(DiscoveryResponse.getDefaultInstance()))
                    .build();

    private static final ObjectMapper JSON = new ObjectMapper();

    private SubscriptionStateProtocol() {
    }

    /** The snapshot as the one resource of a response. */
    public static Any resource(SubscriptionSnapshot snapshot) {
        Struct.Builder struct = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(SnapshotJson.encode(snapshot).toString(), struct);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("snapshot JSON is not a Struct", e);
        }
        return Any.pack(struct.build());
    }

    /**
     * The snapshot a response carries.
     *
     * @throws IllegalArgumentException naming what is wrong (the caller NACKs with it)
     */
    public static SubscriptionSnapshot snapshot(DiscoveryResponse response) {
        if (!response.getTypeUrl().equals(TYPE_URL)) {
            throw new IllegalArgumentException("type_url " + response.getTypeUrl() + ", expected " + TYPE_URL);
        }
        if (response.getResourcesCount() != 1) {
            throw new IllegalArgumentException("expected exactly one resource, got " + response.getResourcesCount());
        }
        try {
            Struct struct = response.getResources(0).unpack(Struct.class);
            return SnapshotJson.decode(JSON.readTree(JsonFormat.printer().print(struct)));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("the resource is not a google.protobuf.Struct: " + e.getMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("the resource is not JSON: " + e.getMessage());
        }
    }
}
