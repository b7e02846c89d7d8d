package io.meshguard.xds.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.db.TenantScope;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Duration;
import java.util.List;
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

    static final TenantScope INITECH = PaymentsCatalogue.INITECH;

    @Test
    void rebuildsOfAnUnchangedCatalogue_keepTheVersion_andAChangeMovesIt() {
        CatalogStore store = new CatalogStore(PG.dataSource());
        PaymentsCatalogue.seed(PG.dsl(), store, "local", "local", "local");

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
