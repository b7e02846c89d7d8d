package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.meshguard.emulator.AdsSubscription;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.emulator.Headers;
import io.meshguard.emulator.XdsResources;
import io.meshguard.envoy.validation.EnvoyValidator;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.ConfigValidator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's readiness answer lives in the route table the controller serves, so an emulated Envoy
 * answers it only once a route table was accepted. The ADS server here serves the controller's own resources for the
 * sample group and holds back (or spoils) the route table, as a first RDS response that never comes or is NACKed.
 */
@IntegrationTest
class GatewayReadinessRouteTest {
    private Server server;
    /** The route table the server answers RDS with; none: RDS is never answered. */
    private final AtomicReference<List<RouteConfiguration>> routes = new AtomicReference<>(List.of());

    @AfterEach
    void stop() {
        if (server != null) {
            server.shutdownNow();
        }
    }

    private static final String GROUP = UnservedHostTest.CONFIG;

    private static GroupResources sample() {
        GatewayConfig config = GatewayYaml.read("edge.yaml", GROUP);
        assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
        return new SnapshotBuilder(FilterTargets.DEFAULTS).build(config, "edge");
    }

    /** An ADS server answering every wildcard or named request with {@code resources}' resources of that type. */
    private int serve(GroupResources resources) throws Exception {
        server = LoopbackGrpc.serve(new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
            @Override
            public StreamObserver<DiscoveryRequest> streamAggregatedResources(
                    StreamObserver<DiscoveryResponse> responses) {
                return new StreamObserver<>() {
                    @Override
                    public void onNext(DiscoveryRequest r) {
                        if (!r.getResponseNonce().isEmpty()) {
                            return; // an ACK or NACK: the server has nothing newer
                        }
                        List<? extends Message> of =
                                switch (r.getTypeUrl()) {
                                    case XdsResources.CDS -> resources.clusters();
                                    case XdsResources.EDS -> resources.endpoints();
                                    case XdsResources.LDS ->
                                        resources.listeners().stream()
                                                .filter(l -> !l.hasApiListener())
                                                .toList();
                                    case XdsResources.RDS -> routes.get();
                                    default -> List.of();
                                };
                        if (of.isEmpty()) {
                            return; // never answered: Envoy's initial_fetch_timeout ends its wait
                        }
                        DiscoveryResponse.Builder b = DiscoveryResponse.newBuilder()
                                .setTypeUrl(r.getTypeUrl())
                                .setVersionInfo("v1")
                                .setNonce(r.getTypeUrl() + "-1");
                        of.forEach(m -> b.addResources(Any.pack(m)));
                        synchronized (responses) {
                            responses.onNext(b.build());
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
        });
        return server.getPort();
    }

    private static Exchange probe(Gateway gateway) throws InterruptedException {
        return gateway.send(new DownstreamRequest(
                "GET", EnvoyNames.READINESS_HOST, EnvoyNames.READINESS_PATH, Headers.of(), List.of()));
    }

    private static int readiness(Gateway gateway) throws InterruptedException {
        return probe(gateway).status();
    }

    @Test
    void everyEnvoyRouteTable_carriesTheReadinessRoute_andEnvoysRulesAcceptIt() throws Exception {
        GroupResources r = sample();
        for (RouteConfiguration rc : r.routes()) {
            if (rc.getName().equals(EnvoyNames.PROXYLESS_ROUTES)) {
                assertThat(rc.getVirtualHostsList())
                        .noneMatch(vh -> vh.getDomainsList().contains(EnvoyNames.READINESS_HOST));
                continue;
            }
            assertThat(rc.getVirtualHostsList())
                    .anyMatch(vh -> vh.getDomainsList().contains(EnvoyNames.READINESS_HOST));
            assertThat(EnvoyValidator.validate(rc)).isEmpty();
        }
    }

    @Test
    void theReadinessHost_isRefusedAsACustomerHostname() {
        GatewayConfig config =
                GatewayYaml.read("edge.yaml", GROUP.replace("api.bank.example", EnvoyNames.READINESS_HOST));
        assertThat(new ConfigValidator().validate(config).errors())
                .anyMatch(p -> p.message().contains("reserved for the gateway's readiness probe"));
    }

    @Test
    void routeTableNotDelivered_readinessFails_thenTheGoodTable_answers200() throws Exception {
        GroupResources r = sample();
        int port = serve(r);
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway());
                Gateway gateway = new Gateway(ads, EnvoyNode.localGateway(), 8080, 1L, 1.0)) {
            ads.await(x -> !x.listeners().isEmpty(), Duration.ofSeconds(20));
            assertThat(ads.resources().routes()).isEmpty();
            Exchange answer = probe(gateway);
            // without a route nothing turns ext_proc off: here, with no DLP server, its stream fails (500); with
            // one, the router answers 404 NR. Either way the kubelet sees no 2xx.
            assertThat(answer.steps()).anyMatch(step -> step.startsWith("no route: no virtual host"));
            assertThat(answer.status() / 100)
                    .as("listener warmed without routes: not ready")
                    .isNotIn(2, 3);
        }
        server.shutdownNow();
        routes.set(r.routes().stream()
                .filter(rc -> !rc.getName().equals(EnvoyNames.PROXYLESS_ROUTES))
                .toList());
        port = serve(r);
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway());
                Gateway gateway = new Gateway(ads, EnvoyNode.localGateway(), 8080, 1L, 1.0)) {
            ads.await(x -> !x.routes().isEmpty(), Duration.ofSeconds(20));
            assertThat(readiness(gateway))
                    .as("the delivered table answers the probe")
                    .isEqualTo(200);
        }
    }

    @Test
    void firstRouteTableNacked_isNeverReady() throws Exception {
        GroupResources r = sample();
        // a customer host equal to the readiness host: two virtual hosts with one domain, which Envoy refuses
        // ("Only unique values for domains are permitted"); the controller's validator refuses such a host first
        routes.set(r.routes().stream()
                .filter(rc -> !rc.getName().equals(EnvoyNames.PROXYLESS_ROUTES))
                .map(rc -> rc.toBuilder()
                        .addVirtualHosts(
                                RouteTranslator.readinessHost().toBuilder().setName("copy"))
                        .build())
                .toList());
        int port = serve(r);
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway());
                Gateway gateway = new Gateway(ads, EnvoyNode.localGateway(), 8080, 1L, 1.0)) {
            for (int i = 0; i < 200 && ads.nacks().isEmpty(); i++) {
                Thread.sleep(50);
            }
            assertThat(ads.nacks()).anyMatch(n -> n.contains("Only unique values for domains"));
            assertThat(ads.resources().routes())
                    .as("nothing of the NACKed table is used")
                    .isEmpty();
            assertThatThrownBy(() -> readiness(gateway))
                    .as("the emulator serves nothing after a NACK")
                    .hasMessageContaining("NACK");
        }
    }
}
