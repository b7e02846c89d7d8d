package io.meshguard.xds.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.catalog.Application;
import io.meshguard.catalog.ApplicationState;
import io.meshguard.catalog.AuthMode;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.Cluster;
import io.meshguard.catalog.Environment;
import io.meshguard.catalog.Plan;
import io.meshguard.catalog.PlanLimits;
import io.meshguard.catalog.PlanState;
import io.meshguard.catalog.Product;
import io.meshguard.catalog.ProductState;
import io.meshguard.catalog.PublishState;
import io.meshguard.catalog.SubscriptionSnapshot;
import io.meshguard.db.TenantScope;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The subscription state's version moves only when its content does: the feed rebuilds on every notification, when
 * its listener (re)connects and on its resync, and an unchanged catalogue must not hand replicas and zones a new
 * version (an operator compares versions across replicas and zones; a zone kept through a central outage must show
 * the version it had).
 */
@IntegrationTest
class CatalogSnapshotVersionTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final TenantScope ACME = TenantScope.of(Set.of("acme"));
    static final TenantScope INITECH = TenantScope.of(Set.of("initech"));

    @Test
    void rebuildsOfAnUnchangedCatalogue_keepTheVersion_andAChangeMovesIt() {
        CatalogStore store = new CatalogStore(PG.dataSource());
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('initech')");
        PG.dsl().execute("insert into api (name, tenant) values ('payments-api', 'acme')");
        store.putCluster(new Cluster("local", "local", Optional.empty(), Set.of()), Map.of("local", Set.of("acme")));
        store.createProduct(
                ACME,
                new Product(
                        "payments",
                        "acme",
                        "Payments",
                        "1",
                        Optional.empty(),
                        List.of(),
                        Optional.empty(),
                        Product.Visibility.PUBLIC,
                        ProductState.DRAFT,
                        List.of(new Product.Operation("charge", "payments-api", "POST", "/charges"))),
                "alice");
        store.moveProduct(ACME, "payments", ProductState.PUBLISHED, "alice");
        store.createPlan(
                ACME,
                new Plan(
                        "payments-free",
                        "payments",
                        "free",
                        PlanState.STAGING,
                        PlanLimits.NONE,
                        Map.of(),
                        Plan.Approval.AUTO,
                        Set.of(AuthMode.APIKEY)));
        store.movePlan(ACME, "payments-free", PlanState.PUBLISHED, "alice");
        store.createPublish(ACME, "payments", "local", Environment.DEV, AuthMode.APIKEY, "example.test", "local");
        store.movePublish(
                ACME,
                "payments-dev-local",
                PublishState.PUBLISHED,
                (publish, serve, change) ->
                        new io.meshguard.catalog.GatewayServing.Served(Optional.of(1L), Optional.empty()),
                new io.meshguard.catalog.GatewayServing.Change("alice", "seed", "seed"));
        store.createApplication(INITECH, new Application("app", "initech", "App", ApplicationState.ACTIVE), "ina");

        List<SubscriptionSnapshot> handed = new CopyOnWriteArrayList<>();
        try (CatalogSnapshotFeed feed =
                new CatalogSnapshotFeed(PG.dataSource(), store, handed::add, Duration.ofSeconds(30)).start()) {
            // the listener's connect rebuilds, and so does a notification that changed nothing
            PG.dsl().execute("select pg_notify('" + CatalogSnapshotFeed.CHANNEL + "', '')");
            String subscription = store.subscribe(INITECH, "app", "payments-dev-local", "payments-free", "ina")
                    .id();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> handed.getLast().subscriptions().stream().anyMatch(s -> s.id().equals(subscription)));
        }
        assertThat(handed).as("one snapshot at start, one for the subscription").hasSize(2);
        assertThat(handed.get(1).version()).isGreaterThan(handed.get(0).version());
    }
}
