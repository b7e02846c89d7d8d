package io.meshguard.xds.subscription;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.GatewayServing;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.db.TenantScope;
import io.meshguard.testing.ApiKeyRows;
import io.meshguard.testing.CatalogSamples;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jooq.DSLContext;

/**
 * The catalogue the subscription-state tests follow: acme sells {@code payments} (plan {@code payments-free}, API keys,
 * auto approval) published to {@code dev} on one cluster, and initech has an application {@code app} that has not
 * subscribed yet. Each test adds its own subscription and credential.
 */
public final class PaymentsCatalogue {
    public static final TenantScope ACME = TenantScope.of(Set.of("acme"));
    public static final TenantScope INITECH = TenantScope.of(Set.of("initech"));
    public static final String PLAN = "payments-free";

    private PaymentsCatalogue() {}

    /**
     * Seeds the catalogue with the product published on {@code cluster} (in {@code region}) through gateway group
     * {@code group}. Returns the publish's id ({@code payments-dev-<cluster>}).
     */
    public static String seed(DSLContext dsl, CatalogStore store, String cluster, String region, String group) {
        dsl.execute("insert into tenant (id) values ('acme'), ('initech')");
        dsl.execute("insert into api (name, tenant) values ('payments-api', 'acme')");
        store.putCluster(new Cluster(cluster, region, Optional.empty(), Set.of()), Map.of(group, Set.of("acme")));
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
        store.createPlan(ACME, CatalogSamples.freePlan(PLAN, "payments", PlanState.STAGING));
        store.movePlan(ACME, PLAN, PlanState.PUBLISHED, "alice");
        store.createPublish(ACME, "payments", cluster, Environment.DEV, AuthMode.APIKEY, "example.test", group);
        String publish = "payments-dev-" + cluster;
        // the subscription state is under test, not the gateway's routes: a publish that any revision serves
        store.movePublish(
                ACME,
                publish,
                PublishState.PUBLISHED,
                (p, serve, change) -> new GatewayServing.Served(Optional.of(1L), Optional.empty()),
                new GatewayServing.Change("alice", "seed", "seed"));
        store.createApplication(INITECH, new Application("app", "initech", "App", ApplicationState.ACTIVE), "ina");
        return publish;
    }

    /** An API key row of initech's (the credential the tests bind to {@code app}). */
    public static void initechApiKey(DSLContext dsl, String keyId) {
        ApiKeyRows.insert(dsl, "initech", keyId);
    }
}
