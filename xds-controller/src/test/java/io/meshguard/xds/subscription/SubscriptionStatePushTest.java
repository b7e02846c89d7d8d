package io.meshguard.xds.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.SnapshotMessage;
import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.DenyReason;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.contract.subscription.SubscriptionStateWire;
import io.meshguard.contract.subscription.v1.SubscriptionStateProto;
import io.meshguard.db.TenantScope;
import io.meshguard.extauthz.subscription.SubscriptionStateClient;
import io.meshguard.testing.CatalogSamples;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.PostgresExtension;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Subscription state from PostgreSQL to extauthz replicas over real gRPC on loopback: three replicas follow a
 * suspension, each ACK is recorded, a replica cut off past its staleness bound stops deciding, and a snapshot a
 * replica cannot read is NACKed while it keeps the previous one.
 */
@IntegrationTest
class SubscriptionStatePushTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final TenantScope ACME = PaymentsCatalogue.ACME;
    static final TenantScope INITECH = PaymentsCatalogue.INITECH;

    static CatalogStore store;
    static SubscriptionStateService service;
    static CatalogSnapshotFeed feed;
    static Server server;
    static final List<ManagedChannel> channels = new ArrayList<>();
    static final List<SubscriptionStateClient> replicas = new ArrayList<>();
    static String subscription;

    @BeforeAll
    static void start() throws Exception {
        store = new CatalogStore(PG.dataSource());
        PaymentsCatalogue.seed(PG.dsl(), store, "local", "local", "local");
        PaymentsCatalogue.initechApiKey(PG.dsl(), "initech000000001");
        subscription = store.subscribe(INITECH, "app", "payments-dev-local", "payments-free", "ina")
                .id();
        store.addCredential(INITECH, CatalogSamples.activeApiKey("initech000000001"));

        service = new SubscriptionStateService();
        server = NettyServerBuilder.forPort(0).addService(service).build().start();
        feed = new CatalogSnapshotFeed(PG.dataSource(), store, service, Duration.ofSeconds(30)).start();
        for (int i = 0; i < 3; i++) {
            ManagedChannel ch = LoopbackGrpc.channelTo(server.getPort());
            channels.add(ch);
            replicas.add(new SubscriptionStateClient(ch, "extauthz-" + i, Duration.ofSeconds(10), Clock.systemUTC())
                    .start());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        replicas.forEach(SubscriptionStateClient::close);
        channels.forEach(ManagedChannel::shutdownNow);
        feed.close();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static Optional<DenyReason> decision(SubscriptionStateClient replica) {
        return replica.current()
                .map(s -> s.decide("payments-dev-local", AuthMode.APIKEY, "initech000000001", Instant.now()))
                .map(d -> d instanceof AccessDecision.Denied denied ? denied.reason() : null);
    }

    @Test
    void suspension_reachesEveryReplica_andEachAcksTheVersionItHolds() {
        await().atMost(10, TimeUnit.SECONDS)
                .untilAsserted(() -> assertThat(replicas).allSatisfy(r -> assertThat(r.current()
                                .map(s -> s.decide(
                                        "payments-dev-local", AuthMode.APIKEY, "initech000000001", Instant.now())))
                        .get()
                        .isInstanceOf(AccessDecision.Granted.class)));

        store.moveSubscription(
                ACME, CatalogStore.Side.PROVIDER, subscription, SubscriptionState.SUSPENDED, "bob", "unpaid invoice");
        await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(replicas)
                .allSatisfy(r -> assertThat(decision(r)).contains(DenyReason.SUBSCRIPTION_SUSPENDED)));
        long version = replicas.get(0).current().orElseThrow().version();
        await().atMost(10, TimeUnit.SECONDS)
                .untilAsserted(() -> assertThat(service.replicas().values())
                        .filteredOn(s -> s.replica().startsWith("extauthz-"))
                        .hasSize(3)
                        .allSatisfy(s -> assertThat(s.ackedVersion().orElse(0L)).isGreaterThanOrEqualTo(version)));

        store.moveSubscription(ACME, CatalogStore.Side.PROVIDER, subscription, SubscriptionState.ACTIVE, "bob", "paid");
        await().atMost(10, TimeUnit.SECONDS)
                .untilAsserted(() -> assertThat(replicas).allSatisfy(r -> assertThat(r.current()
                                .map(s -> s.decide(
                                        "payments-dev-local", AuthMode.APIKEY, "initech000000001", Instant.now())))
                        .get()
                        .isInstanceOf(AccessDecision.Granted.class)));
    }

    @Test
    void replicaCutOff_pastItsStalenessBound_decidesNothing() throws Exception {
        MovableClock clock = new MovableClock(Instant.now());
        Server own = NettyServerBuilder.forPort(0).addService(service).build().start();
        ManagedChannel ch = LoopbackGrpc.channelTo(own.getPort());
        try (SubscriptionStateClient r = new SubscriptionStateClient(ch, "isolated", Duration.ofSeconds(10), clock)) {
            // asked before the stream opens: the first snapshot can arrive within milliseconds of start()
            assertThat(r.current()).as("no snapshot yet").isEmpty();
            r.start();
            await().atMost(10, TimeUnit.SECONDS).until(() -> r.current().isPresent());
            own.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> {
                clock.advance(Duration.ofSeconds(11));
                assertThat(r.current()).isEmpty();
            });
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void resourceOfAnotherType_orUndecidableState_isNacked_andThePreviousOneKept() throws Exception {
        List<DiscoveryRequest> requests = new CopyOnWriteArrayList<>();
        SubscriptionSnapshot good = SubscriptionSnapshot.empty(7);
        // what a controller of the release before sends: the JSON snapshot inside a Struct
        Any struct = Any.pack(Struct.newBuilder()
                .putFields("version", Value.newBuilder().setNumberValue(8).build())
                .build());
        // the right type, but a subscription on a plan the state does not hold: nothing to decide its limits from
        Any undecidable = Any.pack(SubscriptionStateProto.SubscriptionState.newBuilder()
                .setVersion(9)
                .addTenants(SubscriptionStateProto.TenantState.newBuilder()
                        .setTenant("initech")
                        .addSubscriptions(SubscriptionStateProto.Subscription.newBuilder()
                                .setId("s1")
                                .setApplicationId("app")
                                .setPublishId("pub")
                                .setPlanId("gone")
                                .setState(SubscriptionStateProto.Subscription.State.STATE_ACTIVE)))
                .build());
        SubscriptionSnapshot next = new SubscriptionSnapshot(
                10,
                List.of(),
                List.of(),
                List.of(new Application("app", "initech", "App", ApplicationState.SUSPENDED)),
                List.of(),
                List.of());
        ServerServiceDefinition hostile = ServerServiceDefinition.builder(SubscriptionStateWire.SERVICE)
                .addMethod(
                        SubscriptionStateWire.STREAM,
                        ServerCalls.asyncBidiStreamingCall(
                                (StreamObserver<DiscoveryResponse> out) -> new StreamObserver<DiscoveryRequest>() {
                                    @Override
                                    public void onNext(DiscoveryRequest request) {
                                        requests.add(request);
                                        switch (requests.size()) {
                                            case 1 -> out.onNext(response("7", "n1", SnapshotMessage.resource(good)));
                                            case 2 -> out.onNext(response("8", "n2", struct));
                                            case 3 -> out.onNext(response("9", "n3", undecidable));
                                            case 4 -> out.onNext(response("10", "n4", SnapshotMessage.resource(next)));
                                            default -> {}
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
        Server own = NettyServerBuilder.forPort(0).addService(hostile).build().start();
        ManagedChannel ch = LoopbackGrpc.channelTo(own.getPort());
        try (SubscriptionStateClient r =
                new SubscriptionStateClient(ch, "r", Duration.ofSeconds(10), Clock.systemUTC()).start()) {
            await().atMost(10, TimeUnit.SECONDS).until(() -> requests.size() >= 3);
            assertThat(requests.get(1).getVersionInfo()).as("ACK").isEqualTo("7");
            assertThat(requests.get(1).hasErrorDetail()).isFalse();
            DiscoveryRequest nack = requests.get(2);
            assertThat(nack.getResponseNonce()).isEqualTo("n2");
            assertThat(nack.getVersionInfo())
                    .as("a NACK names the version still applied")
                    .isEqualTo("7");
            assertThat(nack.getErrorDetail().getMessage())
                    .isEqualTo("resource type_url type.googleapis.com/google.protobuf.Struct, expected "
                            + SubscriptionStateWire.TYPE_URL);
            await().atMost(10, TimeUnit.SECONDS).until(() -> requests.size() >= 4);
            DiscoveryRequest undecided = requests.get(3);
            assertThat(undecided.getResponseNonce()).isEqualTo("n3");
            assertThat(undecided.getVersionInfo()).isEqualTo("7");
            assertThat(undecided.getErrorDetail().getMessage()).isEqualTo("subscription s1 names unknown plan gone");
            await().atMost(10, TimeUnit.SECONDS).until(() -> requests.size() >= 5);
            assertThat(requests.get(4).getVersionInfo()).as("ACK after NACKs").isEqualTo("10");
            assertThat(requests.get(4).hasErrorDetail()).isFalse();
            // the replica decides from the typed state it accepted last
            SubscriptionSnapshot held = r.current().orElseThrow();
            assertThat(held.version()).isEqualTo(10L);
            assertThat(held.applications())
                    .singleElement()
                    .extracting(Application::state)
                    .isEqualTo(ApplicationState.SUSPENDED);
        } finally {
            ch.shutdownNow();
            own.shutdownNow();
        }
    }

    private static DiscoveryResponse response(String version, String nonce, Any resource) {
        return DiscoveryResponse.newBuilder()
                .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                .setVersionInfo(version)
                .setNonce(nonce)
                .addResources(resource)
                .build();
    }
}
