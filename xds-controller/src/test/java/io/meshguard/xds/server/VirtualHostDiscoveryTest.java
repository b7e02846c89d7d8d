package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.envoyproxy.envoy.service.route.v3.VirtualHostDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.StreamSink;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.GatewayYaml;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * VHDS as an Envoy gateway meets it: an ADS stream (SotW, as the gateway bootstrap runs it) and a
 * {@code DeltaVirtualHosts} stream of the same node, on real gRPC against a controller serving the sample gateway.
 */
@IntegrationTest
class VirtualHostDiscoveryTest {
    private static final String TABLE = "http-8080";
    private static final String PAYMENTS = TABLE + "/payments.dev.local.meshguard.test";
    private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    private static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
    private static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

    /** The hold on a push whose node has not answered its clusters, shortened from the shipped 35 s. */
    private static final java.time.Duration CLUSTERS_WAIT = java.time.Duration.ofSeconds(3);

    private XdsCore core;
    private ManagedChannel channel;
    private String sample;

    @BeforeEach
    void start() throws Exception {
        core = LoopbackCores.inMemory(
                RolloutSpans.disabled(), Optional.of(new XdsCore.Vhds("meshguard-xds", CLUSTERS_WAIT)));
        channel = LoopbackGrpc.channelTo(core.adsPort());
        try (InputStream in = XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            sample = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        publish(sample);
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        core.close();
    }

    @Test
    void wildcard_servesEveryVirtualHost_besideARouteTableWithNone() throws Exception {
        Ads ads = new Ads("gw-1", true);
        RouteConfiguration shell = ads.firstRoutes.getResources(0).unpack(RouteConfiguration.class);
        Vhds vhds = new Vhds("gw-1");

        DeltaDiscoveryResponse first = vhds.next();

        assertThat(shell.getVirtualHostsList()).isEmpty();
        ApiConfigSource source = shell.getVhds().getConfigSource().getApiConfigSource();
        assertThat(source.getApiType()).isEqualTo(ApiConfigSource.ApiType.DELTA_GRPC);
        assertThat(source.getGrpcServices(0).getEnvoyGrpc().getClusterName()).isEqualTo("meshguard-xds");
        RouteConfiguration whole = core.snapshots().served("local").orElseThrow().resources().routes().stream()
                .filter(rc -> rc.getName().equals(TABLE))
                .findFirst()
                .orElseThrow();
        assertThat(first.getResourcesList())
                .extracting(Resource::getName)
                .containsExactlyInAnyOrderElementsOf(whole.getVirtualHostsList().stream()
                        .map(vh -> TABLE + "/" + vh.getName())
                        .toList());
        // each is the table's virtual host, renamed to its resource name (Envoy keys and removes them by it)
        for (VirtualHost vh : whole.getVirtualHostsList()) {
            assertThat(vhds.host(first, TABLE + "/" + vh.getName()))
                    .isEqualTo(
                            vh.toBuilder().setName(TABLE + "/" + vh.getName()).build());
        }
        assertThat(first.getSystemVersionInfo())
                .isEqualTo(core.snapshots()
                        .served("local")
                        .orElseThrow()
                        .versions()
                        .routes());
        // a stream naming the table gets the same
        new Ads("gw-2", true);
        assertThat(new Vhds("gw-2", Map.of(), true, TABLE).next().getResourcesList())
                .containsExactlyInAnyOrderElementsOf(first.getResourcesList());
    }

    @Test
    void oneRouteChanged_sendsOnlyItsVirtualHost_andTheAckNamesTheNodesRevision() throws Exception {
        Ads ads = new Ads("gw-1", true);
        Vhds vhds = new Vhds("gw-1");
        vhds.ack(vhds.next());

        long revision = publish(sample.replace(
                "weight: 90}, {upstream: payments-v2-canary, weight: 10}",
                "weight: 80}, {upstream: payments-v2-canary, weight: 20}"));
        DeltaDiscoveryResponse change = vhds.next();
        vhds.ack(change);

        assertThat(change.getResourcesList()).extracting(Resource::getName).containsExactly(PAYMENTS);
        assertThat(vhds.host(change, PAYMENTS).getRoutesList())
                .filteredOn(r -> r.getName().endsWith("payments-v2-transfers"))
                .allSatisfy(r -> assertThat(r.getRoute()
                                .getWeightedClusters()
                                .getClusters(0)
                                .getWeight()
                                .getValue())
                        .isEqualTo(80));
        assertThat(change.getRemovedResourcesList()).isEmpty();
        awaitNode(
                "gw-1",
                n -> n.revision().equals(Optional.of(revision))
                        && change.getSystemVersionInfo()
                                .equals(n.ackedVersions().get(VirtualHostDiscovery.TYPE_URL)));
    }

    @Test
    void newUpstream_itsVirtualHostWaitsUntilTheNodeAnsweredTheClusters() throws Exception {
        Ads ads = new Ads("gw-1", true);
        Vhds vhds = new Vhds("gw-1");
        vhds.ack(vhds.next());
        ads.ackClusters = false;

        publish(sample.replace("  - name: payments-v1\n", "  - name: payments-v1-blue\n")
                .replace("{upstream: payments-v1, weight: 100}", "{upstream: payments-v1-blue, weight: 100}"));
        DiscoveryResponse clusters = ads.await(CDS, r -> names(r).contains("payments-v1-blue"));

        assertThat(vhds.responses.poll(500, TimeUnit.MILLISECONDS))
                .as("virtual hosts naming payments-v1-blue before the node has it")
                .isNull();
        ads.ack(clusters);
        DeltaDiscoveryResponse change = vhds.next();
        assertThat(change.getResourcesList()).extracting(Resource::getName).containsExactly(PAYMENTS);
        assertThat(vhds.host(change, PAYMENTS).toString()).contains("payments-v1-blue");
    }

    @Test
    void vhdsBeforeItsAds_isHeldUntilTheAdsStreamAnswersTheClusters() throws Exception {
        // a gateway reconnecting (a controller restarted): its VHDS stream reaches this replica before its ADS stream
        Vhds vhds = new Vhds("gw-3");

        assertThat(vhds.responses.poll(500, TimeUnit.MILLISECONDS))
                .as("virtual hosts before this replica saw the node answer their clusters")
                .isNull();
        new Ads("gw-3", true);
        assertThat(vhds.next().getResourcesList()).extracting(Resource::getName).contains(PAYMENTS);
    }

    @Test
    void vhdsWhoseAdsIsElsewhere_isSentAfterTheBoundedWait() throws Exception {
        // the node's ADS stream went to another replica: this one never sees it answer, and sends after the wait
        Vhds vhds = new Vhds("gw-4");

        assertThat(vhds.responses.poll(500, TimeUnit.MILLISECONDS)).isNull();
        DeltaDiscoveryResponse r = vhds.responses.poll(CLUSTERS_WAIT.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        assertThat(r).as("a VHDS response after the wait").isNotNull();
        assertThat(r.getResourcesList()).extracting(Resource::getName).contains(PAYMENTS);
    }

    @Test
    void vhdsWhoseAdsIsElsewhere_changeAmongClustersItAccepted_isSentAtOnce_aNewClusterWaits() throws Exception {
        // a split gateway: after the bounded wait its node accepted virtual hosts naming the served clusters
        Vhds vhds = new Vhds("gw-5");
        DeltaDiscoveryResponse first = vhds.responses.poll(CLUSTERS_WAIT.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        assertThat(first).as("a VHDS response after the wait").isNotNull();
        vhds.ack(first);
        awaitNode("gw-5", n -> first.getSystemVersionInfo()
                .equals(n.ackedVersions().get(VirtualHostDiscovery.TYPE_URL)));

        String weights = sample.replace(
                "weight: 90}, {upstream: payments-v2-canary, weight: 10}",
                "weight: 80}, {upstream: payments-v2-canary, weight: 20}");
        publish(weights);
        DeltaDiscoveryResponse change = vhds.responses.poll(CLUSTERS_WAIT.toMillis() / 2, TimeUnit.MILLISECONDS);
        assertThat(change)
                .as("a weight change among clusters the node accepted, without the %s hold", CLUSTERS_WAIT)
                .isNotNull();
        assertThat(change.getResourcesList()).extracting(Resource::getName).containsExactly(PAYMENTS);
        vhds.ack(change);

        publish(weights.replace("  - name: payments-v1\n", "  - name: payments-v1-blue\n")
                .replace("{upstream: payments-v1, weight: 100}", "{upstream: payments-v1-blue, weight: 100}"));
        assertThat(vhds.responses.poll(CLUSTERS_WAIT.toMillis() / 2, TimeUnit.MILLISECONDS))
                .as("virtual hosts naming payments-v1-blue, which no host the node accepted named")
                .isNull();
        DeltaDiscoveryResponse later = vhds.next();
        assertThat(vhds.host(later, PAYMENTS).toString()).contains("payments-v1-blue");
    }

    @Test
    void nack_isRecorded_andWhatItRejectedIsSentAgain() throws Exception {
        new Ads("gw-1", true);
        Vhds vhds = new Vhds("gw-1");
        DeltaDiscoveryResponse first = vhds.next();

        vhds.nack(first, "route: unknown cluster 'x'");

        awaitNode("gw-1", n -> n.lastNack()
                .filter(x -> x.typeUrl().equals(VirtualHostDiscovery.TYPE_URL)
                        && x.error().contains("unknown cluster"))
                .isPresent());
        DeltaDiscoveryResponse again = vhds.next();
        assertThat(again.getResourcesList())
                .extracting(Resource::getName)
                .containsExactlyInAnyOrderElementsOf(
                        first.getResourcesList().stream().map(Resource::getName).toList());
    }

    /**
     * A node that refuses every response (Envoy re-requests at once after each NACK) is resent what it refused after
     * the back-off, 1 s doubling: at 1, 3 and 7 s, never in answer to the NACK itself.
     */
    @Test
    void refusingNode_costsAtMostFiveResendsInTenSeconds() throws Exception {
        new Ads("gw-1", true);
        Vhds vhds = new Vhds("gw-1");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int resends = -1;
        while (System.nanoTime() < end) {
            DeltaDiscoveryResponse r = vhds.responses.poll(100, TimeUnit.MILLISECONDS);
            if (r != null) {
                resends++;
                vhds.nack(r, "route: unknown cluster 'x'");
            }
        }

        assertThat(resends).as("responses after the first, each NACKed at once").isBetween(1, 5);
        awaitNode("gw-1", n -> n.lastNack().isPresent());
    }

    @Test
    void onDemandHost_answeredWithItsVirtualHostAsAlias_anUnservedTableWithTheNameAlone() throws Exception {
        new Ads("gw-1", true);
        Vhds vhds = new Vhds(
                "gw-1", Map.of(), true, TABLE + "/PAYMENTS.dev.local.meshguard.test:8080", "http-9999/x.example");

        DeltaDiscoveryResponse r = vhds.next();

        Map<String, Resource> byName =
                r.getResourcesList().stream().collect(Collectors.toMap(Resource::getName, x -> x));
        assertThat(byName).containsOnlyKeys(PAYMENTS, "http-9999/x.example");
        assertThat(byName.get(PAYMENTS).getAliasesList())
                .containsExactly(TABLE + "/PAYMENTS.dev.local.meshguard.test:8080");
        assertThat(byName.get(PAYMENTS).hasResource()).isTrue();
        assertThat(byName.get("http-9999/x.example").getAliasesList()).containsExactly("http-9999/x.example");
        assertThat(byName.get("http-9999/x.example").hasResource()).isFalse();
    }

    @Test
    void apiWithdrawn_itsVirtualHostIsRemoved_againAfterANack() throws Exception {
        new Ads("gw-1", true);
        Vhds vhds = new Vhds("gw-1");
        vhds.ack(vhds.next());

        String withoutStatus = sample.replaceAll("(?s)  - name: status\n    base_path: /status\n.*?active}\n", "")
                .replaceAll("(?s)  # Public: no credential.*\\z", "");
        assertThat(withoutStatus).doesNotContain("status-health").doesNotContain("base_path: /status");
        publish(withoutStatus);
        DeltaDiscoveryResponse change = vhds.next();

        assertThat(change.getRemovedResourcesList()).containsExactly(TABLE + "/status.dev.local.meshguard.test");
        assertThat(change.getResourcesList()).isEmpty();

        // a node that refused the removal still holds the virtual host: it is removed again
        vhds.nack(change, "refused");
        assertThat(vhds.next().getRemovedResourcesList()).containsExactly(TABLE + "/status.dev.local.meshguard.test");
    }

    @Test
    void reconnect_withTheVersionsItHolds_getsOnlyWhatChanged() throws Exception {
        new Ads("gw-1", true);
        Vhds before = new Vhds("gw-1");
        DeltaDiscoveryResponse all = before.next();
        before.ack(all);
        before.requests.onCompleted();
        publish(sample.replace(
                "weight: 90}, {upstream: payments-v2-canary, weight: 10}",
                "weight: 70}, {upstream: payments-v2-canary, weight: 30}"));

        Vhds after = new Vhds(
                "gw-1",
                all.getResourcesList().stream().collect(Collectors.toMap(Resource::getName, Resource::getVersion)),
                true);

        assertThat(after.next().getResourcesList())
                .extracting(Resource::getName)
                .containsExactly(PAYMENTS);
    }

    @Test
    void anotherResourceType_isRefused() throws Exception {
        Vhds vhds = new Vhds("gw-1", Map.of(), false);
        vhds.requests.onNext(DeltaDiscoveryRequest.newBuilder()
                .setNode(node("gw-1"))
                .setTypeUrl(CDS)
                .addResourceNamesSubscribe("*")
                .build());

        assertThat(vhds.errors.poll(10, TimeUnit.SECONDS))
                .isInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining("INVALID_ARGUMENT");
    }

    @Test
    void tooManyNames_refused_theStreamEnds() throws Exception {
        new Ads("gw-1", true);
        Map<String, String> held = new java.util.HashMap<>();
        for (int i = 0; i <= VirtualHostDiscovery.MAX_NAMES; i++) {
            held.put(TABLE + "/h" + i + ".example", "v");
        }

        Vhds vhds = new Vhds("gw-1", held, true);

        assertThat(vhds.errors.poll(10, TimeUnit.SECONDS))
                .isInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining("RESOURCE_EXHAUSTED");
        assertThat(vhds.responses).isEmpty();
    }

    private long publish(String yaml) {
        Publisher.Result r = core.publisher().publish(GatewayYaml.read("sample.yaml", yaml), "test", "vhds");
        assertThat(r.published()).as(r.problems().toString()).isTrue();
        return r.revisions().get("local").id();
    }

    private void awaitNode(String id, Predicate<NodeStatus> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (core.fleet().node(id).filter(condition).isPresent()) {
                return;
            }
            Thread.sleep(20);
        }
        assertThat(core.fleet().node(id)).as("node %s", id).get().matches(condition);
    }

    private static Node node(String id) {
        return Node.newBuilder()
                .setId(id)
                .setCluster("local")
                .setUserAgentName("envoy")
                .setUserAgentVersion("1.36.2")
                .build();
    }

    private static List<String> names(DiscoveryResponse r) {
        return r.getResourcesList().stream()
                .map(a -> {
                    try {
                        return a.unpack(Cluster.class).getName();
                    } catch (InvalidProtocolBufferException e) {
                        throw new IllegalStateException(e);
                    }
                })
                .toList();
    }

    /** The gateway's SotW ADS stream: wildcard CDS and LDS, its table by name over RDS, ACKs like Envoy. */
    private final class Ads {
        final Map<String, String> versions = new ConcurrentHashMap<>();
        final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        volatile boolean ackClusters;
        final DiscoveryResponse firstRoutes;
        private final StreamObserver<DiscoveryRequest> requests;
        private final Node node;

        Ads(String id, boolean ackClusters) {
            this.node = node(id);
            this.ackClusters = ackClusters;
            this.requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                    .streamAggregatedResources(new StreamObserver<>() {
                        @Override
                        public void onNext(DiscoveryResponse r) {
                            responses.add(r);
                            if (!r.getTypeUrl().equals(CDS) || Ads.this.ackClusters) {
                                ack(r);
                            }
                        }

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {}
                    });
            send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS));
            send(DiscoveryRequest.newBuilder().setTypeUrl(LDS));
            send(DiscoveryRequest.newBuilder().setTypeUrl(RDS).addResourceNames(TABLE));
            // started as Envoy starts: clusters, listeners, then its route table, each ACKed
            try {
                firstRoutes = await(RDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }

        void ack(DiscoveryResponse r) {
            versions.put(r.getTypeUrl(), r.getVersionInfo());
            send(DiscoveryRequest.newBuilder()
                    .setTypeUrl(r.getTypeUrl())
                    .setVersionInfo(r.getVersionInfo())
                    .setResponseNonce(r.getNonce())
                    .addAllResourceNames(r.getTypeUrl().equals(RDS) ? List.of(TABLE) : List.of()));
        }

        private synchronized void send(DiscoveryRequest.Builder r) {
            requests.onNext(r.build());
        }

        DiscoveryResponse await(String type) throws InterruptedException {
            return await(type, r -> true);
        }

        DiscoveryResponse await(String type, Predicate<DiscoveryResponse> condition) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                DiscoveryResponse r = responses.poll(100, TimeUnit.MILLISECONDS);
                if (r != null && r.getTypeUrl().equals(type) && condition.test(r)) {
                    return r;
                }
            }
            throw new AssertionError("no " + type + " response");
        }
    }

