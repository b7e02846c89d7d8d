package io.meshguard.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.catalogmodel.TenantCatalog;
import io.meshguard.db.TenantScope;
import io.meshguard.testing.ApiKeyRows;
import io.meshguard.testing.CatalogSamples;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The subscription state read per tenant: a change notifies the tenant it belongs to (migration V72), and
 * that tenant's rows alone are reread; the union of every tenant's part is the snapshot the whole catalogue gives.
 */
@IntegrationTest
class TenantCatalogTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final TenantScope ACME = TenantScope.of(Set.of("acme"));
    private static final TenantScope GLOBEX = TenantScope.of(Set.of("globex"));
    private static final TenantScope INITECH = TenantScope.of(Set.of("initech"));
    private static final RecordingGateway GATEWAY = new RecordingGateway();
    private static CatalogStore store;
    private static String initechSubscription;

    @BeforeAll
    static void catalogue() {
        store = new CatalogStore(PG.dataSource());
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('globex'), ('initech'), ('quiet')");
        PG.dsl().execute("insert into api (name, tenant) values ('payments-api', 'acme')");
        ApiKeyRows.insert(PG.dsl(), "initech", "initech000000001");
        ApiKeyRows.insert(PG.dsl(), "globex", "globex0000000001");
        store.putCluster(new Cluster("local", "local", Optional.empty(), Set.of()), Map.of("local", Set.of("acme")));
        store.createProduct(
                ACME,
                CatalogSamples.draftProduct(
                        "payments",
                        "acme",
                        "Payments",
                        "1",
                        List.of(new Product.Operation("charge", "payments-api", "POST", "/charges"))),
                "alice");
        store.moveProduct(ACME, "payments", ProductState.PUBLISHED, "alice");
        store.createPlan(ACME, CatalogSamples.freePlan("payments-free", "payments", PlanState.STAGING));
        store.movePlan(ACME, "payments-free", PlanState.PUBLISHED, "alice");
        store.createPublish(ACME, "payments", "local", Environment.DEV, AuthMode.APIKEY, "example.test", "local");
        store.movePublish(
                ACME, "payments-dev-local", PublishState.PUBLISHED, GATEWAY, RecordingGateway.change("alice"));
        store.createApplication(
                INITECH, new Application("initech-app", "initech", "App", ApplicationState.ACTIVE), "ina");
        store.createApplication(GLOBEX, new Application("globex-app", "globex", "App", ApplicationState.ACTIVE), "gus");
        initechSubscription = store.subscribe(INITECH, "initech-app", "payments-dev-local", "payments-free", "ina")
                .id();
        String globexSubscription = store.subscribe(GLOBEX, "globex-app", "payments-dev-local", "payments-free", "gus")
                .id();
        store.addCredential(INITECH, key("initech000000001", "initech-app", Set.of(initechSubscription)));
        store.addCredential(GLOBEX, key("globex0000000001", "globex-app", Set.of(globexSubscription)));
    }

    @Test
    void tenantCatalogs_ofOneCustomer_holdOnlyItsApplicationsCredentialsAndSubscriptions() {
        Map<String, TenantCatalog> read = store.tenantCatalogs(Optional.of(Set.of("initech")));

        assertThat(read).containsOnlyKeys("initech");
        TenantCatalog initech = read.get("initech");
        assertThat(initech.applications()).extracting(Application::id).containsExactly("initech-app");
        assertThat(initech.subscriptions()).extracting(Subscription::id).containsExactly(initechSubscription);
        assertThat(initech.credentials()).singleElement().satisfies(c -> assertThat(c.subscriptionIds())
                .containsExactly(initechSubscription));
        assertThat(initech.publishes()).as("the provider's, not the customer's").isEmpty();
        assertThat(initech.plans()).isEmpty();
    }

    @Test
    void tenantCatalogs_ofTheProvider_holdItsPublishesAndPlans_andAQuietTenantReadsEmpty() {
        Map<String, TenantCatalog> read = store.tenantCatalogs(Optional.of(Set.of("acme", "quiet")));

        assertThat(read.get("acme").publishes()).extracting(ProductPublish::id).containsExactly("payments-dev-local");
        assertThat(read.get("acme").plans()).extracting(Plan::id).containsExactly("payments-free");
        assertThat(read.get("acme").subscriptions()).isEmpty();
        assertThat(read.get("quiet").isEmpty()).as("named, holding nothing").isTrue();
    }

    @Test
    void everyTenantsPart_together_decideAsTheWholeCatalogue() {
        Map<String, TenantCatalog> all = store.tenantCatalogs(Optional.empty());

        assertThat(all).containsOnlyKeys("acme", "globex", "initech");
        SubscriptionSnapshot joined = SubscriptionSnapshot.of(1, all.values());
        assertThat(joined.sameContentAs(store.snapshot(2))).isTrue();
        assertThat(joined.decide("payments-dev-local", AuthMode.APIKEY, "initech000000001", Instant.now()))
                .isInstanceOf(AccessDecision.Granted.class);
        assertThat(all.get("initech"))
                .as("two reads of unchanged rows are equal: the feed keeps the version")
                .isEqualTo(store.tenantCatalogs(Optional.of(Set.of("initech"))).get("initech"));
    }

    @Test
    void suspension_notifiesTheCustomerTenant_andAPlanChangeTheProvider() throws Exception {
        try (Connection listen = PG.dataSource().getConnection();
                Statement l = listen.createStatement()) {
            l.execute("LISTEN meshguard_catalog");
            PGConnection pg = listen.unwrap(PGConnection.class);

            store.moveSubscription(
                    ACME,
                    CatalogStore.Side.PROVIDER,
                    initechSubscription,
                    SubscriptionState.SUSPENDED,
                    "alice",
                    "unpaid");
            assertThat(payloads(pg)).containsExactly("initech");
            assertThat(store.tenantCatalogs(Optional.of(Set.of("initech")))
                            .get("initech")
                            .subscriptions())
                    .extracting(Subscription::state)
                    .containsExactly(SubscriptionState.SUSPENDED);

            store.moveSubscription(
                    ACME, CatalogStore.Side.PROVIDER, initechSubscription, SubscriptionState.ACTIVE, "alice", "paid");
            assertThat(payloads(pg)).containsExactly("initech");

            PG.dsl().execute("update plan set name = 'free' where id = 'payments-free'");
            assertThat(payloads(pg)).containsExactly("acme");
        }
    }

    /** The payloads of the notifications that arrive within a second of the first. */
    private static Set<String> payloads(PGConnection pg) throws Exception {
        Set<String> out = new HashSet<>();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (out.isEmpty() && System.nanoTime() < deadline) {
            PGNotification[] notes = pg.getNotifications(500);
            if (notes != null) {
                for (PGNotification n : notes) {
                    out.add(n.getParameter());
                }
            }
        }
        PGNotification[] rest = pg.getNotifications(300);
        if (rest != null) {
            for (PGNotification n : rest) {
                out.add(n.getParameter());
            }
        }
        return out;
    }

    private static Credential key(String id, String application, Set<String> subscriptions) {
        return new Credential(
                id,
                AuthMode.APIKEY,
                application,
                CredentialState.ACTIVE,
                Optional.empty(),
                Optional.empty(),
                subscriptions);
    }
}
