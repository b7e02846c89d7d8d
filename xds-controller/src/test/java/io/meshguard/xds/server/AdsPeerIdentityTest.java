package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.store.InMemoryRevisionStore;
import io.meshguard.xds.validate.ConfigValidator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * ADS bound to the peer's verified identity, over real gRPC on loopback. The test client plays the controller's
 * sidecar: it connects from a trusted proxy address and writes {@code x-forwarded-client-cert} as Envoy does with
 * {@code SANITIZE_SET} ({@code By=...;Hash=...;Subject="";URI=spiffe://...}).
 */
@IntegrationTest
class AdsPeerIdentityTest {
    private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    private static final String GATEWAY = "spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway";
    private static final String STRANGER = "spiffe://cluster.local/ns/tenant-a/sa/default";

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private XdsCore core;
    private ManagedChannel channel;

    private void start(AdsPeerPolicy peers) throws Exception {
        start(peers, Optional.empty());
    }

    private void start(AdsPeerPolicy peers, Optional<String> defaultGroup) throws Exception {
        core = new XdsCore(
                        new InetSocketAddress("127.0.0.1", 0),
                        FilterTargets.DEFAULTS,
                        new InMemoryRevisionStore(Clock.systemUTC()),
                        defaultGroup,
                        s -> {},
                        meters,
                        Clock.systemUTC(),
                        new ConfigValidator(),
                        RolloutSpans.disabled(),
                        peers)
                .start();
        Publisher.Result r = core.publisher().publish(XdsController.sampleConfig(), "test", "identity test");
        assertThat(r.published()).as("%s", r.problems()).isTrue();
        channel = LoopbackGrpc.channelTo(core.adsPort());
    }

    private static AdsPeerPolicy grants(String trustedProxy, String... grants) {
        return AdsPeerPolicy.of("xfcc", List.of(trustedProxy), List.of(grants));
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (core != null) {
            core.close();
        }
    }

    /**
     * Completes {@code first} with a stream's first response, or fails it with the error or the end that came instead;
     * hands every response to {@code each}.
     */
    private static <T> StreamObserver<T> firstResponse(CompletableFuture<T> first, Consumer<? super T> each) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T r) {
                each.accept(r);
                first.complete(r);
            }

            @Override
            public void onError(Throwable t) {
                first.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                first.completeExceptionally(new IllegalStateException("completed"));
            }
        };
    }

    /** One stream: sends the requests, returns the first response or the error that closed the stream. */
    private final class Stream {
        final CompletableFuture<DiscoveryResponse> first = new CompletableFuture<>();
        final List<DiscoveryResponse> responses = new CopyOnWriteArrayList<>();
        final StreamObserver<DiscoveryRequest> requests;

        Stream(List<String> xfcc) {
            Metadata headers = new Metadata();
            Metadata.Key<String> key = Metadata.Key.of("x-forwarded-client-cert", Metadata.ASCII_STRING_MARSHALLER);
            xfcc.forEach(v -> headers.put(key, v));
            requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                    .streamAggregatedResources(firstResponse(first, responses::add));
        }

        Stream send(String nodeId, String group) {
            requests.onNext(DiscoveryRequest.newBuilder()
                    .setNode(Node.newBuilder().setId(nodeId).setCluster(group))
                    .setTypeUrl(CDS)
                    .build());
            return this;
        }

        DiscoveryResponse response() throws Exception {
            return first.get(10, TimeUnit.SECONDS);
        }

        io.grpc.Status.Code refusal() {
            try {
                first.get(10, TimeUnit.SECONDS);
                throw new AssertionError("the stream was served: " + responses);
            } catch (java.util.concurrent.ExecutionException e) {
                return ((StatusRuntimeException) e.getCause()).getStatus().getCode();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    private static String xfcc(String spiffeId) {
        return "By=spiffe://cluster.local/ns/meshguard/sa/meshguard-xds;Hash=0f3a;Subject=\"\";URI=" + spiffeId;
    }

    private double refusals(String reason) {
        return meters.get("meshguard_xds_stream_refusals_total")
                .tag("reason", reason)
                .counter()
                .count();
    }

    @Test
    void stream_withGrantedIdentity_isServedItsGroup() throws Exception {
        start(grants("127.0.0.1", "local=" + GATEWAY));
        DiscoveryResponse r =
                new Stream(List.of(xfcc(GATEWAY))).send("gw-1", "local").response();
        assertThat(r.getResourcesCount()).isPositive();
        NodeStatus node = await().atMost(Duration.ofSeconds(5))
                .until(() -> core.fleet().node("gw-1"), Optional::isPresent)
                .orElseThrow();
        assertThat(node.peerIdentity()).isEqualTo(GATEWAY);
    }

    @Test
    void stream_withoutXfcc_isRefusedUnauthenticated_andCounted() throws Exception {
        start(grants("127.0.0.1", "local=" + GATEWAY));
        assertThat(new Stream(List.of()).send("gw-1", "local").refusal())
                .isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
        assertThat(refusals("unauthenticated")).isEqualTo(1.0);
        assertThat(core.fleet().nodes()).isEmpty();
    }

    @Test
    void stream_claimingAGroupItsIdentityLacks_isRefusedPermissionDenied_andNeverServed() throws Exception {
        start(grants("127.0.0.1", "local=" + GATEWAY));
        Stream s = new Stream(List.of(xfcc(STRANGER))).send("gw-1", "local");
        assertThat(s.refusal()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
        assertThat(s.responses).isEmpty();
        assertThat(refusals("group_not_allowed")).isEqualTo(1.0);
        assertThat(core.fleet().nodes()).isEmpty();
    }

    @Test
    void stream_fromAnAddressThatIsNotTheSidecar_isRefused_evenWithAForgedXfcc() throws Exception {
        // the sidecar speaks from 127.0.0.6; this client connects from 127.0.0.1, around it
        start(grants("127.0.0.6", "local=" + GATEWAY));
        assertThat(new Stream(List.of(xfcc(GATEWAY))).send("gw-1", "local").refusal())
                .isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
        assertThat(refusals("untrusted_proxy")).isEqualTo(1.0);
    }

    @Test
    void stream_withAppendedXfccElements_isRefused() throws Exception {
        start(grants("127.0.0.1", "local=" + GATEWAY));
        // a client-written element in front of the sidecar's (APPEND_FORWARD): never guess which one is real
        assertThat(new Stream(List.of("URI=" + GATEWAY + "," + xfcc(STRANGER)))
                        .send("gw-1", "local")
                        .refusal())
                .isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
        assertThat(new Stream(List.of(xfcc(GATEWAY), xfcc(GATEWAY)))
                        .send("gw-1", "local")
                        .refusal())
                .isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
        assertThat(refusals("unauthenticated")).isEqualTo(2.0);
    }

    @Test
    void stream_switchingToAnotherGroupMidStream_isRefused() throws Exception {
        start(grants("127.0.0.1", "local=" + GATEWAY, "other=" + GATEWAY));
        Stream s = new Stream(List.of(xfcc(GATEWAY))).send("gw-1", "local");
        s.response();
        s.send("gw-1", "payments");
        await().atMost(Duration.ofSeconds(5)).until(() -> refusals("node_changed") == 1.0);
    }

    @Test
    void stranger_reusingARealNodeId_getsItsOwnFleetEntry_andCannotRecordANackForTheRealNode() throws Exception {
        start(grants("127.0.0.1", "local=" + GATEWAY, "local=" + STRANGER));
        new Stream(List.of(xfcc(GATEWAY))).send("gw-1", "local").response();
        Stream stranger = new Stream(List.of(xfcc(STRANGER))).send("gw-1", "local");
        DiscoveryResponse r = stranger.response();
        stranger.requests.onNext(DiscoveryRequest.newBuilder()
                .setTypeUrl(CDS)
                .setResponseNonce(r.getNonce())
                .setErrorDetail(Status.newBuilder().setCode(3).setMessage("forged NACK\n\u001b[31mFAKE LOG LINE"))
                .build());
        await().atMost(Duration.ofSeconds(5)).until(() -> core.fleet()
                .node(new NodeStatus.Key(STRANGER, "gw-1"))
                .flatMap(NodeStatus::lastNack)
                .isPresent());
        NodeStatus real = core.fleet().node(new NodeStatus.Key(GATEWAY, "gw-1")).orElseThrow();
        assertThat(real.lastNack()).isEmpty();
        assertThat(core.fleet().nodes()).hasSize(2);
        // what a client wrote is kept escaped: no raw newline or ESC reaches /fleet or a log
        assertThat(core.fleet()
                        .node(new NodeStatus.Key(STRANGER, "gw-1"))
                        .orElseThrow()
                        .lastNack()
                        .orElseThrow()
                        .error())
                .doesNotContain("\n", "\u001b")
                .contains("\\u000a", "\\u001b");
    }

    /** R4-08: a node-less request would be hashed to xds.default_group, whose grant was never checked. */
    @Test
    void stream_whoseFirstRequestHasNoNode_isRefusedPermissionDenied_evenWithADefaultGroup() throws Exception {
        start(grants("127.0.0.1", "orders=" + STRANGER), Optional.of("local"));
        Stream s = new Stream(List.of(xfcc(STRANGER)));
        s.requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(CDS).build());
        assertThat(s.refusal()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED);
        assertThat(s.responses).isEmpty();
        assertThat(refusals("no_node")).isEqualTo(1.0);
    }

    private static final String EXTAUTHZ = "spiffe://cluster.local/ns/meshguard/sa/meshguard-extauthz";

    /** A subscription-state stream: what it sends, and its first response or refusal. */
    private record StateStream(StreamObserver<DiscoveryRequest> requests, CompletableFuture<DiscoveryResponse> first) {}

    /** The first response (or refusal) of a subscription-state stream of {@code spiffeId} naming {@code group}. */
    private CompletableFuture<DiscoveryResponse> subscriptionState(String spiffeId, String nodeId, String group) {
        return stateStream(spiffeId, nodeId, group).first();
    }

    private StateStream stateStream(String spiffeId, String nodeId, String group) {
        CompletableFuture<DiscoveryResponse> first = new CompletableFuture<>();
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("x-forwarded-client-cert", Metadata.ASCII_STRING_MARSHALLER), xfcc(spiffeId));
        io.grpc.ClientCall<DiscoveryRequest, DiscoveryResponse> call = io.grpc.ClientInterceptors.intercept(
                        channel, MetadataUtils.newAttachHeadersInterceptor(headers))
                .newCall(io.meshguard.contract.subscription.SubscriptionStateWire.STREAM, io.grpc.CallOptions.DEFAULT);
        StreamObserver<DiscoveryRequest> requests =
                io.grpc.stub.ClientCalls.asyncBidiStreamingCall(call, firstResponse(first, r -> {}));
        requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(Node.newBuilder().setId(nodeId).setCluster(group))
                .setTypeUrl(io.meshguard.contract.subscription.SubscriptionStateWire.TYPE_URL)
                .build());
        return new StateStream(requests, first);
    }

    /**
     * R4-07: the subscription state holds every tenant's catalogue; a gateway's identity, granted its own group, is
     * refused it, and only a stream of group meshguard-extauthz with that group's grant is served.
     */
    @Test
    void subscriptionState_toAGatewayIdentityNamingItsOwnGroup_isRefused_andServedOnlyToExtauthz() throws Exception {
        start(grants("127.0.0.1", "local=" + GATEWAY, "meshguard-extauthz=" + EXTAUTHZ));
        core.subscriptionState().publish(io.meshguard.catalogmodel.SubscriptionSnapshot.empty(7));
        CompletableFuture<DiscoveryResponse> gateway = subscriptionState(GATEWAY, "gw-1", "local");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> gateway.get(10, TimeUnit.SECONDS)))
                .as("a gateway stream")
                .hasCauseInstanceOf(StatusRuntimeException.class)
                .cause()
                .hasMessageContaining("PERMISSION_DENIED");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() ->
                        subscriptionState(GATEWAY, "gw-1", "meshguard-extauthz").get(10, TimeUnit.SECONDS)))
                .as("a gateway naming extauthz's group without its grant")
                .hasMessageContaining("PERMISSION_DENIED");
        DiscoveryResponse served =
                subscriptionState(EXTAUTHZ, "extauthz-0", "meshguard-extauthz").get(10, TimeUnit.SECONDS);
        assertThat(served.getVersionInfo()).isEqualTo("7");
    }

    /** The first response (or refusal) of a delta subscription-state stream of {@code spiffeId} naming {@code group}. */
    private CompletableFuture<io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse> deltaSubscriptionState(
            String spiffeId, String nodeId, String group) {
        var first = new CompletableFuture<io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse>();
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("x-forwarded-client-cert", Metadata.ASCII_STRING_MARSHALLER), xfcc(spiffeId));
        var call = io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers))
                .newCall(io.meshguard.contract.subscription.SubscriptionStateWire.DELTA, io.grpc.CallOptions.DEFAULT);
        var requests = io.grpc.stub.ClientCalls.asyncBidiStreamingCall(call, firstResponse(first, r -> {}));
        requests.onNext(io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest.newBuilder()
                .setNode(Node.newBuilder().setId(nodeId).setCluster(group))
                .setTypeUrl(io.meshguard.contract.subscription.SubscriptionStateWire.TYPE_URL)
                .build());
        return first;
    }

    /** R4-07 on the delta method: the same grant decides, a gateway identity gets no tenant's resource. */
    @Test
    void deltaSubscriptionState_toAGatewayIdentity_isRefused_andServedOnlyToExtauthz() throws Exception {
        start(grants("127.0.0.1", "local=" + GATEWAY, "meshguard-extauthz=" + EXTAUTHZ));
        core.subscriptionState().publish(io.meshguard.catalogmodel.SubscriptionSnapshot.empty(7));
        assertThat(org.assertj.core.api.Assertions.catchThrowable(
                        () -> deltaSubscriptionState(GATEWAY, "gw-1", "local").get(10, TimeUnit.SECONDS)))
                .as("a gateway stream")
                .hasMessageContaining("PERMISSION_DENIED");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(
                        () -> deltaSubscriptionState(GATEWAY, "gw-1", "meshguard-extauthz")
                                .get(10, TimeUnit.SECONDS)))
                .as("a gateway naming extauthz's group without its grant")
                .hasMessageContaining("PERMISSION_DENIED");
        var served = deltaSubscriptionState(EXTAUTHZ, "extauthz-0", "meshguard-extauthz")
                .get(10, TimeUnit.SECONDS);
        assertThat(served.getResourcesList()).isNotEmpty();
    }

    /** A replica is known by its verified identity with its node id: another identity's stream never stands for it. */
    @Test
    void subscriptionState_replicas_areKeyedByVerifiedIdentityAndNodeId() throws Exception {
        start(grants("127.0.0.1", "meshguard-extauthz=" + EXTAUTHZ));
        core.subscriptionState().publish(io.meshguard.catalogmodel.SubscriptionSnapshot.empty(3));
        StateStream s = stateStream(EXTAUTHZ, "extauthz-0", "meshguard-extauthz");
        DiscoveryResponse r = s.first().get(10, TimeUnit.SECONDS);
        s.requests()
                .onNext(DiscoveryRequest.newBuilder()
                        .setTypeUrl(r.getTypeUrl())
                        .setVersionInfo(r.getVersionInfo())
                        .setResponseNonce(r.getNonce())
                        .build());
        await().atMost(Duration.ofSeconds(5))
                .until(() -> !core.subscriptionState().replicas().isEmpty());
        assertThat(core.subscriptionState().replicas()).containsOnlyKeys("extauthz-0 (" + EXTAUTHZ + ")");
    }

    @Test
    void localDevelopment_refusesANonLoopbackBind() {
        AdsPeerPolicy local = AdsPeerPolicy.localDevelopment();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> local.checkBind(new InetSocketAddress("0.0.0.0", 0)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("loopback");
        local.checkBind(new InetSocketAddress("127.0.0.1", 0));
        assertThat(local.describe()).contains("LOCAL DEVELOPMENT");
    }
}
