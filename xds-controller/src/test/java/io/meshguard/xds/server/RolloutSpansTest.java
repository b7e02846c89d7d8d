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
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.OtlpTraceReceiver;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.opentelemetry.proto.trace.v1.Span;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The publish→ACK span as a real OTLP collector receives it, with nodes that ACK, NACK or stay silent over ADS. */
@IntegrationTest
class RolloutSpansTest {
    private static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
    private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    private static final String GROUP = "local";

    OtlpTraceReceiver collector;
    Tracing tracing;
    XdsCore core;
    ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        collector = OtlpTraceReceiver.start();
        tracing = collector.tracing("meshguard-xds");
        core = LoopbackCores.inMemory(
                new RolloutSpans(tracing, Duration.ofSeconds(5), Clock.systemUTC()), Optional.empty());
        channel = LoopbackGrpc.channelTo(core.adsPort());
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        core.close();
        tracing.close();
        collector.close();
    }

    /** Subscribes to listeners and clusters as Envoy does; answers each response with an ACK, a NACK, or nothing. */
    private enum Answer {
        ACK,
        NACK,
        NONE
    }

    private void connect(String nodeId, Answer answer) {
        Node node = Node.newBuilder().setId(nodeId).setCluster(GROUP).build();
        StreamObserver<DiscoveryRequest>[] requests = new StreamObserver[1];
        requests[0] = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryResponse r) {
                DiscoveryRequest.Builder reply = DiscoveryRequest.newBuilder()
                        .setNode(node)
                        .setTypeUrl(r.getTypeUrl())
                        .setResponseNonce(r.getNonce());
                switch (answer) {
                    case ACK -> send(reply.setVersionInfo(r.getVersionInfo()));
                    case NACK ->
                        send(reply.setErrorDetail(
                                Status.newBuilder().setCode(3).setMessage("listener rejected: bad filter config")));
                    case NONE -> {}
                }
            }

            private void send(DiscoveryRequest.Builder b) {
                synchronized (requests) {
                    requests[0].onNext(b.build());
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
        synchronized (requests) {
            for (String type : List.of(CDS, LDS)) {
                requests[0].onNext(DiscoveryRequest.newBuilder()
                        .setNode(node)
                        .setTypeUrl(type)
                        .build());
            }
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        core.fleet().node(nodeId).map(NodeStatus::connected).orElse(false));
    }

    private Span publishSpan() {
        return await().atMost(Duration.ofSeconds(20))
                .until(() -> collector.spans("meshguard.xds.publish").stream().findFirst(), Optional::isPresent)
                .orElseThrow();
    }

    private long publishSample() {
        Publisher.Result result = core.publisher().publish(XdsController.sampleConfig(), "test", "tracing test");
        assertThat(result.published()).as("%s", result.problems()).isTrue();
        return result.revisions().get(GROUP).id();
    }

    @Test
    void publish_endsWhenEveryConnectedNodeAcked_withTheRevisionAndCounts() {
        connect("gw-1", Answer.ACK);
        connect("gw-2", Answer.ACK);
        long revision = publishSample();
        Span span = await().atMost(Duration.ofSeconds(20))
                .until(
                        () -> collector.spans("meshguard.xds.publish").stream()
                                .filter(s -> OtlpTraceReceiver.attribute(s, "meshguard.xds.group")
                                        .orElse("")
                                        .equals(GROUP))
                                .findFirst(),
                        Optional::isPresent)
                .orElseThrow();
        assertThat(span.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_INTERNAL);
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.xds.revision")).contains(Long.toString(revision));
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.xds.outcome")).contains("acked");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.xds.nodes")).contains("2");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.xds.acked")).contains("2");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.xds.pending")).contains("0");
        assertThat(span.getStatus().getCode())
                .isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_UNSET);
    }

    @Test
    void publish_aNodeNacks_endsAsNacked_withAnEventNamingNodeAndType_butNotEnvoysErrorText() {
        connect("gw-nack", Answer.NACK);
        publishSample();
        Span span = await().atMost(Duration.ofSeconds(20))
                .until(
                        () -> collector.spans("meshguard.xds.publish").stream()
                                .filter(s -> OtlpTraceReceiver.attribute(s, "meshguard.xds.group")
                                        .orElse("")
                                        .equals(GROUP))
                                .findFirst(),
                        Optional::isPresent)
                .orElseThrow();
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.xds.outcome")).contains("nacked");
        assertThat(span.getStatus().getCode())
                .isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
        assertThat(span.getEventsList()).extracting(Span.Event::getName).contains("meshguard.xds.nack");
        assertThat(collector.allText()).contains("gw-nack").doesNotContain("bad filter config");
    }

    @Test
    void publish_aSilentNode_endsAsTimeout_withItPending() {
        connect("gw-silent", Answer.NONE);
        publishSample();
        Span span = await().atMost(Duration.ofSeconds(20))
                .until(
                        () -> collector.spans("meshguard.xds.publish").stream()
                                .filter(s -> OtlpTraceReceiver.attribute(s, "meshguard.xds.group")
                                        .orElse("")
                                        .equals(GROUP))
                                .findFirst(),
                        Optional::isPresent)
                .orElseThrow();
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.xds.outcome")).contains("timeout");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.xds.pending")).contains("1");
    }

    @Test
    void publish_withNoNodeConnected_endsAtOnce_asNoNodes() {
        publishSample();
        Span span = publishSpan();
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.xds.outcome")).contains("no_nodes");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.xds.nodes")).contains("0");
    }
}
