package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.StreamSink;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ACK and NACK per nonce (review IC-04): a gRFC A46 client (grpc-js) keeps the valid part of a response it NACKs and
 * repeats that version, with the NACKed nonce, on later requests. Those requests are not ACKs.
 */
@IntegrationTest
class NackTrackingTest {
    private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private XdsCore core;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        core = LoopbackCores.inMemory(meters);
        channel = LoopbackGrpc.channelTo(core.adsPort());
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        core.close();
    }

    private double count(String name, String type) {
        return meters.get(name).tag("type", type).counter().count();
    }

    @Test
    void xdsCounters_existAtZeroForEveryType_fromStart() {
        for (String type : AdsStreams.SERVED_TYPES) {
            assertThat(count("meshguard_xds_nacks_total", type)).as(type).isZero();
            assertThat(count("meshguard_xds_acks_total", type)).as(type).isZero();
        }
        for (String result : Publisher.OUTCOMES) {
            assertThat(meters.get("meshguard_xds_publish_total")
                            .tag("result", result)
                            .counter()
                            .count())
                    .as(result)
                    .isZero();
        }
    }

    @Test
    void nackThenSubscriptionChange_repeatingTheRejectedVersion_staysANack() throws Exception {
        assertThat(core.publisher()
                        .publish(XdsController.sampleConfig(), "test", "nack test")
                        .published())
                .isTrue();
        LinkedBlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> requests =
                AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(StreamSink.into(responses));
        Node node = Node.newBuilder().setId("grpc-js-1").setCluster("local").build();
        requests.onNext(
                DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build());
        DiscoveryResponse r = responses.poll(10, TimeUnit.SECONDS);
        assertThat(r).isNotNull();
        // A46: the NACK names the version the client partly applied
        requests.onNext(DiscoveryRequest.newBuilder()
                .setTypeUrl(CDS)
                .setResponseNonce(r.getNonce())
                .setVersionInfo(r.getVersionInfo())
                .setErrorDetail(Status.newBuilder()
                        .setCode(3)
                        .setMessage("load_balancing_policy unset and unsupported lb_policy: RANDOM"))
                .build());
        await().atMost(Duration.ofSeconds(5)).until(() -> core.fleet()
                .node("grpc-js-1")
                .flatMap(NodeStatus::lastNack)
                .isPresent());
        // then a subscription change: same nonce, same (rejected) version, no error
        requests.onNext(DiscoveryRequest.newBuilder()
                .setTypeUrl(CDS)
                .setResponseNonce(r.getNonce())
                .setVersionInfo(r.getVersionInfo())
                .addResourceNames("payments-v2")
                .build());
        requests.onNext(DiscoveryRequest.newBuilder()
                .setTypeUrl(CDS)
                .setResponseNonce(r.getNonce())
                .setVersionInfo(r.getVersionInfo())
                .build());
        // a stream's requests are handled in order: once a later request is answered, the ones above were seen
        requests.onNext(DiscoveryRequest.newBuilder()
                .setTypeUrl("type.googleapis.com/envoy.config.listener.v3.Listener")
                .build());
        DiscoveryResponse later;
        do {
            later = responses.poll(10, TimeUnit.SECONDS);
            assertThat(later).as("the listener response").isNotNull();
        } while (!later.getTypeUrl().endsWith("Listener"));
        NodeStatus node1 = core.fleet().node("grpc-js-1").orElseThrow();
        assertThat(node1.lastNack())
                .hasValueSatisfying(n -> assertThat(n.version()).isEqualTo(r.getVersionInfo()));
        assertThat(node1.ackedVersions()).doesNotContainKey(CDS);
        assertThat(node1.revision()).isEmpty();
        assertThat(count("meshguard_xds_acks_total", "Cluster")).isZero();
        assertThat(count("meshguard_xds_nacks_total", "Cluster")).isEqualTo(1.0);
        requests.onCompleted();
    }
}
