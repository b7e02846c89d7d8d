package io.meshguard.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.CalendarQuota;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.DenyReason;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Limit;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.ServedProduct;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.catalogmodel.TransitionRefused;
import io.meshguard.db.TenantScope;
import io.meshguard.testing.ApiKeyRows;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The catalogue against a real PostgreSQL: lifecycles under row locks, tenants confined, one consistent snapshot. */
@IntegrationTest
class CatalogStoreTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final TenantScope ACME = TenantScope.of(Set.of("acme"));
    private static final TenantScope GLOBEX = TenantScope.of(Set.of("globex"));
    private static final TenantScope INITECH = TenantScope.of(Set.of("initech"));
    private static final Instant NOW = Instant.now();
    private static final RecordingGateway GATEWAY = new RecordingGateway();
    private static CatalogStore store;

    @BeforeAll
    static void catalogue() {
        store = new CatalogStore(PG.dataSource());
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('globex'), ('initech')");
        PG.dsl().execute("insert into api (name, tenant) values ('payments-api', 'acme'), ('ledger-api', 'globex')");
        ApiKeyRows.insert(PG.dsl(), "initech", "initech000000001", "initech000000002");
        store.putCluster(new Cluster("local", "local", Optional.empty(), Set.of()), Map.of("local", Set.of("acme")));
        store.createProduct(ACME, product("payments", "acme", "payments-api"), "alice");
        store.moveProduct(ACME, "payments", ProductState.PUBLISHED, "alice");
        store.createPlan(ACME, plan("payments-free", "payments", Plan.Approval.AUTO));
        store.createPlan(ACME, plan("payments-gold", "payments", Plan.Approval.MANUAL));
        store.movePlan(ACME, "payments-free", PlanState.PUBLISHED, "alice");
        store.movePlan(ACME, "payments-gold", PlanState.PUBLISHED, "alice");
        store.createPublish(ACME, "payments", "local", Environment.DEV, AuthMode.APIKEY, "example.test", "local");
        store.movePublish(
                ACME, "payments-dev-local", PublishState.PUBLISHED, GATEWAY, RecordingGateway.change("alice"));
        store.createApplication(
                INITECH, new Application("initech-app", "initech", "App", ApplicationState.ACTIVE), "ina");
    }

    @Test
    void publish_thatTheGatewayRefuses_staysDraft_andServesNothing() {
        store.createPublish(ACME, "payments", "local", Environment.STAGING, AuthMode.APIKEY, "example.test", "local");
        RecordingGateway refusing = new RecordingGateway();
        refusing.refuse("no route of API payments-api serves POST /charges");

        assertThatThrownBy(() -> store.movePublish(
                        ACME,
                        "payments-staging-local",
                        PublishState.PUBLISHED,
                        refusing,
                        RecordingGateway.change("alice")))
                .isInstanceOf(CatalogRefusal.class)
                .hasMessageContaining("POST /charges");

        assertThat(store.publishes(ACME, "payments"))
                .filteredOn(p -> p.id().equals("payments-staging-local"))
                .extracting(ProductPublish::state)
                .containsExactly(PublishState.DRAFT);
        assertThat(store.servedProducts().get("local"))
                .extracting(ServedProduct::publishId)
                .containsExactly("payments-dev-local");
    }

    @Test
    void servedOperations_changeOnlyThroughAPublish() {
        assertThatThrownBy(() -> store.putOperations(ACME, "payments", List.of(), "alice"))
                .isInstanceOf(CatalogRefusal.class)
                .hasMessageContaining("withdraw");
    }

    @Test
    void autoPlan_subscribesActive_andTheSnapshotGrantsItsKey() {
        Subscription s = store.subscribe(INITECH, "initech-app", "payments-dev-local", "payments-free", "ina");
        assertThat(s.state()).isEqualTo(SubscriptionState.ACTIVE);
        assertThatThrownBy(() -> store.changePlan(
                        INITECH, CatalogStore.Side.CUSTOMER, s.id(), "payments-gold", "ina", "self-upgrade"))
                .hasMessageContaining("needs the provider's approval");
        store.addCredential(INITECH, key("initech000000001", Set.of()));
        AccessDecision d = store.snapshot(1).decide("payments-dev-local", AuthMode.APIKEY, "initech000000001", NOW);
        assertThat(d).isInstanceOfSatisfying(AccessDecision.Granted.class, g -> assertThat(
                        g.plan().id())
                .isEqualTo("payments-free"));

        Subscription moved =
                store.changePlan(ACME, CatalogStore.Side.PROVIDER, s.id(), "payments-gold", "alice", "upgrade");
        assertThat(moved.id()).isEqualTo(s.id());
        assertThat(moved.state()).isEqualTo(SubscriptionState.ACTIVE);
        assertThat(store.snapshot(2).decide("payments-dev-local", AuthMode.APIKEY, "initech000000001", NOW))
                .isInstanceOfSatisfying(
                        AccessDecision.Granted.class,
                        g -> assertThat(g.plan().id()).isEqualTo("payments-gold"));
        assertThatThrownBy(() -> store.subscribe(INITECH, "initech-app", "payments-dev-local", "payments-free", "ina"))
                .isInstanceOfSatisfying(
                        CatalogRefusal.class, r -> assertThat(r.kind()).isEqualTo(CatalogRefusal.Kind.CONFLICT))
                .hasMessageContaining("change its plan instead");
    }

    @Test
    void manualPlan_waitsForTheProvider_andOnlyOneOfTwoRacingApprovalsWins() throws Exception {
        store.createApplication(
                INITECH, new Application("initech-batch", "initech", "Batch", ApplicationState.ACTIVE), "ina");
        Subscription s = store.subscribe(INITECH, "initech-batch", "payments-dev-local", "payments-gold", "ina");
        assertThat(s.state()).isEqualTo(SubscriptionState.PENDING);
        store.addCredential(INITECH, key("initech000000002", Set.of()).withApplication("initech-batch"));
        assertThat(store.snapshot(3).decide("payments-dev-local", AuthMode.APIKEY, "initech000000002", NOW))
                .isInstanceOfSatisfying(AccessDecision.Denied.class, d -> assertThat(d.reason())
                        .isEqualTo(DenyReason.SUBSCRIPTION_PENDING));

        // the customer sees its subscription but cannot approve it, nor move itself onto a manual plan
        assertThatThrownBy(() -> store.moveSubscription(
                        INITECH, CatalogStore.Side.PROVIDER, s.id(), SubscriptionState.ACTIVE, "ina", "self-approved"))
                .isInstanceOfSatisfying(
                        CatalogRefusal.class, r -> assertThat(r.kind()).isEqualTo(CatalogRefusal.Kind.NOT_FOUND));
        assertThat(store.subscriptions(INITECH)).extracting(Subscription::id).contains(s.id());

        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Callable<Subscription>> approvals = new ArrayList<>();
            approvals.add(() -> store.moveSubscription(
                    ACME, CatalogStore.Side.PROVIDER, s.id(), SubscriptionState.ACTIVE, "bob", "ok"));
            approvals.add(() -> store.moveSubscription(
                    ACME, CatalogStore.Side.PROVIDER, s.id(), SubscriptionState.REJECTED, "carol", "no"));
            int won = 0;
            for (Future<Subscription> f : pool.invokeAll(approvals)) {
                try {
                    f.get();
                    won++;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(TransitionRefused.class);
                }
            }
            assertThat(won).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void otherTenants_cannotReachWhatIsNotTheirs_andGetNotFound() {
        assertThatThrownBy(() -> store.moveProduct(GLOBEX, "payments", ProductState.RETIRED, "mallory"))
                .isInstanceOfSatisfying(
                        CatalogRefusal.class, r -> assertThat(r.kind()).isEqualTo(CatalogRefusal.Kind.NOT_FOUND));
        assertThatThrownBy(() -> store.createPlan(GLOBEX, plan("planted", "payments", Plan.Approval.AUTO)))
                .isInstanceOfSatisfying(
                        CatalogRefusal.class, r -> assertThat(r.kind()).isEqualTo(CatalogRefusal.Kind.NOT_FOUND));
        assertThatThrownBy(() -> store.subscribe(GLOBEX, "initech-app", "payments-dev-local", "payments-free", "m"))
                .isInstanceOfSatisfying(
                        CatalogRefusal.class, r -> assertThat(r.kind()).isEqualTo(CatalogRefusal.Kind.NOT_FOUND));
        // a customer sees the published catalogue but cannot change it
        assertThat(store.products(INITECH)).extracting(Product::id).containsExactly("payments");
        assertThatThrownBy(() -> store.movePlan(INITECH, "payments-free", PlanState.CLOSED, "ina"))
                .isInstanceOf(CatalogRefusal.class);
        // a product's operation may only name its own tenant's API
        assertThatThrownBy(() -> store.putOperations(
                        ACME, "payments", List.of(new Product.Operation("steal", "ledger-api", "GET", "/x")), "alice"))
                .hasMessageContaining("API ledger-api not found in the product's tenant");
    }

    @Test
    void closingAPlan_closesItsSubscriptions_inTheSameTransaction() {
        store.createPlan(ACME, plan("payments-trial", "payments", Plan.Approval.AUTO));
        store.movePlan(ACME, "payments-trial", PlanState.PUBLISHED, "alice");
        store.createApplication(
                INITECH, new Application("initech-trial", "initech", "T", ApplicationState.ACTIVE), "ina");
        Subscription s = store.subscribe(INITECH, "initech-trial", "payments-dev-local", "payments-trial", "ina");
        store.movePlan(ACME, "payments-trial", PlanState.CLOSED, "alice");
        assertThat(store.subscriptions(INITECH))
                .filteredOn(x -> x.id().equals(s.id()))
                .extracting(Subscription::state)
                .containsExactly(SubscriptionState.CLOSED);
        assertThatThrownBy(() -> store.movePlan(ACME, "payments-trial", PlanState.PUBLISHED, "alice"))
                .isInstanceOf(TransitionRefused.class);
    }

    @Test
    void planLimits_roundTripThroughTheTable_andUnknownOperationsAreRefused() {
        Plan stored = store.plans(ACME, "payments").stream()
                .filter(p -> p.id().equals("payments-free"))
                .findFirst()
                .orElseThrow();
        assertThat(stored.limits()).isEqualTo(limits());
        assertThat(stored.operationLimits()).containsOnlyKeys("charge");
        assertThatThrownBy(() -> store.createPlan(
                        ACME,
                        new Plan(
                                "bad",
                                "payments",
                                "bad",
                                PlanState.STAGING,
                                PlanLimits.NONE,
                                Map.of("nope", PlanLimits.NONE),
                                Plan.Approval.AUTO,
                                Set.of(AuthMode.APIKEY))))
                .hasMessageContaining("limits operation nope");
    }

    @Test
    void rotation_keepsThePredecessorForItsWindow_thenRotatesItOut() {
        ApiKeyRows.insert(PG.dsl(), "initech", "initech000000009");
        store.createApplication(INITECH, new Application("initech-rot", "initech", "R", ApplicationState.ACTIVE), "i");
        store.subscribe(INITECH, "initech-rot", "payments-dev-local", "payments-free", "ina");
        store.addCredential(INITECH, key("initech000000009", Set.of()).withApplication("initech-rot"));
        Instant end = NOW.plus(Duration.ofHours(24));
        store.moveCredential(INITECH, AuthMode.APIKEY, "initech000000009", CredentialState.ROTATING, Optional.of(end));
        SubscriptionSnapshot snap = store.snapshot(9);
        assertThat(snap.decide("payments-dev-local", AuthMode.APIKEY, "initech000000009", NOW))
                .isInstanceOfSatisfying(AccessDecision.Granted.class, g -> assertThat(g.predecessor())
                        .isTrue());
        assertThat(snap.decide("payments-dev-local", AuthMode.APIKEY, "initech000000009", end))
                .isInstanceOfSatisfying(AccessDecision.Denied.class, d -> assertThat(d.reason())
                        .isEqualTo(DenyReason.CREDENTIAL_ROTATED_OUT));
    }

    private static PlanLimits limits() {
        return new PlanLimits(
                List.of(new Limit(50, Duration.ofSeconds(1)), new Limit(2000, Duration.ofMinutes(1))),
                Optional.of(new CalendarQuota(CalendarQuota.Period.DAY, 1000, ZoneId.of("Asia/Seoul"), true)));
    }

    private static Plan plan(String id, String product, Plan.Approval approval) {
        return new Plan(
                id,
                product,
                id,
                PlanState.STAGING,
                limits(),
                Map.of("charge", new PlanLimits(List.of(new Limit(5, Duration.ofSeconds(1))), Optional.empty())),
                approval,
                Set.of(AuthMode.APIKEY));
    }

    private static Product product(String id, String tenant, String api) {
        return new Product(
                id,
                tenant,
                "Payments",
                "1",
                Optional.empty(),
                List.of("cards"),
                Optional.empty(),
                Product.Visibility.PUBLIC,
                ProductState.DRAFT,
                List.of(
                        new Product.Operation("charge", api, "POST", "/charges"),
                        new Product.Operation("list", api, "GET", "/charges")));
    }

    private static Credential key(String id, Set<String> subs) {
        return new Credential(
                id, AuthMode.APIKEY, "initech-app", CredentialState.ACTIVE, Optional.empty(), Optional.empty(), subs);
    }
}
