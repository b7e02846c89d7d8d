package io.meshguard.contract.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.MethodDescriptor;
import org.junit.jupiter.api.Test;

/** The subscription-state stream as generated from its .proto: the names on the wire and the one-resource rule. */
class SubscriptionStateWireTest {

    @Test
    void generatedMethod_keepsTheWireNames() {
        assertThat(SubscriptionStateWire.STREAM.getFullMethodName())
                .isEqualTo("meshguard.catalog.v1.SubscriptionStateDiscoveryService/StreamSubscriptionState");
        assertThat(SubscriptionStateWire.STREAM.getType()).isEqualTo(MethodDescriptor.MethodType.BIDI_STREAMING);
        assertThat(SubscriptionStateWire.DELTA.getFullMethodName())
                .isEqualTo("meshguard.catalog.v1.SubscriptionStateDiscoveryService/DeltaSubscriptionState");
        assertThat(SubscriptionStateWire.DELTA.getType()).isEqualTo(MethodDescriptor.MethodType.BIDI_STREAMING);
        assertThat(SubscriptionStateWire.tenantResource("acme")).isEqualTo("tenant/acme");
    }

    @Test
    void responseOfAnotherType_orWithoutExactlyOneResource_isRefusedWithTheReason() {
        Any one = Any.pack(Struct.getDefaultInstance());

        assertThatThrownBy(() -> SubscriptionStateWire.resource(DiscoveryResponse.newBuilder()
                        .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster")
                        .addResources(one)
                        .build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected " + SubscriptionStateWire.TYPE_URL);
        assertThatThrownBy(() -> SubscriptionStateWire.resource(DiscoveryResponse.newBuilder()
                        .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                        .addResources(one)
                        .addResources(one)
                        .build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected exactly one resource, got 2");
        assertThat(SubscriptionStateWire.resource(DiscoveryResponse.newBuilder()
                        .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                        .addResources(one)
                        .build()))
                .isEqualTo(one);
    }
}
