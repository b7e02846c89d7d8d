package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.DenyReason;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.db.TenantScope;
import io.meshguard.extauthz.subscription.SubscriptionStateClient;
import io.meshguard.testing.CatalogSamples;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.OpenResources;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.store.PgRevisionStore;
import io.meshguard.xds.subscription.PaymentsCatalogue;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review 4, R4-02: a zone carries the catalogue's subscription state and serves it to its cluster's extauthz
 * replicas. Central (its production {@link ZoneCentral}, catalogue feed included) and a zone controller on loopback,
 * an extauthz replica's real {@link SubscriptionStateClient} following the zone's ADS port: a subscribed key is
 * admitted through the zone, a suspension reaches it, and with central stopped the zone keeps serving the state, also
 * after it restarted from its state directory.
 */
@IntegrationTest
class ZoneSubscriptionStateTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final TenantScope ACME = PaymentsCatalogue.ACME;
    static final String KEY = "initech000000001";
    static final String PUBLISH = "payments-dev-seoul";

    @TempDir
    Path tmp;

    @AutoClose
    final OpenResources open = new OpenResources();

    private <T extends AutoCloseable> T opened(T c) {
        open.add(c);
        return c;
    }

    /** acme sells payments in cluster seoul; initech's application subscribes with an API key. Returns its id. */
    private static String catalogue(CatalogStore store) {
        PaymentsCatalogue.seed(PG.dsl(), store, "seoul", "kr-seoul", "seoul-gw");
        PaymentsCatalogue.initechApiKey(PG.dsl(), KEY);
        TenantScope initech = PaymentsCatalogue.INITECH;
        String subscription =
                store.subscribe(initech, "app", PUBLISH, "payments-free", "ina").id();
        store.addCredential(initech, CatalogSamples.activeApiKey(KEY));
        return subscription;
    }

    private ZoneController zone(String central, Optional<String> token, Path state) throws Exception {
        return opened(ZoneTestbed.started(
                ZoneSettings.loopback("seoul", central, token, state, ZoneTestbed.FAST.echoInterval())));
    }

    /** An extauthz replica of the zone's cluster, following the zone controller's ADS port. */
    private SubscriptionStateClient replica(ZoneController zone, String name) {
        ManagedChannel channel = LoopbackGrpc.channelTo(zone.adsPort());
        open.add(channel::shutdownNow);
        return opened(new SubscriptionStateClient(channel, name, Duration.ofSeconds(10), Clock.systemUTC()).start());
    }

    private static Optional<Object> decision(SubscriptionStateClient replica) {
        return replica.current().map(s -> {
            AccessDecision d = s.decide(PUBLISH, AuthMode.APIKEY, KEY, Instant.now());
            return d instanceof AccessDecision.Denied denied
                    ? denied.reason()
                    : d.getClass().getSimpleName();
        });
    }

    @Test
    void zoneServesSubscriptionState_admitsTheSubscribedKey_followsSuspension_andKeepsItWithCentralStopped()
            throws Exception {
        CatalogStore store = new CatalogStore(PG.dataSource());
        String subscription = catalogue(store);
        ZoneCentral central = opened(new ZoneCentral(
                PG.dataSource(),
                new PgRevisionStore(PG.dataSource()),
                new SimpleMeterRegistry(),
                new InetSocketAddress("127.0.0.1", 0),
                ZoneTestbed.FAST,
                Duration.ofHours(1)));
        central.start();
        String token = central.hub()
                .registry()
                .issue("seoul", Duration.ofHours(1), "test")
                .secret();
        Path state = tmp.resolve("seoul");
        ZoneController zone = zone("127.0.0.1:" + central.port(), Optional.of(token), state);
        SubscriptionStateClient replica = replica(zone, "zone-extauthz-0");

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(decision(replica)).contains("Granted"));

        store.moveSubscription(
                ACME, CatalogStore.Side.PROVIDER, subscription, SubscriptionState.SUSPENDED, "bob", "unpaid invoice");
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(decision(replica)).contains(DenyReason.SUBSCRIPTION_SUSPENDED));

        open.closeNow(central);
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(zone.link().connected()).isFalse());
        Thread.sleep(500);
        assertThat(decision(replica))
                .as("central away: the zone still serves")
                .contains(DenyReason.SUBSCRIPTION_SUSPENDED);

        // restarted while central is away: served from the state directory
        open.closeNow(zone);
        ZoneController restarted = zone("127.0.0.1:1", Optional.empty(), state);
        SubscriptionStateClient fresh = replica(restarted, "zone-extauthz-1");
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(decision(fresh)).contains(DenyReason.SUBSCRIPTION_SUSPENDED));
    }
}
