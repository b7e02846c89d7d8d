package io.meshguard.catalogmodel;

import java.util.List;

/**
 * What one tenant contributes to the subscription state: as a provider, the publishes and plans of its products; as a
 * customer, its applications, their credentials and its subscriptions (whichever provider they are with). The unit
 * the controller rereads when a change names the tenant, so a change costs the tenant's rows, not the catalogue's.
 * Lists are in id order, so two reads of unchanged rows are equal.
 */
public record TenantCatalog(
        String tenant,
        List<ProductPublish> publishes,
        List<Plan> plans,
        List<Application> applications,
        List<Credential> credentials,
        List<Subscription> subscriptions) {

    public TenantCatalog {
        publishes = List.copyOf(publishes);
        plans = List.copyOf(plans);
        applications = List.copyOf(applications);
        credentials = List.copyOf(credentials);
        subscriptions = List.copyOf(subscriptions);
    }

    /** A tenant that holds nothing the subscription state carries (or no longer exists). */
    public static TenantCatalog empty(String tenant) {
        return new TenantCatalog(tenant, List.of(), List.of(), List.of(), List.of(), List.of());
    }

    public boolean isEmpty() {
        return publishes.isEmpty()
                && plans.isEmpty()
                && applications.isEmpty()
                && credentials.isEmpty()
                && subscriptions.isEmpty();
    }
}
