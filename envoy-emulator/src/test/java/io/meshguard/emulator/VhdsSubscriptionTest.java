package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.Vhds;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.envoyproxy.envoy.service.route.v3.VirtualHostDiscoveryServiceGrpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.StreamSink;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The emulated node against a scripted controller that serves ADS (SotW CDS/EDS/LDS/RDS) and VHDS
 * (DeltaVirtualHosts) on one port: what the node asks for over VHDS, what it ACKs and NACKs, and the route table it
 * routes with.
 */
@Tag("integration")
class VhdsSubscriptionTest {
    private static final String RC = "edge-routes";
    private static final int LISTENER_PORT = 8080;
    private static final Duration LIMIT = Duration.ofSeconds(10);

    private final BlockingQueue<DiscoveryRequest> adsRequests = new LinkedBlockingQueue<>();
    private final BlockingQueue<DeltaDiscoveryRequest> vhdsRequests = new LinkedBlockingQueue<>();
    private final AtomicReference<StreamObserver<DiscoveryResponse>> adsStream = new AtomicReference<>();
    private final AtomicReference<StreamObserver<DeltaDiscoveryResponse>> vhdsStream = new AtomicReference<>();
    private final AtomicInteger vhdsStreams = new AtomicInteger();
    private final AtomicInteger rdsVersion = new AtomicInteger();
    private final AtomicInteger vhdsNonce = new AtomicInteger();
    private volatile RouteConfiguration routes;
    private Server server;

