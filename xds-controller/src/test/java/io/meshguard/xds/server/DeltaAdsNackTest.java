package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.soak.SoakNodes;
import io.meshguard.xds.soak.SoakNodes.DeltaAdsNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A delta-ADS node refusing its route table (java-control-plane serves delta ADS from the same snapshots) is not sent
 * the same table again at once: java-control-plane keeps the refused name pending and the last ACKed version, so
 * SimpleCache answered every NACK with the same resources, thousands of times a second. The refused table is held
 * until the configuration changes, and the change is sent.
 */
@IntegrationTest
class DeltaAdsNackTest {
    @Test
    void refusingDeltaNode_isNotSentTheRefusedTableAgain_untilItChanges() throws Exception {
        String sample;
        try (InputStream in = XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            sample = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (XdsCore core = LoopbackCores.inMemory(meters)) {
            assertThat(core.publisher()
                            .publish(GatewayYaml.read("a.yaml", sample), "test", "first")
                            .published())
                    .isTrue();
            ManagedChannel channel = LoopbackGrpc.channelTo(core.adsPort());
            DeltaAdsNode refusing = new DeltaAdsNode(channel, "delta-refusing", SoakNodes.Refuses.ROUTE_TABLES);
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> refusing.refusedResponses() >= 1);
                Thread.sleep(2_000);
                assertThat(refusing.refusedResponses())
                        .as("route tables sent in 2 s to a node refusing each")
                        .isEqualTo(1);
                assertThat(meters.get("meshguard_xds_nacks_total")
                                .tag("type", "RouteConfiguration")
                                .counter()
                                .count())
                        .isEqualTo(1);

                String changed = sample.replace(
                        "weight: 90}, {upstream: payments-v2-canary, weight: 10}",
                        "weight: 70}, {upstream: payments-v2-canary, weight: 30}");
                assertThat(changed).isNotEqualTo(sample);
                assertThat(core.publisher()
                                .publish(GatewayYaml.read("a.yaml", changed), "test", "weights")
                                .published())
                        .isTrue();
                await().atMost(Duration.ofSeconds(10)).until(() -> refusing.refusedResponses() >= 2);
                Thread.sleep(1_000);
                assertThat(refusing.refusedResponses())
                        .as("the changed table, once")
                        .isEqualTo(2);
            } finally {
                refusing.close();
                channel.shutdownNow();
            }
        }
    }
}
