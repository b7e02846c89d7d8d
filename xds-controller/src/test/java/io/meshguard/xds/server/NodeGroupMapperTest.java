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
        Node node = Node.newBuilder()
                .setId("n")
                .setCluster("istio-ingressgateway")
                .setMetadata(Struct.newBuilder()
                        .putFields(
                                "meshguard.group",
                                Value.newBuilder().setStringValue("edge-eu").build()))
                .build();
        assertThat(new NodeGroupMapper(Optional.empty()).hash(node)).isEqualTo("edge-eu");
    }

    @Test
    void nodeCluster_isTheGroupWithoutMetadata() {
        assertThat(new NodeGroupMapper(Optional.of("dflt"))
                        .hash(Node.newBuilder().setCluster("edge").build()))
                .isEqualTo("edge");
    }

    @Test
    void nodeWithoutGroup_getsTheDefaultOrNothing() {
        assertThat(new NodeGroupMapper(Optional.of("dflt")).hash(Node.getDefaultInstance()))
                .isEqualTo("dflt");
        assertThat(new NodeGroupMapper(Optional.empty()).hash(Node.getDefaultInstance()))
                .isEqualTo(NodeGroupMapper.UNASSIGNED);
    }

    @Test
    void envoyNode_getsItsGroupsEnvoySnapshot_proxylessClientsTheFullOne() {
        NodeGroupMapper mapper = new NodeGroupMapper(Optional.empty());
        Node envoy =
                Node.newBuilder().setCluster("edge").setUserAgentName("envoy").build();
        Node grpcJava = Node.newBuilder()
                .setCluster("edge")
                .setUserAgentName("gRPC Java")
                .build();
        assertThat(mapper.group(envoy)).isEqualTo("edge");
        assertThat(mapper.hash(envoy))
                .isEqualTo(NodeGroupMapper.envoyKey("edge"))
                .isNotEqualTo("edge");
        assertThat(mapper.hash(grpcJava)).isEqualTo("edge");
    }

    @Test
    void envoySnapshot_leavesOutTheProxylessApiListeners_underTheSameVersions() throws Exception {
        io.meshguard.xds.model.GatewayConfig config = io.meshguard.xds.model.GatewayYaml.read("g.yaml", """
                groups: [{name: edge, environment: test, hostnames: [api.bank.example]}]
                upstreams: [{name: b, endpoints: [{address: 10.0.0.9, port: 8080}]}]
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes: [{name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                          destinations: [{upstream: b, weight: 100}]}]
                """);
        var resources = new io.meshguard.xds.snapshot.SnapshotBuilder(io.meshguard.xds.snapshot.FilterTargets.DEFAULTS)
                .build(config, "edge");
        assertThat(resources.listeners()).anyMatch(l -> l.hasApiListener());
        NodeGroupMapper mapper = new NodeGroupMapper(Optional.empty());
        XdsSnapshots snapshots = new XdsSnapshots(new io.envoyproxy.controlplane.cache.v3.SimpleCache<>(mapper));
        snapshots.serve(1, resources);

        String lds = io.envoyproxy.controlplane.cache.Resources.V3.LISTENER_TYPE_URL;
        var forEnvoy = snapshots.cache().getSnapshot(NodeGroupMapper.envoyKey("edge"));
        var forProxyless = snapshots.cache().getSnapshot("edge");
        var listener = io.envoyproxy.controlplane.cache.Resources.ResourceType.LISTENER;
        assertThat(forEnvoy.resources(listener).values())
                .isNotEmpty()
                .noneMatch(l -> ((io.envoyproxy.envoy.config.listener.v3.Listener) l).hasApiListener());
        assertThat(forProxyless.resources(listener).values())
                .anyMatch(l -> ((io.envoyproxy.envoy.config.listener.v3.Listener) l).hasApiListener());
        // an Envoy's ACK names the group's revision like any node's
        assertThat(forEnvoy.version(lds)).isEqualTo(forProxyless.version(lds));
        assertThat(snapshots.revisionOf("edge", java.util.Map.of(lds, forEnvoy.version(lds))))
                .contains(1L);
    }

    @Test
    void grpcJsNode_getsTheWithoutExtAuthzSnapshot_grpcJavaAndEnvoyDoNot() {
        NodeGroupMapper mapper = new NodeGroupMapper(Optional.empty());
        // the user agent grpc-js sets itself (grpc/grpc-node packages/grpc-js-xds/src/xds-client.ts adsNode)
        Node grpcJs = Node.newBuilder()
                .setCluster("edge")
                .setUserAgentName("gRPC Node Pure JS")
                .setUserAgentVersion("1.14.1")
                .build();
        assertThat(mapper.group(grpcJs)).isEqualTo("edge");
        assertThat(mapper.hash(grpcJs))
                .isEqualTo(NodeGroupMapper.withoutExtAuthzKey("edge"))
                .isNotEqualTo("edge")
                .isNotEqualTo(NodeGroupMapper.envoyKey("edge"));
        assertThat(mapper.hash(Node.newBuilder()
                        .setCluster("edge")
                        .setUserAgentName("gRPC Java")
                        .build()))
                .isEqualTo("edge");
    }

    @Test
    void withoutExtAuthzSnapshot_failsRequiredListenersFast_underTheSameVersions() throws Exception {
        io.meshguard.xds.model.GatewayConfig config = io.meshguard.xds.model.GatewayYaml.read("g.yaml", """
                groups: [{name: edge, environment: test, hostnames: [api.bank.example], proxyless_authz: required}]
                upstreams: [{name: b, endpoints: [{address: 10.0.0.9, port: 8080}]}]
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes: [{name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                          destinations: [{upstream: b, weight: 100}]}]
                """);
        var resources = new io.meshguard.xds.snapshot.SnapshotBuilder(io.meshguard.xds.snapshot.FilterTargets.DEFAULTS)
                .build(config, "edge");
        NodeGroupMapper mapper = new NodeGroupMapper(Optional.empty());
        XdsSnapshots snapshots = new XdsSnapshots(new io.envoyproxy.controlplane.cache.v3.SimpleCache<>(mapper));
        snapshots.serve(1, resources);

        var failFast = snapshots.cache().getSnapshot(NodeGroupMapper.withoutExtAuthzKey("edge"));
        var full = snapshots.cache().getSnapshot("edge");
        var listener = io.envoyproxy.controlplane.cache.Resources.ResourceType.LISTENER;
        var route = io.envoyproxy.controlplane.cache.Resources.ResourceType.ROUTE;
        assertThat(failFast.resources(listener))
                .containsOnlyKeys(full.resources(listener).keySet());
        assertThat(failFast.resources(route)).containsKey(io.meshguard.xds.snapshot.FailFastListeners.ROUTES);
        String lds = io.envoyproxy.controlplane.cache.Resources.V3.LISTENER_TYPE_URL;
        assertThat(failFast.version(lds)).isEqualTo(full.version(lds));
        assertThat(snapshots.revisionOf("edge", java.util.Map.of(lds, failFast.version(lds))))
                .contains(1L);
    }
}