    private static final ConfigSource DELTA_GRPC = ConfigSource.newBuilder()
            .setApiConfigSource(ApiConfigSource.newBuilder()
                    .setApiType(ApiConfigSource.ApiType.DELTA_GRPC)
                    .addGrpcServices(GrpcService.newBuilder()
                            .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName("meshguard-xds"))))
            .build();

    private static VirtualHost host(String name, String domain, int status) {
        return VirtualHost.newBuilder()
                .setName(name)
                .addDomains(domain)
                .addRoutes(Route.newBuilder()
                        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                        .setDirectResponse(DirectResponseAction.newBuilder().setStatus(status)))
                .build();
    }

    /** The route configuration RDS delivers: one virtual host of its own, the rest over VHDS. */
    private static RouteConfiguration withVhds(ConfigSource source, VirtualHost... rdsHosts) {
        return RouteConfiguration.newBuilder()
                .setName(RC)
                .addAllVirtualHosts(List.of(rdsHosts))
                .setVhds(Vhds.newBuilder().setConfigSource(source))
                .build();
    }

    private static final VirtualHost RDS_HOST = host("rds-host", "rds.test", 200);

    private int serve(RouteConfiguration rc) throws Exception {
        routes = rc;
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
                    @Override
                    public StreamObserver<DiscoveryRequest> streamAggregatedResources(
                            StreamObserver<DiscoveryResponse> responses) {
                        adsStream.set(responses);
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(DiscoveryRequest r) {
                                adsRequests.add(r);
                                if (r.getResponseNonce().isEmpty()) {
                                    answer(responses, r.getTypeUrl());
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
                .addService(new VirtualHostDiscoveryServiceGrpc.VirtualHostDiscoveryServiceImplBase() {
                    @Override
                    public StreamObserver<DeltaDiscoveryRequest> deltaVirtualHosts(
                            StreamObserver<DeltaDiscoveryResponse> responses) {
                        vhdsStreams.incrementAndGet();
                        vhdsStream.set(responses);
                        return StreamSink.into(vhdsRequests);
                    }
                })
                .build()
                .start();
        return server.getPort();
    }

    private void answer(StreamObserver<DiscoveryResponse> responses, String type) {
        Any resource =
                switch (type) {
                    case XdsResources.CDS ->
                        Any.pack(Cluster.newBuilder()
                                .setName("up")
                                .setType(Cluster.DiscoveryType.EDS)
                                .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
                                        .setEdsConfig(ConfigSource.newBuilder()
                                                .setAds(AggregatedConfigSource.getDefaultInstance())))
                                .build());
                    case XdsResources.EDS ->
                        Any.pack(ClusterLoadAssignment.newBuilder()
                                .setClusterName("up")
                                .addEndpoints(LocalityLbEndpoints.newBuilder()
                                        .addLbEndpoints(LbEndpoint.newBuilder()
                                                .setEndpoint(
                                                        Endpoint.newBuilder().setAddress(address("10.1.2.3", 80)))))
                                .build());
                    case XdsResources.LDS -> Any.pack(listener());
                    case XdsResources.RDS -> Any.pack(routes);
                    default -> throw new IllegalArgumentException(type);
                };
        String version = type.equals(XdsResources.RDS) ? "r" + rdsVersion.incrementAndGet() : "1";
        synchronized (responses) {
            responses.onNext(DiscoveryResponse.newBuilder()
                    .setTypeUrl(type)
                    .setVersionInfo(version)
                    .setNonce(type + "/" + version)
                    .addResources(resource)
                    .build());
        }
    }

    private static Address address(String ip, int port) {
        return Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
                .build();
    }

    private static Listener listener() {
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix("edge")
                .setRds(Rds.newBuilder()
                        .setRouteConfigName(RC)
                        .setConfigSource(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())))
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName("envoy.filters.http.router")
                        .setTypedConfig(Any.pack(Router.getDefaultInstance())))
                .build();
        return Listener.newBuilder()
                .setName("edge")
                .setAddress(address("0.0.0.0", LISTENER_PORT))
                .addFilterChains(FilterChain.newBuilder()
                        .addFilters(Filter.newBuilder()
                                .setName("envoy.filters.network.http_connection_manager")
                                .setTypedConfig(Any.pack(hcm))))
                .build();
    }

    /** The controller pushes a new route configuration over RDS. */
    private void pushRds(RouteConfiguration rc) {
        routes = rc;
        answer(adsStream.get(), XdsResources.RDS);
    }

    private static Resource resource(VirtualHost vh, String version) {
        return Resource.newBuilder()
                .setName(vh.getName())
                .setVersion(version)
                .setResource(Any.pack(vh))
                .build();
    }

    /** The controller sends a VHDS response on the current stream; returns its nonce. */
    private String pushVhds(String systemVersion, List<Resource> added, List<String> removed) {
        String nonce = "v" + vhdsNonce.incrementAndGet();
        vhdsStream
                .get()
                .onNext(DeltaDiscoveryResponse.newBuilder()
                        .setTypeUrl(VhdsSubscription.TYPE_URL)
                        .setSystemVersionInfo(systemVersion)
                        .setNonce(nonce)
                        .addAllResources(added)
                        .addAllRemovedResources(removed)
                        .build());
        return nonce;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.shutdownNow();
        }
    }

    private DeltaDiscoveryRequest nextVhds() throws InterruptedException {
        DeltaDiscoveryRequest r = vhdsRequests.poll(LIMIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(r).as("a VHDS request from the emulated node").isNotNull();
        return r;
    }

    /** Waits for the ADS request answering the RDS response of {@code version} (ACK or NACK). */
    private DiscoveryRequest rdsReply(String version) throws InterruptedException {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            DiscoveryRequest r = adsRequests.poll(100, TimeUnit.MILLISECONDS);
            if (r != null
                    && r.getTypeUrl().equals(XdsResources.RDS)
                    && r.getResponseNonce().equals(XdsResources.RDS + "/" + version)) {
                return r;
            }
        }
        throw new AssertionError("no reply to RDS " + version);
    }

    /** Polls {@code condition} until it holds or {@link #LIMIT} passes. */
    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + LIMIT + ": " + what);
            }
            Thread.sleep(10);
        }
    }

    private static List<String> hostNames(AdsSubscription ads) {
        return ads.resources().routes().get(RC).getVirtualHostsList().stream()
                .map(VirtualHost::getName)
                .toList();
    }

    private static VirtualHost hostNamed(AdsSubscription ads, String name) {
        return ads.resources().routes().get(RC).getVirtualHostsList().stream()
                .filter(v -> v.getName().equals(name))
                .findFirst()
                .orElseThrow();
    }

    /** Connects, waits for the VHDS stream's first request, answers it with {@code first}, and awaits the ACK. */
    private AdsSubscription connectWith(VirtualHost... first) throws Exception {
        int port = serve(withVhds(DELTA_GRPC, RDS_HOST));
        AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway());
        nextVhds();
        List<Resource> resources =
                java.util.Arrays.stream(first).map(v -> resource(v, "1")).toList();
        String nonce = pushVhds("s1", resources, List.of());
        assertThat(nextVhds().getResponseNonce()).isEqualTo(nonce);
        ads.awaitComplete(LIMIT);
        return ads;
    }

    @Test
    void vhds_firstResponse_makesTheRouteTableReady() throws Exception {
        int port = serve(withVhds(DELTA_GRPC, RDS_HOST));
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway());
                Gateway gateway = new Gateway(ads, EnvoyNode.localGateway(), LISTENER_PORT, 1, 1)) {
            DeltaDiscoveryRequest first = nextVhds();
            assertThat(first.getTypeUrl()).isEqualTo(VhdsSubscription.TYPE_URL);
            assertThat(first.getNode().getId()).isEqualTo("local-envoy-1");
            assertThat(first.getResourceNamesSubscribeList())
                    .as("legacy wildcard: namespace matching keeps the route configuration's name off the wire")
                    .isEmpty();
            assertThat(first.getInitialResourceVersionsMap()).isEmpty();
            assertThat(first.getResponseNonce()).isEmpty();
            assertThat(rdsReply("r1").hasErrorDetail()).as("RDS ACKed").isFalse();

            assertThat(ads.resources().routes())
                    .as("no route table before VHDS answers")
                    .doesNotContainKey(RC);
            assertThat(AdsSubscription.isComplete(ads.resources())).isFalse();
            assertThat(ads.vhds(RC).orElseThrow().initDone()).isFalse();

            String nonce = pushVhds("s1", List.of(resource(host(RC + "/vh.test", "vh.test", 202), "1")), List.of());
            DeltaDiscoveryRequest ack = nextVhds();
            assertThat(ack.getResponseNonce()).isEqualTo(nonce);
            assertThat(ack.hasErrorDetail()).isFalse();
            assertThat(ack.getTypeUrl()).isEqualTo(VhdsSubscription.TYPE_URL);
            assertThat(ack.getNode().getId())
                    .as("every delta request carries the node")
                    .isEqualTo("local-envoy-1");

            XdsResources complete = ads.awaitComplete(LIMIT);
            assertThat(complete.routes().get(RC).getVirtualHostsList())
                    .extracting(VirtualHost::getName)
                    .as("RDS virtual hosts, then VHDS ones")
                    .containsExactly("rds-host", RC + "/vh.test");
            assertThat(complete.version(VhdsSubscription.TYPE_URL)).isEqualTo("s1");
            assertThat(gateway.send(DownstreamRequest.get("vh.test", "/")).status())
                    .as("the gateway routes with the VHDS virtual host")
                    .isEqualTo(202);
            assertThat(gateway.send(DownstreamRequest.get("rds.test", "/")).status())
                    .isEqualTo(200);
            assertThat(ads.problems()).isEmpty();
        }
    }

    @Test
    void vhds_changedVirtualHost_replacesOnlyThatOne() throws Exception {
        VirtualHost a = host(RC + "/a", "a.test", 200);
        VirtualHost b = host(RC + "/b", "b.test", 200);
        try (AdsSubscription ads = connectWith(a, b)) {
            assertThat(hostNames(ads)).containsExactly("rds-host", RC + "/a", RC + "/b");
            VirtualHost a2 = host(RC + "/a", "a2.test", 201);
            String nonce = pushVhds("s2", List.of(resource(a2, "2")), List.of());
            assertThat(nextVhds().getResponseNonce()).isEqualTo(nonce);
            eventually("a replaced", () -> hostNamed(ads, RC + "/a").equals(a2));
            assertThat(hostNames(ads)).containsExactly("rds-host", RC + "/a", RC + "/b");
            assertThat(hostNamed(ads, RC + "/b")).isEqualTo(b);
            assertThat(hostNamed(ads, "rds-host")).isEqualTo(RDS_HOST);
            assertThat(ads.vhds(RC).orElseThrow().resourceVersions())
                    .containsExactlyInAnyOrderEntriesOf(Map.of(RC + "/a", "2", RC + "/b", "1"));
        }
    }

    @Test
    void vhds_removedResource_dropsThatVirtualHost() throws Exception {
        try (AdsSubscription ads = connectWith(host(RC + "/a", "a.test", 200), host(RC + "/b", "b.test", 200))) {
            String nonce = pushVhds("s2", List.of(), List.of(RC + "/a"));
            assertThat(nextVhds().getResponseNonce()).isEqualTo(nonce);
            eventually("a removed", () -> !hostNames(ads).contains(RC + "/a"));
            assertThat(hostNames(ads)).containsExactly("rds-host", RC + "/b");
            assertThat(RouteTable.virtualHost(ads.resources().routes().get(RC), "a.test"))
                    .as("nothing routes a.test any more")
                    .isEmpty();
            assertThat(ads.vhds(RC).orElseThrow().resourceVersions()).containsOnlyKeys(RC + "/b");
        }
    }

    @Test
    void vhds_invalidVirtualHost_isNackedAndTheOldTableKept() throws Exception {
        try (AdsSubscription ads = connectWith(host(RC + "/a", "a.test", 200))) {
            RouteConfiguration before = ads.resources().routes().get(RC);
            // its domain is the RDS virtual host's: the rebuilt table does not load
            String nonce = pushVhds("s2", List.of(resource(host(RC + "/c", "rds.test", 200), "2")), List.of());
            DeltaDiscoveryRequest nack = nextVhds();
            assertThat(nack.getResponseNonce()).isEqualTo(nonce);
            assertThat(nack.getErrorDetail().getCode()).isEqualTo(Status.Code.INTERNAL.value());
            assertThat(nack.getErrorDetail().getMessage())
                    .contains("Only unique values for domains are permitted. Duplicate entry of domain rds.test");
            assertThat(ads.resources().routes().get(RC)).isEqualTo(before);
            assertThat(ads.nacks()).singleElement().asString().contains("s2");
            assertThat(ads.vhds(RC).orElseThrow().resourceVersions())
                    .as("a NACKed resource's version is not held")
                    .doesNotContainKey(RC + "/c");
        }
    }

    @Test
    void vhds_firstResponseNacked_stillReadiesTheTableWithTheRdsVirtualHosts() throws Exception {
        int port = serve(withVhds(DELTA_GRPC, RDS_HOST));
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway())) {
            nextVhds();
            // VirtualHost.domains has min_items 1 (PGV): the resource decoder refuses it
            VirtualHost noDomains = VirtualHost.newBuilder().setName(RC + "/x").build();
            pushVhds("s1", List.of(resource(noDomains, "1")), List.of());
            assertThat(nextVhds().hasErrorDetail()).isTrue();
            // VhdsSubscription::onConfigUpdateFailed readies the init target "to allow server startup to continue"
            eventually("table served", () -> ads.resources().routes().containsKey(RC));
            assertThat(hostNames(ads)).containsExactly("rds-host");
        }
    }

    @Test
    void vhds_noResponseWithinInitialFetchTimeout_servesTheRdsVirtualHosts() throws Exception {
        ConfigSource quick = DELTA_GRPC.toBuilder()
                .setInitialFetchTimeout(
                        com.google.protobuf.Duration.newBuilder().setNanos(300_000_000))
                .build();
        int port = serve(withVhds(quick, RDS_HOST));
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway())) {
            nextVhds(); // and no answer
            assertThat(ads.resources().routes()).doesNotContainKey(RC);
            // GrpcSubscriptionImpl's init fetch timeout: onConfigUpdateFailed(FetchTimedout) readies the target
            eventually(
                    "table served after the timeout",
                    () -> ads.resources().routes().containsKey(RC));
            assertThat(hostNames(ads)).containsExactly("rds-host");
            assertThat(ads.vhds(RC).orElseThrow().initDone()).isTrue();
            assertThat(ads.nacks()).isEmpty();

            pushVhds("s1", List.of(resource(host(RC + "/late", "late.test", 200), "1")), List.of());
            assertThat(nextVhds().hasErrorDetail()).isFalse();
            eventually(
                    "a late VHDS response still applies", () -> hostNames(ads).contains(RC + "/late"));
        }
    }

    @Test
    void rds_vhdsOverSotwAds_isNacked() throws Exception {
        int port = serve(withVhds(ConfigSource.newBuilder()
                .setAds(AggregatedConfigSource.getDefaultInstance())
                .build()));
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway())) {
            DiscoveryRequest nack = rdsReply("r1");
            assertThat(nack.getErrorDetail().getMessage())
                    .isEqualTo("vhds: ADS must use DELTA_GRPC api_type when used as VHDS config source.");
            assertThat(nack.getVersionInfo()).as("nothing accepted").isEmpty();
            assertThat(ads.vhds(RC)).isEmpty();
            assertThat(ads.resources().routes()).doesNotContainKey(RC);
            assertThat(vhdsStreams.get()).isZero();
        }
    }

    @Test
    void rds_vhdsOverSotwGrpcOrAnUnknownCluster_isNackedInEnvoysWords() throws Exception {
        ConfigSource sotw = DELTA_GRPC.toBuilder()
                .setApiConfigSource(
                        DELTA_GRPC.getApiConfigSource().toBuilder().setApiType(ApiConfigSource.ApiType.GRPC))
                .build();
        int port = serve(withVhds(sotw));
        try (AdsSubscription ads = AdsSubscription.connect("127.0.0.1", port, EnvoyNode.localGateway())) {
            assertThat(rdsReply("r1").getErrorDetail().getMessage())
                    .isEqualTo("vhds: only 'DELTA_GRPC' or 'ADS' (which uses Delta xDS) is supported as a config "
                            + "source.");
            ConfigSource unknown = DELTA_GRPC.toBuilder()
                    .setApiConfigSource(DELTA_GRPC.getApiConfigSource().toBuilder()
                            .setGrpcServices(
                                    0,
                                    GrpcService.newBuilder()
                                            .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder()
                                                    .setClusterName("up"))))
                    .build();
            pushRds(withVhds(unknown));
            assertThat(rdsReply("r2").getErrorDetail().getMessage())
                    .as("a CDS cluster is 'added via api': not a backing cluster")
                    .isEqualTo("envoy.config.core.v3.ApiConfigSource must have a statically defined non-EDS "
                            + "cluster: 'up' does not exist, was added via api, or is an EDS cluster");
            assertThat(ads.vhds(RC)).isEmpty();
        }
    }

    @Test
    void rds_update_keepsTheVhdsVirtualHosts_andItsSubscription() throws Exception {
        try (AdsSubscription ads = connectWith(host(RC + "/a", "a.test", 200))) {
            VhdsSubscription subscription = ads.vhds(RC).orElseThrow();
            VirtualHost rds2 = host("rds-host-2", "rds2.test", 200);
            pushRds(withVhds(DELTA_GRPC, rds2));
            assertThat(rdsReply("r2").hasErrorDetail()).isFalse();
            eventually("new RDS host", () -> hostNames(ads).contains("rds-host-2"));
            assertThat(hostNames(ads)).containsExactly("rds-host-2", RC + "/a");
            assertThat(ads.vhds(RC))
                    .as("vhds config unchanged: same subscription")
                    .containsSame(subscription);
            assertThat(vhdsStreams.get()).isEqualTo(1);

            int accepted = ads.acceptedCount();
            pushRds(withVhds(DELTA_GRPC, rds2));
            assertThat(rdsReply("r3").hasErrorDetail())
                    .as("an unchanged route configuration is ACKed")
                    .isFalse();
            assertThat(ads.acceptedCount()).isEqualTo(accepted + 1);
            assertThat(hostNames(ads)).containsExactly("rds-host-2", RC + "/a");
            assertThat(ads.vhds(RC)).containsSame(subscription);
        }
    }

    @Test
    void vhds_streamFails_reconnectsWithInitialResourceVersions() throws Exception {
        try (AdsSubscription ads = connectWith(host(RC + "/a", "a.test", 200), host(RC + "/b", "b.test", 200))) {
            String nonce = pushVhds("s2", List.of(resource(host(RC + "/b", "b2.test", 200), "2")), List.of());
            assertThat(nextVhds().getResponseNonce()).isEqualTo(nonce);
            RouteConfiguration before = ads.resources().routes().get(RC);

            vhdsStream
                    .get()
                    .onError(Status.UNAVAILABLE
                            .withDescription("controller restarts")
                            .asRuntimeException());
            DeltaDiscoveryRequest again = nextVhds();
            assertThat(vhdsStreams.get()).isEqualTo(2);
            assertThat(again.getNode().getId()).isEqualTo("local-envoy-1");
            assertThat(again.getResponseNonce()).as("no nonce on a new stream").isEmpty();
            assertThat(again.getResourceNamesSubscribeList())
                    .as("legacy wildcard again")
                    .isEmpty();
            assertThat(again.getInitialResourceVersionsMap())
                    .containsExactlyInAnyOrderEntriesOf(Map.of(RC + "/a", "1", RC + "/b", "2"));
            assertThat(ads.resources().routes().get(RC))
                    .as("the virtual hosts outlive the stream")
                    .isEqualTo(before);

            String next = pushVhds("s3", List.of(), List.of(RC + "/a"));
            assertThat(nextVhds().getResponseNonce())
                    .as("the new stream is ACKed")
                    .isEqualTo(next);
            eventually("a removed over the new stream", () -> !hostNames(ads).contains(RC + "/a"));
        }
    }
}
