package io.meshguard.catalogmodel;

import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What one tenant holds as a customer: its applications, their credentials and its subscriptions. One resource of
 * the subscription-state stream ({@code tenant/<id>}): a change to a subscription, a credential or an application
 * re-sends its tenant's holdings only, and a replica swaps that tenant's part of its state in place. Immutable; the
 * Check's lookups are worked out once per holdings, on first use or when a replica takes them. A tenant whose rows this
 * release cannot read ({@link #unreadable}) holds nothing but the ids of its credentials, whose calls are refused.
 */
public final class TenantHoldings {
    private final String tenant;
    private final Map<String, Application> applications;
    /** By kind and id ({@code apikey/k-1}): a credential's id is unique within its kind. */
    private final Map<String, Credential> credentials;

    private final Map<String, Subscription> subscriptions;
    private final Optional<String> unreadable;
    /** When unreadable: the tenant's credentials as {@code KIND/id}. */
    private final Set<String> unreadableCredentials;

    private volatile Index index;

    /**
     * @param credentialsByKind credentials by kind, then id: the Check's lookup, without building a key per request
     * @param subscriptionsByPublishAndApp subscriptions by publish, then application (a few per pair at most)
     */
    private record Index(
            Map<AuthMode, Map<String, Credential>> credentialsByKind,
            Map<String, Map<String, List<Subscription>>> subscriptionsByPublishAndApp) {}

    /**
     * @param tenant the tenant, or empty for credentials and subscriptions whose application no state holds
     * @throws IllegalArgumentException on a duplicate id
     */
    public TenantHoldings(
            String tenant,
            Collection<Application> applications,
            Collection<Credential> credentials,
            Collection<Subscription> subscriptions) {
        this.tenant = Objects.requireNonNull(tenant, "tenant");
        this.applications = SharedCatalog.byId(applications, Application::id, "application");
        this.credentials = SharedCatalog.byId(credentials, c -> c.kind() + "/" + c.id(), "credential");
        this.subscriptions = SharedCatalog.byId(subscriptions, Subscription::id, "subscription");
        this.unreadable = Optional.empty();
        this.unreadableCredentials = Set.of();
    }

    private TenantHoldings(String tenant, String why, Set<String> credentials) {
        this.tenant = Objects.requireNonNull(tenant, "tenant");
        this.applications = Map.of();
        this.credentials = Map.of();
        this.subscriptions = Map.of();
        this.unreadable = Optional.of(why);
        this.unreadableCredentials = Set.copyOf(credentials);
    }

    /**
     * A tenant whose rows this release cannot read: calls presenting {@code credentials} ({@code KIND/id}) are
     * refused, with {@code why} for the operator.
     */
    public static TenantHoldings unreadable(String tenant, String why, Set<String> credentials) {
        return new TenantHoldings(tenant, why, credentials);
    }

    /** Why this tenant's rows cannot be read, when they cannot. */
    public Optional<String> unreadable() {
        return unreadable;
    }

    /** When unreadable: the tenant's credentials as {@code KIND/id}. */
    public Set<String> unreadableCredentials() {
        return unreadableCredentials;
    }

    public String tenant() {
        return tenant;
    }

    public Collection<Application> applications() {
        return applications.values();
    }

    public Collection<Credential> credentials() {
        return credentials.values();
    }

    public Collection<Subscription> subscriptions() {
        return subscriptions.values();
    }

    public boolean isEmpty() {
        return unreadable.isEmpty() && applications.isEmpty() && credentials.isEmpty() && subscriptions.isEmpty();
    }

    /** Works out the Check's lookups now, so no Check waits for them. */
    TenantHoldings indexed() {
        index();
        return this;
    }

    Application application(String id) {
        return applications.get(id);
    }

    Credential credential(AuthMode kind, String id) {
        Map<String, Credential> ofKind = index().credentialsByKind().get(kind);
        return ofKind == null ? null : ofKind.get(id);
    }

    List<Subscription> subscriptions(String publishId, String applicationId) {
        Map<String, List<Subscription>> byApp =
                index().subscriptionsByPublishAndApp().get(publishId);
        if (byApp == null) {
            return List.of();
        }
        List<Subscription> found = byApp.get(applicationId);
        return found == null ? List.of() : found;
    }

    private Index index() {
        Index i = index;
        if (i == null) {
            synchronized (this) {
                i = index;
                if (i == null) {
                    Map<String, Map<String, List<Subscription>>> byPublishAndApp = subscriptions.values().stream()
                            .collect(Collectors.groupingBy(
                                    Subscription::publishId,
                                    Collectors.groupingBy(
                                            Subscription::applicationId, Collectors.toUnmodifiableList())));
                    Map<AuthMode, Map<String, Credential>> byKind = new EnumMap<>(AuthMode.class);
                    for (Credential c : credentials.values()) {
                        byKind.computeIfAbsent(c.kind(), k -> new HashMap<>()).put(c.id(), c);
                    }
                    i = new Index(byKind, byPublishAndApp);
                    index = i;
                }
            }
        }
        return i;
    }

    @Override
    public boolean equals(Object o) {
        return o == this
                || (o instanceof TenantHoldings other
                        && tenant.equals(other.tenant)
                        && applications.equals(other.applications)
                        && credentials.equals(other.credentials)
                        && subscriptions.equals(other.subscriptions)
                        && unreadable.equals(other.unreadable)
                        && unreadableCredentials.equals(other.unreadableCredentials));
    }

    @Override
    public int hashCode() {
        return Objects.hash(tenant, applications, credentials, subscriptions, unreadable);
    }
}
