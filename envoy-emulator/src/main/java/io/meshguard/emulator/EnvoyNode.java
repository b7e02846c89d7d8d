package io.meshguard.emulator;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Map;

/**
 * The node an emulated Envoy announces, as its bootstrap sets it: {@code node.id} (the pod name through
 * {@code --service-node} in Kubernetes, {@code local-envoy-1} in deploy/local), {@code node.cluster} (the gateway
 * group) and optional metadata. The user agent is Envoy's, as Envoy fills it in (source/common/local_info/).
 */
public record EnvoyNode(String id, String cluster, Map<String, String> metadata) {
    public EnvoyNode {
        metadata = Map.copyOf(metadata);
    }

    /** deploy/local/envoy-bootstrap.yaml: id local-envoy-1, cluster local, no metadata. */
    public static EnvoyNode localGateway() {
        return new EnvoyNode("local-envoy-1", "local", Map.of());
    }

    Node toProto() {
        Struct.Builder md = Struct.newBuilder();
        metadata.forEach(
                (k, v) -> md.putFields(k, Value.newBuilder().setStringValue(v).build()));
        return Node.newBuilder()
                .setId(id)
                .setCluster(cluster)
                .setMetadata(md)
                .setUserAgentName("envoy")
                .build();
    }
}