    /** The gateway's VHDS stream: the node on its first request, then what the test ACKs or NACKs. */
    private final class Vhds {
        final BlockingQueue<DeltaDiscoveryResponse> responses = new LinkedBlockingQueue<>();
        final BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
        final StreamObserver<DeltaDiscoveryRequest> requests;

        /** As Envoy opens it: the node and no names (a legacy wildcard). */
        Vhds(String id) {
            this(id, Map.of(), true);
        }

        /**
         * @param held the versions a reconnecting node holds ({@code initial_resource_versions})
         * @param open whether to send the first request (with the node, naming {@code subscribe})
         */
        Vhds(String id, Map<String, String> held, boolean open, String... subscribe) {
            requests = VirtualHostDiscoveryServiceGrpc.newStub(channel)
                    .deltaVirtualHosts(StreamSink.into(responses, errors::add));
            if (open) {
                requests.onNext(DeltaDiscoveryRequest.newBuilder()
                        .setNode(node(id))
                        .setTypeUrl(VirtualHostDiscovery.TYPE_URL)
                        .addAllResourceNamesSubscribe(List.of(subscribe))
                        .putAllInitialResourceVersions(held)
                        .build());
            }
        }

        DeltaDiscoveryResponse next() throws InterruptedException {
            DeltaDiscoveryResponse r = responses.poll(10, TimeUnit.SECONDS);
            assertThat(r).as("a VHDS response").isNotNull();
            return r;
        }

        void ack(DeltaDiscoveryResponse r) {
            requests.onNext(DeltaDiscoveryRequest.newBuilder()
                    .setTypeUrl(VirtualHostDiscovery.TYPE_URL)
                    .setResponseNonce(r.getNonce())
                    .build());
        }

        void nack(DeltaDiscoveryResponse r, String error) {
            requests.onNext(DeltaDiscoveryRequest.newBuilder()
                    .setTypeUrl(VirtualHostDiscovery.TYPE_URL)
                    .setResponseNonce(r.getNonce())
                    .setErrorDetail(
                            com.google.rpc.Status.newBuilder().setCode(13).setMessage(error))
                    .build());
        }

        VirtualHost host(DeltaDiscoveryResponse r, String name) throws InvalidProtocolBufferException {
            return r.getResourcesList().stream()
                    .filter(x -> x.getName().equals(name))
                    .findFirst()
                    .orElseThrow()
                    .getResource()
                    .unpack(VirtualHost.class);
        }
    }
}
