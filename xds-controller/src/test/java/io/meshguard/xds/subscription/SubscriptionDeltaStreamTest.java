package io.meshguard.xds.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.Reason;
import io.meshguard.authz.subscription.SubscriptionGate;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.SnapshotMessage;
import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.DenyReason;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.SharedCatalog;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.catalogmodel.TenantHoldings;
import io.meshguard.contract.subscription.SubscriptionStateWire;
import io.meshguard.db.TenantScope;
import io.meshguard.extauthz.subscription.SubscriptionStateClient;
import io.meshguard.testing.CatalogSamples;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.StreamSink;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The delta subscription-state stream over real gRPC on loopback: the first response holds the shared resource and
 * every tenant, a suspension in PostgreSQL sends its tenant's resource alone, a tenant whose last row goes is named
 * in removed_resources, a reconnect is told what is gone, ACKs and NACKs are recorded per replica, and a replica given
 * a resource it cannot decide from NACKs it and keeps its last good state (with no state at all, it refuses).
 */
@IntegrationTest
class SubscriptionDeltaStreamTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final TenantScope ACME = PaymentsCatalogue.ACME;
    static final TenantScope INITECH = PaymentsCatalogue.INITECH;
    static final String CREDENTIAL = "initech000000001";

    static CatalogStore store;
    static SubscriptionStateService service;
    static CatalogSnapshotFeed feed;
    static Server server;
    static ManagedChannel channel;
    static String subscription;

    @BeforeAll
    static void start() throws Exception {
        store = new CatalogStore(PG.dataSource());
        PaymentsCatalogue.seed(PG.dsl(), store, "local", "local", "local");
        PaymentsCatalogue.initechApiKey(PG.dsl(), CREDENTIAL);
        subscription = store.subscribe(INITECH, "app", "payments-dev-local", "payments-free", "ina")
                .id();
        store.addCredential(INITECH, CatalogSamples.activeApiKey(CREDENTIAL));
        service = new SubscriptionStateService();
        server = NettyServerBuilder.forPort(0).addService(service).build().start();
        feed = new CatalogSnapshotFeed(PG.dataSource(), store, service, Duration.ofSeconds(30)).start();
        channel = LoopbackGrpc.channelTo(server.getPort());
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow();
        feed.close();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void suspension_sendsOnlyItsTenantsResource_afterAFirstResponseOfEveryResource() throws Exception {
        try (RawDeltaStream stream = new RawDeltaStream(channel, "raw-suspension", Map.of())) {
            DeltaDiscoveryResponse first = stream.next();
            assertThat(names(first)).contains("shared", "tenant/initech");
            assertThat(first.getRemovedResourcesList()).isEmpty();
            stream.ack(first);

            store.moveSubscription(
                    ACME, CatalogStore.Side.PROVIDER, subscription, SubscriptionState.SUSPENDED, "bob", "unpaid");
            DeltaDiscoveryResponse change = stream.next();
            assertThat(names(change))
                    .as("the shared publishes and plans did not change")
                    .containsExactly("tenant/initech");
            assertThat(change.getSystemVersionInfo()).isNotEqualTo(first.getSystemVersionInfo());
            TenantHoldings initech =
                    SnapshotMessage.readTenant("initech", change.getResources(0).getResource());
            assertThat(initech.subscriptions())
                    .singleElement()
                    .extracting(Subscription::state)
                    .isEqualTo(SubscriptionState.SUSPENDED);
            stream.ack(change);

            store.moveSubscription(
                    ACME, CatalogStore.Side.PROVIDER, subscription, SubscriptionState.ACTIVE, "bob", "paid");
            assertThat(names(stream.next())).containsExactly("tenant/initech");
        }
    }

    @Test
    void acks_andNacks_areRecordedPerReplica_aNackKeepingTheLastAckedVersion() throws Exception {
        try (RawDeltaStream stream = new RawDeltaStream(channel, "raw-acks", Map.of())) {
            DeltaDiscoveryResponse first = stream.next();
            stream.ack(first);
            long acked = Long.parseLong(first.getSystemVersionInfo());
            await().atMost(10, TimeUnit.SECONDS)
                    .untilAsserted(() -> assertThat(service.replicas().get("raw-acks"))
                            .isEqualTo(new SubscriptionStateService.ReplicaState(
                                    "raw-acks", Optional.of(acked), Optional.empty())));

            store.moveSubscription(
                    ACME, CatalogStore.Side.PROVIDER, subscription, SubscriptionState.SUSPENDED, "bob", "unpaid");
            stream.nack(stream.next(), "cannot decide");
            await().atMost(10, TimeUnit.SECONDS)
                    .untilAsserted(() -> assertThat(service.replicas().get("raw-acks"))
                            .isEqualTo(new SubscriptionStateService.ReplicaState(
                                    "raw-acks", Optional.of(acked), Optional.of("cannot decide"))));
            store.moveSubscription(
                    ACME, CatalogStore.Side.PROVIDER, subscription, SubscriptionState.ACTIVE, "bob", "paid");
            stream.ack(stream.next());
        }
    }

    @Test
    void tenantsLastRowRemoved_isNamedInRemovedResources_andEveryReplicaStopsGrantingIt() throws Exception {
        SubscriptionStateService own = new SubscriptionStateService();
        Server ownServer = NettyServerBuilder.forPort(0).addService(own).build().start();
        ManagedChannel ch = LoopbackGrpc.channelTo(ownServer.getPort());
        SubscriptionSnapshot both = twoTenants(1);
        own.publish(both);
        try (RawDeltaStream stream = new RawDeltaStream(ch, "raw-removal", Map.of());
                SubscriptionStateClient delta =
                        new SubscriptionStateClient(ch, "delta", Duration.ofSeconds(10), Clock.systemUTC()).start();
                SubscriptionStateClient sotw = new SubscriptionStateClient(
                                ch,
                                "sotw",
                                Duration.ofSeconds(10),
                                Clock.systemUTC(),
                                SubscriptionStateClient.Protocol.STATE_OF_THE_WORLD)
                        .start()) {
            assertThat(names(stream.next())).containsExactlyInAnyOrder("shared", "tenant/initech", "tenant/globex");
            await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(List.of(delta, sotw))
                    .allSatisfy(r -> assertThat(decide(r, "globex-key")).isInstanceOf(AccessDecision.Granted.class)));

            // globex's last application, credential and subscription are gone: its resource is removed, not emptied
            own.publish(both.with(2, Optional.empty(), Map.of("globex", Optional.empty())));
            DeltaDiscoveryResponse removal = stream.next();
            assertThat(removal.getResourcesList()).isEmpty();
            assertThat(removal.getRemovedResourcesList()).containsExactly("tenant/globex");
            await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(List.of(delta, sotw))
                    .allSatisfy(r -> assertThat(decide(r, "globex-key"))
                            .isEqualTo(new AccessDecision.Denied(
                                    DenyReason.NO_SUBSCRIPTION, "credential has no subscription"))));
            assertThat(List.of(delta, sotw))
                    .as("the other tenant is untouched")
                    .allSatisfy(r -> assertThat(decide(r, "initech-key")).isInstanceOf(AccessDecision.Granted.class));
            assertThat(delta.current().orElseThrow().tenants()).containsOnlyKeys("initech");
        } finally {
            ch.shutdownNow();
            ownServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void reconnect_receivesEveryResource_andRemovalsOfWhatItHeldThatIsGone() throws Exception {
        SubscriptionStateService own = new SubscriptionStateService();
        Server ownServer = NettyServerBuilder.forPort(0).addService(own).build().start();
        ManagedChannel ch = LoopbackGrpc.channelTo(ownServer.getPort());
        own.publish(twoTenants(5));
        try (RawDeltaStream stream =
                new RawDeltaStream(ch, "raw-reconnect", Map.of("tenant/initech", "4", "tenant/bankrupt", "3"))) {
            DeltaDiscoveryResponse first = stream.next();
            assertThat(names(first)).containsExactlyInAnyOrder("shared", "tenant/initech", "tenant/globex");
            assertThat(first.getRemovedResourcesList()).containsExactly("tenant/bankrupt");
            assertThat(first.getSystemVersionInfo()).isEqualTo("5");
        } finally {
            ch.shutdownNow();
            ownServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void malformedResource_isNacked_andTheReplicaKeepsDecidingFromItsLastGoodState() throws Exception {
        SubscriptionSnapshot good = twoTenants(1);
        Resource shared = resource("shared", "1", SnapshotMessage.sharedResource(1, good.shared()));
        Resource initech = resource(
                "tenant/initech",
                "1",
                SnapshotMessage.tenantResource(1, good.tenants().get("initech")));
        // a tenant's resource whose bytes are no SubscriptionState, one naming another tenant, and removing the shared
        // publishes and plans: none can be decided from
        Resource garbage = resource(
                "tenant/initech",
                "2",
                Any.newBuilder()
                        .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                        .setValue(ByteString.copyFromUtf8("not protobuf \u0000\u0001\u00ff"))
                        .build());
        Resource misnamed = resource(
                "tenant/initech",
                "3",
                SnapshotMessage.tenantResource(3, good.tenants().get("globex")));
        List<DeltaDiscoveryRequest> requests = new CopyOnWriteArrayList<>();
        Server hostile = deltaServer(
                requests,
                List.of(
                        response("1", "n1", List.of(shared, initech), List.of()),
                        response("2", "n2", List.of(garbage), List.of()),
                        response("3", "n3", List.of(misnamed), List.of()),
                        response("4", "n4", List.of(), List.of("shared"))));
        ManagedChannel ch = LoopbackGrpc.channelTo(hostile.getPort());
        try (SubscriptionStateClient r =
                new SubscriptionStateClient(ch, "r", Duration.ofSeconds(10), Clock.systemUTC()).start()) {
            await().atMost(10, TimeUnit.SECONDS).until(() -> requests.size() >= 5);
            assertThat(requests.get(0).getResourceNamesSubscribeList()).containsExactly("*");
            assertThat(requests.get(1).getResponseNonce()).isEqualTo("n1");
            assertThat(requests.get(1).hasErrorDetail()).as("ACK").isFalse();
            assertThat(requests.get(2).getResponseNonce()).isEqualTo("n2");
            assertThat(requests.get(2).getErrorDetail().getMessage())
                    .startsWith("the resource is not a SubscriptionState message");
            assertThat(requests.get(3).getResponseNonce()).isEqualTo("n3");
            assertThat(requests.get(3).getErrorDetail().getMessage())
                    .isEqualTo("tenant initech's resource holds another tenant or none");
            assertThat(requests.get(4).getResponseNonce()).isEqualTo("n4");
            assertThat(requests.get(4).getErrorDetail().getMessage()).isEqualTo("resource shared cannot be removed");
            assertThat(r.current().orElseThrow().version()).isEqualTo(1L);
            assertThat(decide(r, "initech-key")).isInstanceOf(AccessDecision.Granted.class);
        } finally {
            ch.shutdownNow();
            hostile.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void replicaWithoutTheSharedResource_nacksAndRefusesProductRoutes() throws Exception {
        SubscriptionSnapshot good = twoTenants(1);
        Resource initech = resource(
                "tenant/initech",
                "1",
                SnapshotMessage.tenantResource(1, good.tenants().get("initech")));
        List<DeltaDiscoveryRequest> requests = new CopyOnWriteArrayList<>();
        Server hostile = deltaServer(requests, List.of(response("1", "n1", List.of(initech), List.of())));
        ManagedChannel ch = LoopbackGrpc.channelTo(hostile.getPort());
        try (SubscriptionStateClient r =
                new SubscriptionStateClient(ch, "r", Duration.ofSeconds(10), Clock.systemUTC()).start()) {
            await().atMost(10, TimeUnit.SECONDS).until(() -> requests.size() >= 2);
            assertThat(requests.get(1).getErrorDetail().getMessage())
                    .isEqualTo("the first state carries no shared resource");
            assertThat(r.current()).isEmpty();
            SubscriptionGate gate = new SubscriptionGate(r::current, Clock.systemUTC());
            SubscriptionGate.Verdict verdict = gate.check(
                    Map.of(io.meshguard.contract.RouteContract.AuthzContext.PRODUCT_PUBLISH, "payments-dev-local"),
                    new Identity(
                            "initech-key",
                            Optional.of("initech"),
                            List.of(),
                            List.of(),
                            Optional.empty(),
                            "apikey",
                            "apikey",
                            Optional.empty(),
                            Optional.of("initech-key")));
            assertThat(verdict)
                    .isInstanceOfSatisfying(SubscriptionGate.Refusal.class, refusal -> assertThat(refusal.reason())
                            .isEqualTo(Reason.SUBSCRIPTION_STATE_UNAVAILABLE));
        } finally {
            ch.shutdownNow();
            hostile.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Publish payments-dev-local on plan payments-free; initech and globex each hold an application, key and subscription. */
    private static SubscriptionSnapshot twoTenants(long version) {
        Plan plan = CatalogSamples.freePlan("payments-free", "payments", PlanState.PUBLISHED);
        ProductPublish publish = CatalogSamples.paymentsDevPublish(new PublishHost("example.test"));
        return new SubscriptionSnapshot(
                version,
                new SharedCatalog(List.of(publish), List.of(plan)),
                List.of(holdings("initech"), holdings("globex")));
    }

    private static TenantHoldings holdings(String tenant) {
        String app = tenant + "-app";
        return new TenantHoldings(
                tenant,
                List.of(new Application(app, tenant, "App", ApplicationState.ACTIVE)),
                List.of(CatalogSamples.activeApiKey(tenant + "-key", app)),
                List.of(new Subscription(
                        tenant + "-sub", app, "payments-dev-local", "payments-free", SubscriptionState.ACTIVE)));
    }

    private static AccessDecision decide(SubscriptionStateClient replica, String credential) {
        return replica.current().orElseThrow().decide("payments-dev-local", AuthMode.APIKEY, credential, Instant.now());
    }

    private static List<String> names(DeltaDiscoveryResponse response) {
        return response.getResourcesList().stream().map(Resource::getName).toList();
    }

    private static Resource resource(String name, String version, Any body) {
        return Resource.newBuilder()
                .setName(name)
                .setVersion(version)
                .setResource(body)
                .build();
    }

    private static DeltaDiscoveryResponse response(
            String version, String nonce, List<Resource> resources, List<String> removed) {
        return DeltaDiscoveryResponse.newBuilder()
                .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                .setSystemVersionInfo(version)
                .setNonce(nonce)
                .addAllResources(resources)
                .addAllRemovedResources(removed)
                .build();
    }

    /** A delta server that answers each request with the next of {@code responses} and records the requests. */
    private static Server deltaServer(List<DeltaDiscoveryRequest> requests, List<DeltaDiscoveryResponse> responses)
            throws java.io.IOException {
        ServerServiceDefinition def = ServerServiceDefinition.builder(SubscriptionStateWire.SERVICE)
                .addMethod(
                        SubscriptionStateWire.DELTA,
                        ServerCalls.asyncBidiStreamingCall((StreamObserver<DeltaDiscoveryResponse> out) ->
                                new StreamObserver<DeltaDiscoveryRequest>() {
                                    @Override
                                    public void onNext(DeltaDiscoveryRequest request) {
                                        requests.add(request);
                                        if (requests.size() <= responses.size()) {
                                            out.onNext(responses.get(requests.size() - 1));
                                        }
                                    }

                                    @Override
                                    public void onError(Throwable t) {}

                                    @Override
                                    public void onCompleted() {
                                        out.onCompleted();
                                    }
                                }))
                .build();
        return NettyServerBuilder.forPort(0).addService(def).build().start();
    }

    /** A replica's delta stream driven message by message, as Envoy's incremental xDS client would. */
    private static final class RawDeltaStream implements AutoCloseable {
        private final BlockingQueue<DeltaDiscoveryResponse> responses = new LinkedBlockingQueue<>();
        private final StreamObserver<DeltaDiscoveryRequest> requests;

        RawDeltaStream(ManagedChannel channel, String node, Map<String, String> initial) {
            requests = ClientCalls.asyncBidiStreamingCall(
                    channel.newCall(SubscriptionStateWire.DELTA, CallOptions.DEFAULT), StreamSink.into(responses));
            requests.onNext(DeltaDiscoveryRequest.newBuilder()
                    .setNode(Node.newBuilder().setId(node).setCluster(SubscriptionStateService.GROUP))
                    .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                    .addResourceNamesSubscribe("*")
                    .putAllInitialResourceVersions(initial)
                    .build());
        }

        DeltaDiscoveryResponse next() throws InterruptedException {
            DeltaDiscoveryResponse r = responses.poll(10, TimeUnit.SECONDS);
            assertThat(r).as("a response within 10 s").isNotNull();
            return r;
        }

        void ack(DeltaDiscoveryResponse r) {
            requests.onNext(DeltaDiscoveryRequest.newBuilder()
                    .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                    .setResponseNonce(r.getNonce())
                    .build());
        }

        void nack(DeltaDiscoveryResponse r, String error) {
            requests.onNext(DeltaDiscoveryRequest.newBuilder()
                    .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                    .setResponseNonce(r.getNonce())
                    .setErrorDetail(Status.newBuilder().setCode(3).setMessage(error))
                    .build());
        }

        @Override
        public void close() {
            requests.onCompleted();
        }
    }
}
