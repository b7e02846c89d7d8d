package io.meshguard.testing;

import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.PublishState;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Catalogue values the tests create again and again: a plain public product, a free plan that asks nothing, an
 * application's API key, the payments product published on dev.
 */
public final class CatalogSamples {
    private CatalogSamples() {}

    /** A public product in draft, with no description, tags or docs: only what a publish needs. */
    public static Product draftProduct(
            String id, String tenant, String name, String version, List<Product.Operation> operations) {
        return new Product(
                id,
                tenant,
                name,
                version,
                Optional.empty(),
                List.of(),
                Optional.empty(),
                Product.Visibility.PUBLIC,
                ProductState.DRAFT,
                operations);
    }

    /** A plan of {@code product} named free: no limits, approved at once, API keys only. */
    public static Plan freePlan(String id, String product, PlanState state) {
        return new Plan(
                id, product, "free", state, PlanLimits.NONE, Map.of(), Plan.Approval.AUTO, Set.of(AuthMode.APIKEY));
    }

    /** The payments product published on the dev environment of cluster {@code local}, host under example.test. */
    public static ProductPublish paymentsDevPublish() {
        return paymentsDevPublish(PublishHost.of("payments", Environment.DEV, "local", "example.test"));
    }

    /** As {@link #paymentsDevPublish()}, served on {@code host}. */
    public static ProductPublish paymentsDevPublish(PublishHost host) {
        return new ProductPublish(
                "payments-dev-local",
                "payments",
                "local",
                Environment.DEV,
                AuthMode.APIKEY,
                PublishState.PUBLISHED,
                host);
    }

    /** An active API key {@code keyId} of the application {@code app}, without an end, in no subscription yet. */
    public static Credential activeApiKey(String keyId) {
        return activeApiKey(keyId, "app");
    }

    /** An active API key {@code keyId} of {@code application}, without an end, in no subscription yet. */
    public static Credential activeApiKey(String keyId, String application) {
        return new Credential(
                keyId,
                AuthMode.APIKEY,
                application,
                CredentialState.ACTIVE,
                Optional.empty(),
                Optional.empty(),
                Set.of());
    }
}
