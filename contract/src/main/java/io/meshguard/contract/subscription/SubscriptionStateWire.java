package io.meshguard.contract.subscription;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.MethodDescriptor;
import io.meshguard.contract.subscription.v1.SubscriptionStateDiscoveryServiceGrpc;

/**
 * How subscription state travels from the xDS controller to extauthz replicas, as
 * {@code meshguard/catalog/v1/subscription_state.proto} declares it: xDS state-of-the-world over its own service, the
 * way Envoy's per-type discovery services are declared ({@code ClusterDiscoveryService/StreamClusters} in
 * {@code envoy/service/cluster/v3/cds.proto}): a bidirectional stream of {@code DiscoveryRequest} and
 * {@code DiscoveryResponse}, ACK and NACK by {@code version_info} and {@code response_nonce}, {@code error_detail} on a
 * NACK. The one resource is a {@code meshguard.catalog.v1.SubscriptionState} message
 * ({@code subscription_state.proto}; the catalogue's {@code SnapshotMessage} reads and writes it; docs/products.md
 * explains why xDS). The delta method ({@link #DELTA}) carries the same state as per-part resources: {@link
 * #SHARED_RESOURCE} and one per tenant ({@link #tenantResource}), each sent only when it changed.
 */
public final class SubscriptionStateWire {

    /** The resource type replicas subscribe to, and the type_url of the one resource's {@code Any}. */
    public static final String TYPE_URL = "type.googleapis.com/meshguard.catalog.v1.SubscriptionState";
    /** The one resource's name. */
    public static final String RESOURCE_NAME = "subscription-state";

    public static final String SERVICE = SubscriptionStateDiscoveryServiceGrpc.SERVICE_NAME;

    /** The generated method: Envoy's discovery messages, marshalled by protobuf. */
    public static final MethodDescriptor<DiscoveryRequest, DiscoveryResponse> STREAM =
            SubscriptionStateDiscoveryServiceGrpc.getStreamSubscriptionStateMethod();

    /** The delta method: Envoy's incremental discovery messages, per-part resources. */
    public static final MethodDescriptor<DeltaDiscoveryRequest, DeltaDiscoveryResponse> DELTA =
            SubscriptionStateDiscoveryServiceGrpc.getDeltaSubscriptionStateMethod();

    /** The delta stream's resource of publishes and plans. */
    public static final String SHARED_RESOURCE = "shared";

    /** The delta stream's resource names of tenants start with this; the tenant's id follows. */
    public static final String TENANT_PREFIX = "tenant/";

    private SubscriptionStateWire() {}

    /** The delta stream's resource name of {@code tenant}. */
    public static String tenantResource(String tenant) {
        return TENANT_PREFIX + tenant;
    }

    /**
     * The one resource a response carries.
     *
     * @throws IllegalArgumentException naming what is wrong (the caller NACKs with it)
     */
    public static Any resource(DiscoveryResponse response) {
        if (!response.getTypeUrl().equals(TYPE_URL)) {
            throw new IllegalArgumentException("type_url " + response.getTypeUrl() + ", expected " + TYPE_URL);
        }
        if (response.getResourcesCount() != 1) {
            throw new IllegalArgumentException("expected exactly one resource, got " + response.getResourcesCount());
        }
        return response.getResources(0);
    }
}
