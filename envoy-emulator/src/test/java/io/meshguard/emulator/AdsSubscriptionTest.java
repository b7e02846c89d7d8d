package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The emulated node against a scripted ADS server: what it asks for, what it ACKs, what it NACKs. */
@Tag("integration")
class AdsSubscriptionTest {
    private final BlockingQueue<DiscoveryRequest> requests = new LinkedBlockingQueue<>();
    private Server server;

    private static final Cluster EDS_CLUSTER = Cluster.newBuilder()
            .setName("up")
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
                    .setEdsConfig(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())))
            .build();

    private int serve(String endpointAddress) throws Exception {
        return serve(EDS_CLUSTER, endpointAddress);
    }

    /** Answers CDS with {@code cluster} and EDS with the given address; records every request. */
    private int serve(Cluster cluster, String endpointAddress) throws Exception {
        return serve(cluster, endpointAddress, 0, false);
    }

    /** As above on {@code port}; with {@code closeAfterFirstAck}, each stream is closed once its first ACK arrives. */
    private int serve(Cluster cluster, String endpointAddress, int port, boolean closeAfterFirstAck) throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .addService(new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
                    @Override
                    public StreamObserver<DiscoveryRequest> streamAggregatedResources(
                            StreamObserver<DiscoveryResponse> responses) {
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(DiscoveryRequest r) {
                                requests.add(r);
                                if (!r.getResponseNonce().isEmpty()) {
                                    if (closeAfterFirstAck) {
                                        responses.onCompleted();
                                    }
                                    return; // an ACK or NACK
                                }
                                if (r.getTypeUrl().equals(XdsResources.CDS)) {
                                    responses.onNext(DiscoveryResponse.newBuilder()
                                            .setTypeUrl(XdsResources.CDS)
                                            .setVersionInfo("c1")
                                            .setNonce("n1")
                                            .addResources(Any.pack(cluster))
                                            .build());
                                } else if (r.getTypeUrl().equals(XdsResources.EDS)) {
                                    responses.onNext(DiscoveryResponse.newBuilder()
                                            .setTypeUrl(XdsResources.EDS)
                                            .setVersionInfo("e1")
                                            .setNonce("n2")
                                            .addResources(Any.pack(ClusterLoadAssignment.newBuilder()
                                                    .setClusterName("up")
                                                    .addEndpoints(LocalityLbEndpoints.newBuilder()
                                                            .addLbEndpoints(LbEndpoint.newBuilder()
                                                                    .setEndpoint(Endpoint.newBuilder()
                                                                            .setAddress(Address.newBuilder()
                                                                                    .setSocketAddress(
                                                                                            SocketAddress.newBuilder()
                                                                                                    .setAddress(
                                                                                                            endpointAddress)
                                                                                                    .setPortValue(
                                                                                                            80))))))
                                                    .build()))
                                            .build());
                                }
                            }

                            @Override
                            public void onError(Throwable t) {}

                            @Override
                            public void onCompleted() {
                                responses.onCompleted();
                            }
                        };
                    }
                })
                .build()
                .start();
        return server.getPort();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.shutdownNow();
        }
    }

    private DiscoveryRequest next() throws InterruptedException {
        DiscoveryRequest r = requests.poll(10, TimeUnit.SECONDS);
        assertThat(r).as("a request from the emulated node").isNotNull();
        return r;
    }

    @Test
    void subscribesLikeEnvoy_nodeOnTheFirstRequestOnly_thenAcksWithVersionAndNonce() throws Exception {
        int port = serve("10.1.2.3");
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway())) {
            DiscoveryRequest cds = next();
            assertThat(cds.getTypeUrl()).isEqualTo(XdsResources.CDS);
            assertThat(cds.getNode().getId()).isEqualTo("local-envoy-1");
            assertThat(cds.getNode().getCluster()).isEqualTo("local");
            assertThat(cds.getResourceNamesList()).as("wildcard").isEmpty();

            DiscoveryRequest cdsAck = next();
            assertThat(cdsAck.hasNode()).isFalse();
            assertThat(cdsAck.getVersionInfo()).isEqualTo("c1");
            assertThat(cdsAck.getResponseNonce()).isEqualTo("n1");
            assertThat(cdsAck.hasErrorDetail()).isFalse();

            DiscoveryRequest eds = next();
            assertThat(eds.getTypeUrl()).isEqualTo(XdsResources.EDS);
            assertThat(eds.getResourceNamesList()).containsExactly("up");
            assertThat(next().getTypeUrl()).as("LDS once clusters are in").isEqualTo(XdsResources.LDS);
            DiscoveryRequest edsAck = next();
            assertThat(edsAck.getVersionInfo()).isEqualTo("e1");
            assertThat(ads.nacks()).isEmpty();
            assertThat(ads.resources().endpoints()).containsKey("up");
        }
    }

    @Test
    void edsWithAHostname_isNackedWithTheLastAcceptedVersion_andNothingOfItIsUsed() throws Exception {
        int port = serve("demo-upstream");
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway())) {
            DiscoveryRequest nack = null;
            for (int i = 0; i < 6 && nack == null; i++) {
                DiscoveryRequest r = next();
                if (r.hasErrorDetail()) {
                    nack = r;
                }
            }
            assertThat(nack).as("a NACK").isNotNull();
            assertThat(nack.getTypeUrl()).isEqualTo(XdsResources.EDS);
            assertThat(nack.getVersionInfo())
                    .as("the last accepted EDS version: none")
                    .isEmpty();
            assertThat(nack.getResponseNonce()).isEqualTo("n2");
            assertThat(nack.getErrorDetail().getCode()).isEqualTo(io.grpc.Status.Code.INTERNAL.value());
            assertThat(nack.getErrorDetail().getMessage()).contains("malformed IP address: demo-upstream");
            assertThat(ads.resources().endpoints()).isEmpty();
            assertThat(ads.problems()).singleElement().asString().startsWith("NACK:");
            assertThatThrownBy(() -> ads.await(r -> false, Duration.ofSeconds(1)))
                    .hasMessageContaining("NACKed");
        }
    }

    @Test
    void aGatewayWithNackedConfig_refusesToServe() throws Exception {
        int port = serve("demo-upstream");
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway());
                Gateway gateway = new Gateway(ads, EnvoyNode.localGateway(), 8080, 1, 1)) {
            while (ads.nacks().isEmpty()) {
                next();
            }
            assertThatThrownBy(() -> gateway.send(DownstreamRequest.get("a.test", "/")))
                    .hasMessageContaining("cannot serve")
                    .hasMessageContaining("malformed IP address");
        }
    }

    @Test
    void aClusterEnvoysRulesRefuse_isNackedInEnvoysWords_andNotUsed() throws Exception {
        // forced past the controller: R4-05's outlier detection ejecting up to 150 % of the hosts
        Cluster bad = EDS_CLUSTER.toBuilder()
                .setOutlierDetection(io.envoyproxy.envoy.config.cluster.v3.OutlierDetection.newBuilder()
                        .setMaxEjectionPercent(com.google.protobuf.UInt32Value.of(150)))
                .build();
        int port = serve(bad, "10.1.2.3");
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway())) {
            next();
            DiscoveryRequest nack = next();
            assertThat(nack.getTypeUrl()).isEqualTo(XdsResources.CDS);
            assertThat(nack.getResponseNonce()).isEqualTo("n1");
            assertThat(nack.getVersionInfo()).as("nothing accepted yet").isEmpty();
            assertThat(nack.getErrorDetail().getMessage())
                    .isEqualTo("Error adding/updating cluster(s) up: Proto "
                            + "constraint validation failed (OutlierDetectionValidationError.MaxEjectionPercent: value must be "
                            + "less than or equal to 100) (at outlier_detection.max_ejection_percent)");
            assertThat(ads.resources().clusters()).isEmpty();
        }
    }

    @Test
    void aControllerNotListeningYet_isFollowedOnceItStarts_asEnvoyRetriesItsAdsStream() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway())) {
            Thread.sleep(300); // the first stream fails: nothing listens
            serve(EDS_CLUSTER, "10.1.2.3", port, false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ads.resources().endpoints().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(ads.resources().clusters()).containsKey("up");
            assertThat(ads.resources().endpoints()).containsKey("up");
            assertThat(next().getNode().getId())
                    .as("the node on the new stream's first request")
                    .isEqualTo("local-envoy-1");
        }
    }

    @Test
    void aStreamTheControllerCloses_isOpenedAgain_withTheNodeAndTheVersionsAccepted() throws Exception {
        int port = serve(EDS_CLUSTER, "10.1.2.3", 0, true);
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway())) {
            assertThat(next().hasNode()).isTrue();
            assertThat(next().getVersionInfo())
                    .as("the ACK of the first stream")
                    .isEqualTo("c1");
            DiscoveryRequest again = next();
            while (again.getResponseNonce().isEmpty() && !again.hasNode()) {
                again = next(); // requests the first stream sent before it closed
            }
            while (!again.hasNode()) {
                again = next();
            }
            assertThat(again.getTypeUrl()).isEqualTo(XdsResources.CDS);
            assertThat(again.getVersionInfo()).as("the version the node holds").isEqualTo("c1");
            assertThat(again.getResponseNonce()).as("no nonce on a new stream").isEmpty();
        }
    }
}
