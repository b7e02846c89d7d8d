package io.meshguard.catalogmodel;

import java.util.List;
import java.util.Optional;

/**
 * What one tenant contributes to the subscription state: as a provider, the publishes and plans of its products; as a
 * customer, its applications, their credentials and its subscriptions (whichever provider they are with). The unit
 * the controller rereads when a change names the tenant, so a change costs the tenant's rows, not the catalogue's.
 * Lists are in id order, so two reads of unchanged rows are equal. A tenant with a row this release cannot read holds
 * nothing but its {@link UnreadableRows}: its calls are refused, every other tenant is served.
 */
public record TenantCatalog(
        String tenant,
        List<ProductPublish> publishes,
        List<Plan> plans,
        List<Application> applications,
        List<Credential> credentials,
        List<Subscription> subscriptions,
        Optional<UnreadableRows> unreadable) {

    public TenantCatalog(
            String tenant,
            List<ProductPublish> publishes,
            List<Plan> plans,
            List<Application> applications,
            List<Credential> credentials,
            List<Subscription> subscriptions) {
        this(tenant, publishes, plans, applications, credentials, subscriptions, Optional.empty());
    }

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

    /** A tenant with a row this release cannot read: nothing of it is decided from but the refusal. */
    public static TenantCatalog unreadable(String tenant, UnreadableRows rows) {
        return new TenantCatalog(tenant, List.of(), List.of(), List.of(), List.of(), List.of(), Optional.of(rows));
    }

    public boolean isEmpty() {
        return unreadable.isEmpty()
                && publishes.isEmpty()
                && plans.isEmpty()
                && applications.isEmpty()
                && credentials.isEmpty()
                && subscriptions.isEmpty();
    }
}
