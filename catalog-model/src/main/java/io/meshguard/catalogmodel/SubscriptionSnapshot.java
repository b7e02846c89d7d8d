package io.meshguard.catalogmodel;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Everything extauthz needs to decide a product route, as one immutable, versioned value pushed to every replica
 * (docs/products.md "Enforcement"): no database lookup per request, and a replica either decides from a whole
 * snapshot or refuses with {@link DenyReason#SUBSCRIPTION_STATE_UNAVAILABLE}. Made of what providers offer
 * ({@link SharedCatalog}) and what each tenant holds ({@link TenantHoldings}): {@link #with} replaces some parts and
 * shares the rest, so a change costs its tenant, not the catalogue. A tenant whose rows this release cannot read
 * ({@link UnreadableRows}) is refused alone, with {@link DenyReason#SUBSCRIPTION_STATE_UNAVAILABLE}: calls to its
 * publishes and calls presenting its credentials; every other tenant is decided as usual.
 */
public final class SubscriptionSnapshot {

    // the caller reads these (through the mesh's DLP): no tenant or row named, the controller's log names them
    private static final String UNREADABLE_PROVIDER =
            "this product's catalogue rows cannot be read by this release: refused until they are";
    private static final String UNREADABLE_CUSTOMER =
            "the catalogue rows of the credential's tenant cannot be read by this release: refused until they are";

    private final long version;
    private final SharedCatalog shared;
    private final Map<String, TenantHoldings> tenants;
    private final CredentialDirectory directory;
    /** The unreadable tenants, with why (few: kept whole, changed per tenant). */
    private final Map<String, String> unreadable;
    /** The unreadable tenants' credentials ({@code KIND/id}) to their tenant. */
    private final Map<String, String> unreadableCredentials;

    /**
     * @param version increases with every change the controller publishes; a replica reports the one it holds
     */
    public SubscriptionSnapshot(
            long version,
            Collection<ProductPublish> publishes,
            Collection<Plan> plans,
            Collection<Application> applications,
            Collection<Credential> credentials,
            Collection<Subscription> subscriptions) {
        this(version, new SharedCatalog(publishes, plans), holdings(applications, credentials, subscriptions));
    }

    /**
     * @throws IllegalArgumentException when a subscription names a plan {@code shared} does not hold, or a credential
     *     is held by two tenants
     */
    public SubscriptionSnapshot(long version, SharedCatalog shared, Collection<TenantHoldings> tenants) {
        this.version = version;
        this.shared = shared;
        Map<String, TenantHoldings> byTenant = new HashMap<>();
        CredentialDirectory d = CredentialDirectory.empty();
        for (TenantHoldings t : tenants) {
            if (byTenant.put(t.tenant(), t) != null) {
                throw new IllegalArgumentException("duplicate tenant " + t.tenant());
            }
            plansKnown(shared, t);
            d = d.with(t.tenant(), Optional.empty(), Optional.of(t));
        }
        this.tenants = Map.copyOf(byTenant);
        this.directory = d;
        Map<String, String> why = new HashMap<>();
        Map<String, String> keys = new HashMap<>();
        for (TenantHoldings t : tenants) {
            unreadable(t, why, keys);
        }
        this.unreadable = Map.copyOf(why);
        this.unreadableCredentials = Map.copyOf(keys);
    }

    private SubscriptionSnapshot(
            long version,
            SharedCatalog shared,
            Map<String, TenantHoldings> tenants,
            CredentialDirectory directory,
            Map<String, String> unreadable,
            Map<String, String> unreadableCredentials) {
        this.version = version;
        this.shared = shared;
        this.tenants = tenants;
        this.directory = directory;
        this.unreadable = unreadable;
        this.unreadableCredentials = unreadableCredentials;
    }

    private static void unreadable(TenantHoldings t, Map<String, String> why, Map<String, String> keys) {
        t.unreadable().ifPresent(w -> {
            why.put(t.tenant(), w);
            t.unreadableCredentials().forEach(k -> keys.put(k, t.tenant()));
        });
    }

    /**
     * This snapshot under {@code version} with {@code shared} (when present) and each tenant of {@code changes}
     * replaced (removed when empty); the other tenants' holdings are shared, not copied.
     *
     * @throws IllegalArgumentException as the constructor does; this snapshot is unchanged
     */
    public SubscriptionSnapshot with(
            long version, Optional<SharedCatalog> shared, Map<String, Optional<TenantHoldings>> changes) {
        SharedCatalog s = shared.orElse(this.shared);
        Map<String, TenantHoldings> next = new HashMap<>(tenants);
        Map<String, Optional<TenantHoldings>> before = new HashMap<>();
        Map<String, Optional<TenantHoldings>> afterAll = new HashMap<>();
        Map<String, String> why = new HashMap<>(unreadable);
        Map<String, String> keys = new HashMap<>(unreadableCredentials);
        for (Map.Entry<String, Optional<TenantHoldings>> e : changes.entrySet()) {
            Optional.ofNullable(tenants.get(e.getKey())).ifPresent(was -> {
                why.remove(was.tenant());
                was.unreadableCredentials().forEach(keys::remove);
            });
            Optional<TenantHoldings> after = e.getValue().filter(t -> !t.isEmpty());
            after.ifPresent(t -> {
                if (!t.tenant().equals(e.getKey())) {
                    throw new IllegalArgumentException("holdings of tenant " + t.tenant() + " named " + e.getKey());
                }
            });
            before.put(e.getKey(), Optional.ofNullable(tenants.get(e.getKey())));
            afterAll.put(e.getKey(), after);
            if (after.isPresent()) {
                next.put(e.getKey(), after.get());
                unreadable(after.get(), why, keys);
            } else {
                next.remove(e.getKey());
            }
        }
        CredentialDirectory d = directory.with(before, afterAll);
        // a new plan set is checked against every tenant (plans change rarely); otherwise only the changed tenants
        if (s != this.shared && !s.equals(this.shared)) {
            next.values().forEach(t -> plansKnown(s, t));
        } else {
            changes.values().forEach(t -> t.ifPresent(h -> plansKnown(s, h)));
        }
        return new SubscriptionSnapshot(version, s, Map.copyOf(next), d, Map.copyOf(why), Map.copyOf(keys));
    }

    private static void plansKnown(SharedCatalog shared, TenantHoldings t) {
        for (Subscription x : t.subscriptions()) {
            if (!shared.hasPlan(x.planId())) {
                throw new IllegalArgumentException("subscription " + x.id() + " names unknown plan " + x.planId());
            }
        }
    }

    /** Groups by application's tenant; a credential or subscription of an unknown application goes to tenant "". */
    private static List<TenantHoldings> holdings(
            Collection<Application> applications,
            Collection<Credential> credentials,
            Collection<Subscription> subscriptions) {
        Map<String, String> tenantOf = new HashMap<>();
        Map<String, List<Application>> apps = new TreeMap<>();
        Map<String, List<Credential>> creds = new TreeMap<>();
        Map<String, List<Subscription>> subs = new TreeMap<>();
        for (Application a : applications) {
            if (tenantOf.put(a.id(), a.tenant()) != null) {
                throw new IllegalArgumentException("duplicate application " + a.id());
            }
            apps.computeIfAbsent(a.tenant(), t -> new ArrayList<>()).add(a);
        }
        for (Credential c : credentials) {
            creds.computeIfAbsent(tenantOf.getOrDefault(c.applicationId(), ""), t -> new ArrayList<>())
                    .add(c);
        }
        Set<String> subscriptionIds = new HashSet<>();
        for (Subscription x : subscriptions) {
            if (!subscriptionIds.add(x.id())) {
                throw new IllegalArgumentException("duplicate subscription " + x.id());
            }
            subs.computeIfAbsent(tenantOf.getOrDefault(x.applicationId(), ""), t -> new ArrayList<>())
                    .add(x);
        }
        Set<String> names = new TreeSet<>(apps.keySet());
        names.addAll(creds.keySet());
        names.addAll(subs.keySet());
        List<TenantHoldings> out = new ArrayList<>();
        for (String t : names) {
            out.add(new TenantHoldings(
                    t,
                    apps.getOrDefault(t, List.of()),
                    creds.getOrDefault(t, List.of()),
                    subs.getOrDefault(t, List.of())));
        }
        return out;
    }

    /**
     * This snapshot with the Check's lookups worked out: a replica calls it before it swaps the snapshot in, so no
     * Check waits for them (holdings that were never indexed work them out at their first decision; holdings already
     * indexed cost nothing, so a replica that swapped one tenant in pays for that tenant only).
     */
    public SubscriptionSnapshot indexed() {
        tenants.values().forEach(TenantHoldings::indexed);
        return this;
    }

    public long version() {
        return version;
    }

    /** What providers offer. */
    public SharedCatalog shared() {
        return shared;
    }

    /** What each tenant holds, by tenant. */
    public Map<String, TenantHoldings> tenants() {
        return tenants;
    }

    /**
     * Whether {@code other} holds the same publishes, plans, applications, credentials and subscriptions, whatever
     * its version: a producer that rebuilt an unchanged catalogue keeps its version, so a version moves only when
     * what replicas decide from does (a replica's version is what an operator compares across replicas and zones).
     */
    public boolean sameContentAs(SubscriptionSnapshot other) {
        return shared.equals(other.shared) && tenants.equals(other.tenants);
    }

    /** This snapshot's content under another version. */
    public SubscriptionSnapshot withVersion(long version) {
        return new SubscriptionSnapshot(version, shared, tenants, directory, unreadable, unreadableCredentials);
    }

    /** The snapshot of every tenant's contribution ({@link TenantCatalog}), under {@code version}. */
    public static SubscriptionSnapshot of(long version, Collection<TenantCatalog> tenants) {
        List<TenantHoldings> holdings = new ArrayList<>();
        for (TenantCatalog t : tenants) {
            TenantHoldings h = holdings(t);
            if (!h.isEmpty()) {
                holdings.add(h);
            }
        }
        return new SubscriptionSnapshot(version, SharedCatalog.of(tenants), holdings);
    }

    /** What {@code t} holds as a customer; only its credentials' ids when its rows cannot be read. */
    public static TenantHoldings holdings(TenantCatalog t) {
        if (t.unreadable().isPresent()) {
            return TenantHoldings.unreadable(
                    t.tenant(), t.unreadable().get().why(), t.unreadable().get().credentials());
        }
        return new TenantHoldings(t.tenant(), t.applications(), t.credentials(), t.subscriptions());
    }

    /**
     * The tenants whose rows this release cannot read, with why (for the operator's log, never for a caller): their
     * product calls are refused, as provider and as customer.
     */
    public Map<String, String> unreadableTenants() {
        return unreadable;
    }

    /** An empty snapshot: every product route answers {@code no_subscription}. */
    public static SubscriptionSnapshot empty(long version) {
        return new SubscriptionSnapshot(version, SharedCatalog.EMPTY, List.of());
    }

    public Collection<ProductPublish> publishes() {
        return shared.publishes();
    }

    public Collection<Plan> plans() {
        return shared.plans();
    }

    public Collection<Application> applications() {
        return tenants.values().stream().flatMap(t -> t.applications().stream()).toList();
    }

    public Collection<Credential> credentials() {
        return tenants.values().stream().flatMap(t -> t.credentials().stream()).toList();
    }

    public List<Subscription> subscriptions() {
        return tenants.values().stream()
                .flatMap(t -> t.subscriptions().stream())
                .toList();
    }

    /**
     * Decides whether {@code credentialId} of kind {@code presented} may call the routes of {@code publishId} at
     * {@code now}. The order of the checks is the order a customer fixes them in: the credential itself, its
     * application, then the subscription and its plan.
     */
    public AccessDecision decide(String publishId, AuthMode presented, String credentialId, Instant now) {
        Objects.requireNonNull(presented, "presented");
        Objects.requireNonNull(credentialId, "credentialId");
        Objects.requireNonNull(now, "now");
        ProductPublish publish = shared.publish(publishId);
        if (publish == null && shared.unreadablePublish(publishId)) {
            return new AccessDecision.Denied(DenyReason.SUBSCRIPTION_STATE_UNAVAILABLE, UNREADABLE_PROVIDER);
        }
        if (publish == null || publish.state() != PublishState.PUBLISHED) {
            return new AccessDecision.Denied(DenyReason.NO_SUBSCRIPTION, "product is not published here");
        }
        if (publish.authMode() == AuthMode.NONE) {
            return new AccessDecision.Open(publish);
        }
        if (presented != publish.authMode()) {
            return new AccessDecision.Denied(
                    DenyReason.AUTH_MODE_NOT_ALLOWED,
                    "this product accepts " + publish.authMode().name().toLowerCase() + " credentials");
        }
        String tenant = directory.tenantOf(presented, credentialId);
        TenantHoldings holdings = tenant == null ? null : tenants.get(tenant);
        Credential credential = holdings == null ? null : holdings.credential(presented, credentialId);
        if (credential == null) {
            if (!unreadableCredentials.isEmpty()
                    && unreadableCredentials.containsKey(
                            UnreadableRows.credentialKey(presented.name(), credentialId))) {
                return new AccessDecision.Denied(DenyReason.SUBSCRIPTION_STATE_UNAVAILABLE, UNREADABLE_CUSTOMER);
            }
            return new AccessDecision.Denied(DenyReason.NO_SUBSCRIPTION, "credential has no subscription");
        }
        Optional<DenyReason> unusable = credential.unusableAt(now);
        if (unusable.isPresent()) {
            // no id in the words: the body reaches the caller through the mesh's DLP, which reads an id after the word
            // "credential" as a secret and rewrites meshguard's own answer; the caller knows what it presented and the
            // audit row keeps the id
            return new AccessDecision.Denied(
                    unusable.get(),
                    switch (unusable.get()) {
                        case CREDENTIAL_REVOKED -> "the credential presented was revoked";
                        case CREDENTIAL_EXPIRED -> "the credential presented has expired";
                        default -> "the credential presented was rotated out: use its successor";
                    });
        }
        return afterCredential(publishId, credential, holdings);
    }

    /**
     * What a usable {@code credential} gets on {@code publishId}: its application, then the subscription and its
     * plan: a few lookups in the credential's tenant's holdings and the shared plans.
     */
    private AccessDecision afterCredential(String publishId, Credential credential, TenantHoldings holdings) {
        Application application = holdings.application(credential.applicationId());
        if (application == null) {
            return new AccessDecision.Denied(DenyReason.NO_SUBSCRIPTION, "credential has no application");
        }
        if (application.state() == ApplicationState.SUSPENDED) {
            return new AccessDecision.Denied(DenyReason.APPLICATION_SUSPENDED, "application " + application.id());
        }
        // a loop, not a stream: this runs on every Check of a product route
        Subscription subscription = null;
        Subscription closedWithItsPlan = null;
        for (Subscription s : holdings.subscriptions(publishId, application.id())) {
            boolean bound = credential.subscriptionIds().isEmpty()
                    || credential.subscriptionIds().contains(s.id());
            boolean usable = bound && s.state() != SubscriptionState.CLOSED && s.state() != SubscriptionState.REJECTED;
            if (usable && (subscription == null || preference(s) < preference(subscription))) {
                subscription = s;
            }
            if (shared.plan(s.planId()) == null) {
                // a plan of a provider this release cannot read (its publish is refused before this one is)
                return new AccessDecision.Denied(DenyReason.SUBSCRIPTION_STATE_UNAVAILABLE, UNREADABLE_PROVIDER);
            }
            if (bound
                    && s.state() == SubscriptionState.CLOSED
                    && shared.plan(s.planId()).state() == PlanState.CLOSED) {
                closedWithItsPlan = s;
            }
        }
        // closing a plan closes its subscriptions; the customer is told it was the plan, not left to guess why its
        // subscription vanished (a subscription the customer closed itself stays no_subscription)
        if (subscription == null && closedWithItsPlan != null) {
            return AccessDecision.Denied.of(
                    DenyReason.PLAN_CLOSED,
                    "plan " + shared.plan(closedWithItsPlan.planId()).name(),
                    closedWithItsPlan);
        }
        if (subscription == null) {
            return new AccessDecision.Denied(DenyReason.NO_SUBSCRIPTION, "application " + application.id());
        }
        Plan plan = shared.plan(subscription.planId());
        if (plan.state() == PlanState.CLOSED) {
            return AccessDecision.Denied.of(DenyReason.PLAN_CLOSED, "plan " + plan.name(), subscription);
        }
        if (subscription.state() == SubscriptionState.PENDING) {
            return AccessDecision.Denied.of(
                    DenyReason.SUBSCRIPTION_PENDING, "subscription " + subscription.id(), subscription);
        }
        if (subscription.state() == SubscriptionState.SUSPENDED) {
            return AccessDecision.Denied.of(
                    DenyReason.SUBSCRIPTION_SUSPENDED, "subscription " + subscription.id(), subscription);
        }
        // a credential is never of kind none, so the plan's auth modes say it without copying them (credentialModes)
        if (!plan.authModes().contains(credential.kind())) {
            return AccessDecision.Denied.of(
                    DenyReason.AUTH_MODE_NOT_ALLOWED,
                    "plan " + plan.name() + " does not admit "
                            + credential.kind().name().toLowerCase(),
                    subscription);
        }
        return new AccessDecision.Granted(
                subscription, plan, credential, credential.state() == CredentialState.ROTATING);
    }

    // An application may hold an old suspended subscription beside a new active one on the same publish: the live one
    // decides, so a customer who re-subscribed is not refused by its past.
    private static int preference(Subscription s) {
        return switch (s.state()) {
            case ACTIVE -> 0;
            case SUSPENDED -> 1;
            case PENDING -> 2;
            case CLOSED, REJECTED -> 3;
        };
    }
}
