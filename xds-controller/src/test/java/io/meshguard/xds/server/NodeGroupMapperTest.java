package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NodeGroupMapperTest {
    @Test
    void metadataGroup_winsOverNodeCluster() {
        Node node = Node.newBuilder().setId("n").setCluster("istio-ingressgateway")
                .setMetadata(Struct.newBuilder().putFields("meshguard.group",
                        Value.newBuilder().setStringValue("edge-eu").build()))
                .build();
        assertThat(new NodeGroupMapper(Optional.empty()).hash(node)).isEqualTo("edge-eu");
    }

    @Test
    void nodeCluster_isTheGroupWithoutMetadata() {
        assertThat(new NodeGroupMapper(Optional.of("dflt")).hash(Node.newBuilder().setCluster("edge").build()))
                .isEqualTo("edge");
    }

    @Test
    void nodeWithoutGroup_getsTheDefaultOrNothing() {
        assertThat(new NodeGroupMapper(Optional.of("dflt")).hash(Node.getDefaultInstance())).isEqualTo("dflt");
        assertThat(new NodeGroupMapper(Optional.empty()).hash(Node.getDefaultInstance()))
                .isEqualTo(NodeGroupMapper.UNASSIGNED);
    }
}
