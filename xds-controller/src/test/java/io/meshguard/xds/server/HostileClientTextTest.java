package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.StreamSink;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Hostile text from an xDS client (NACK details, node ids, resource names: newlines, ANSI escapes, bidi overrides,
 * megabytes) never reaches a log line or /fleet raw.
 */
@IntegrationTest
class HostileClientTextTest {
    private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    private static final String HOSTILE = "bad filter\n2026-11-22T00:00:00Z ERROR forged line\r\u001b[2J\u001b[31m"
            + "\u202eevil\u0085" + "x".repeat(100_000);

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private XdsCore core;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        logs.start();
        root.addAppender(logs);
        core = LoopbackCores.inMemory(meters);
        assertThat(core.publisher()
                        .publish(XdsController.sampleConfig(), "test", "hostile")
                        .published())
                .isTrue();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", core.adsPort())
                .usePlaintext()
                .maxInboundMessageSize(16 << 20)
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        root.detachAppender(logs);
        channel.shutdownNow();
        core.close();
    }

    private StreamObserver<DiscoveryRequest> open(LinkedBlockingQueue<Object> out) {
        return AggregatedDiscoveryServiceGrpc.newStub(channel)
                .streamAggregatedResources(StreamSink.into(out, out::add));
    }

    private void assertNoRawClientTextLogged() {
        for (ILoggingEvent e : List.copyOf(logs.list)) {
            String line = e.getFormattedMessage();
            assertThat(line)
                    .as("log line from %s", e.getLoggerName())
                    .doesNotContain("\n", "\r", "\u001b", "\u202e", "\u0085")
                    .hasSizeLessThan(8_000);
        }
    }

    @Test
    void hostileNack_isLoggedAndKeptEscapedAndCut() throws Exception {
        LinkedBlockingQueue<Object> out = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> s = open(out);
        s.onNext(DiscoveryRequest.newBuilder()
                .setNode(Node.newBuilder().setId("gw-1").setCluster("local").setUserAgentName("evil\nagent\u001b[0m"))
                .setTypeUrl(CDS)
                .build());
        DiscoveryResponse r = (DiscoveryResponse) out.poll(10, TimeUnit.SECONDS);
        s.onNext(DiscoveryRequest.newBuilder()
                .setTypeUrl(CDS)
                .setResponseNonce(r.getNonce())
                .setErrorDetail(Status.newBuilder().setCode(3).setMessage(HOSTILE))
                .build());
        NodeStatus node = await().atMost(Duration.ofSeconds(10))
                .until(() -> core.fleet().node("gw-1").filter(n -> n.lastNack().isPresent()), Optional::isPresent)
                .orElseThrow();
        String kept = node.lastNack().orElseThrow().error();
        assertThat(kept)
                .startsWith("bad filter\\u000a2026")
                .contains("\\u001b[2J")
                .contains("\\u202eevil")
                .doesNotContain("\n", "\u001b")
                .hasSizeLessThan(Fleet.MAX_ERROR_CHARS + 200)
                .contains("more chars)");
        assertThat(node.userAgent()).doesNotContain("\n", "\u001b");
        assertThat(logs.list)
                .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("xDS NACK"));
        assertNoRawClientTextLogged();
        s.onCompleted();
    }

    @Test
    void hostileResourceNames_neverReachTheCachesLog() throws Exception {
        LinkedBlockingQueue<Object> out = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> s = open(out);
        s.onNext(DiscoveryRequest.newBuilder()
                .setNode(Node.newBuilder().setId("gw-2").setCluster("local"))
                .setTypeUrl("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment")
                .addResourceNames("nope\nINFO forged\u001b[31m")
                .build());
        // the cache answers nothing for a name it lacks; its log line about it must be escaped
        await().atMost(Duration.ofSeconds(10)).until(() -> List.copyOf(logs.list).stream()
                .anyMatch(e -> e.getFormattedMessage().contains("nope")));
        assertNoRawClientTextLogged();
        s.onCompleted();
    }

    @Test
    void hostileNodeId_isRefused() throws Exception {
        LinkedBlockingQueue<Object> out = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> s = open(out);
        s.onNext(DiscoveryRequest.newBuilder()
                .setNode(Node.newBuilder().setId("gw\n2026 ERROR forged").setCluster("local"))
                .setTypeUrl(CDS)
                .build());
        Object first = out.poll(10, TimeUnit.SECONDS);
        assertThat(first).isInstanceOf(io.grpc.StatusRuntimeException.class);
        assertThat(((io.grpc.StatusRuntimeException) first).getStatus().getCode())
                .isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
        assertThat(meters.get("meshguard_xds_stream_refusals_total")
                        .tag("reason", "bad_node")
                        .counter()
                        .count())
                .isEqualTo(1.0);
        assertThat(core.fleet().nodes()).isEmpty();
        assertNoRawClientTextLogged();
    }
}
