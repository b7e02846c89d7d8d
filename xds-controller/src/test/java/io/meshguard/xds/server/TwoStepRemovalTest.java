package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.stub.StreamObserver;
import io.meshguard.emulator.AdsSubscription;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.emulator.XdsResources;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.StreamSink;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review 4, R4-14: a revision that renames an upstream keeps serving the old cluster until the group's nodes have the
 * routes that stop naming it. An emulated Envoy gateway records the state after every response it accepts; in none
 * of them may a route name a cluster the node does not have (Envoy's router answers such a request 503 NC).
 */
@IntegrationTest
class TwoStepRemovalTest {
    private XdsCore core;

    @BeforeEach
    void start() throws Exception {
        core = core(Optional.empty());
    }

    private static XdsCore core(Optional<String> vhdsCluster) throws Exception {
        return LoopbackCores.inMemory(RolloutSpans.disabled(), vhdsCluster.map(XdsCore.Vhds::through));
    }

    @AfterEach
    void stop() throws Exception {
        core.close();
    }

    @Test
    void renamedUpstream_oldClusterServedUntilTheNodeHasTheNewRoutes_noStateRoutesToAMissingCluster() throws Exception {
        renameUpstream_noStateRoutesToAMissingCluster();
    }

    /**
     * The same with virtual hosts over VHDS: the ADS and VHDS streams are not ordered against each other,
     * so the new virtual host waits for the node's ACK of the new cluster, and the old cluster for the VHDS ACK.
     */
    @Test
    void renamedUpstream_overVhds_noStateRoutesToAMissingCluster() throws Exception {
        core.close();
        core = core(Optional.of("meshguard-xds"));
        renameUpstream_noStateRoutesToAMissingCluster();
    }

    private void renameUpstream_noStateRoutesToAMissingCluster() throws Exception {
        String sample = sample();
        publish(GatewayYaml.read("sample.yaml", sample));
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", core.adsPort(), EnvoyNode.localGateway())) {
            ads.awaitComplete(Duration.ofSeconds(30));
            assertThat(ads.resources().clusters()).containsKey("payments-v1");

            String renamed = sample.replace("  - name: payments-v1\n", "  - name: payments-v1-blue\n")
                    .replace("{upstream: payments-v1, weight: 100}", "{upstream: payments-v1-blue, weight: 100}");
            assertThat(renamed).isNotEqualTo(sample);
            publish(GatewayYaml.read("renamed.yaml", renamed));

            // the rename lands, then the old cluster goes once the node ACKed the routes without it
            ads.await(
                    r -> r.clusters().containsKey("payments-v1-blue")
                            && !r.clusters().containsKey("payments-v1")
                            && routedClusters(r).contains("payments-v1-blue"),
                    Duration.ofSeconds(30));
            assertThat(ads.nacks()).isEmpty();
            // the sample's clusters use fields the emulator does not model; its route tables and virtual hosts none
            assertThat(ads.problems())
                    .as("route fields the emulated Envoy does not model")
                    .filteredOn(p -> p.contains("RouteConfiguration") || p.contains("VirtualHost"))
                    .isEmpty();
            List<String> missing = new ArrayList<>();
            for (XdsResources state : ads.acceptedStates()) {
                for (String cluster : routedClusters(state)) {
                    if (!state.clusters().containsKey(cluster)) {
                        missing.add(cluster + " at versions " + state.versions());
                    }
                }
            }
            assertThat(missing)
                    .as("routes naming a cluster the node lacked (503 NC)")
                    .isEmpty();
            assertThat(ads.acceptedStates())
                    .as("a state served both clusters")
                    .anyMatch(s -> s.clusters().containsKey("payments-v1")
                            && s.clusters().containsKey("payments-v1-blue"));
        }
    }

    /**
     * A client that subscribes to clusters by name, as gRPC's xDS client does: after routes that drop its cluster it
     * asks for the new one while still naming the old until the new one is ready. The cache answers nothing in ADS
     * mode while a named cluster is missing, so dropping the old one first would leave the client waiting for ever.
     */
    @Test
    void removedCluster_servedWhileAClientStillNamesIt_thenDroppedOnceItStops() throws Exception {
        String sample = sample();
        publish(GatewayYaml.read("sample.yaml", sample));
        io.grpc.ManagedChannel channel = LoopbackGrpc.channelTo(core.adsPort());
        try {
            java.util.concurrent.LinkedBlockingQueue<DiscoveryResponse> responses =
                    new java.util.concurrent.LinkedBlockingQueue<>();
            StreamObserver<DiscoveryRequest> ads = AggregatedDiscoveryServiceGrpc.newStub(channel)
                    .streamAggregatedResources(StreamSink.into(responses));
            Node node = Node.newBuilder()
                    .setId("named-clusters-1")
                    .setCluster("local")
                    .setUserAgentName("grpc-java")
                    .build();
            ads.onNext(clusters(node, "", "", "payments-v1"));
            DiscoveryResponse first = responses.poll(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(first).as("the first cluster answer").isNotNull();
            ads.onNext(clusters(node, first.getVersionInfo(), first.getNonce(), "payments-v1"));

            publish(GatewayYaml.read(
                    "renamed.yaml",
                    sample.replace("  - name: payments-v1\n", "  - name: payments-v1-blue\n")
                            .replace(
                                    "{upstream: payments-v1, weight: 100}",
                                    "{upstream: payments-v1-blue, weight: 100}")));
            // the new routes name the new cluster: the client asks for it, still naming the old one
            DiscoveryResponse renamed = next(responses, first.getNonce());
            ads.onNext(clusters(node, renamed.getVersionInfo(), renamed.getNonce(), "payments-v1", "payments-v1-blue"));
            assertThat(clusterNames(core.snapshots().served("local").orElseThrow()))
                    .as("the old cluster, still named")
                    .contains("payments-v1", "payments-v1-blue");

            // the new cluster is ready: the client drops the old one, which then goes
            ads.onNext(clusters(node, renamed.getVersionInfo(), renamed.getNonce(), "payments-v1-blue"));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !clusterNames(
                            core.snapshots().served("local").orElseThrow())
                    .contains("payments-v1"));
            ads.onCompleted();
        } finally {
            channel.shutdownNow();
        }
    }

    private static DiscoveryRequest clusters(Node node, String version, String nonce, String... names) {
        return DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(io.envoyproxy.controlplane.cache.Resources.V3.CLUSTER_TYPE_URL)
                .setVersionInfo(version)
                .setResponseNonce(nonce)
                .addAllResourceNames(List.of(names))
                .build();
    }

    /** The next cluster answer after the one with {@code nonce}, naming the new cluster. */
    private static DiscoveryResponse next(java.util.concurrent.BlockingQueue<DiscoveryResponse> responses, String nonce)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            DiscoveryResponse r = responses.poll(1, java.util.concurrent.TimeUnit.SECONDS);
            if (r != null && !r.getNonce().equals(nonce)) {
                return r;
            }
        }
        throw new AssertionError("no cluster answer after the publish");
    }

    private static Set<String> clusterNames(XdsSnapshots.Served served) {
        Set<String> out = new TreeSet<>();
        served.resources().clusters().forEach(c -> out.add(c.getName()));
        return out;
    }

    private void publish(GatewayConfig config) {
        Publisher.Result r = core.publisher().publish(config, "test", "two-step removal");
        assertThat(r.published()).as(r.problems().toString()).isTrue();
    }

    /** Every cluster the Envoy node's route tables (those its listeners name) route to. */
    private static Set<String> routedClusters(XdsResources r) {
        Set<String> out = new TreeSet<>();
        for (RouteConfiguration rc : r.routes().values()) {
            for (VirtualHost vh : rc.getVirtualHostsList()) {
                for (Route route : vh.getRoutesList()) {
                    if (route.hasRoute()) {
                        if (route.getRoute().hasWeightedClusters()) {
                            route.getRoute()
                                    .getWeightedClusters()
                                    .getClustersList()
                                    .forEach(c -> out.add(c.getName()));
                        } else {
                            out.add(route.getRoute().getCluster());
                        }
                    }
                }
            }
        }
        return out;
    }

    private static String sample() throws Exception {
        try (InputStream in = XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
