package io.meshguard.catalog;

import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Everything extauthz needs to decide a product route, as one immutable, versioned value pushed to every replica
 * (docs/products.md "Enforcement"): no database lookup per request, and a replica either decides from a whole
 * snapshot or refuses with {@link DenyReason#SUBSCRIPTION_STATE_UNAVAILABLE}.
 */
public final class SubscriptionSnapshot {

    private final long version;
    private final List<Subscription> subscriptions;
    private final Map<String, ProductPublish> publishes;
    private final Map<String, Plan> plans;
    private final Map<String, Application> applications;
    private final Map<String, Credential> credentials;
    /**
     * What the Check looks up, worked out on first use ({@link #indexed()}): the controller only encodes a snapshot
     * and never decides from it, so it does not pay for them on every change.
     */
    private volatile Index index;

    /**
     * @param credentialsByKind credentials by kind, then id: the Check's lookup, without building a key per request
     * @param subscriptionsByPublishAndApp subscriptions by publish, then application (a few per pair at most)
     */
    private record Index(
            Map<AuthMode, Map<String, Resolved>> credentialsByKind,
            Map<String, Map<String, List<Subscription>>> subscriptionsByPublishAndApp) {}

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
        this.version = version;
        this.publishes = index(publishes, ProductPublish::id, "product publish");
        this.plans = index(plans, Plan::id, "plan");
        this.applications = index(applications, Application::id, "application");
        this.credentials = index(credentials, c -> c.kind() + "/" + c.id(), "credential");
        index(subscriptions, Subscription::id, "subscription");
        this.subscriptions = List.copyOf(subscriptions);
        for (Subscription s : subscriptions) {
            if (!this.plans.containsKey(s.planId())) {
                throw new IllegalArgumentException("subscription " + s.id() + " names unknown plan " + s.planId());
            }
        }
    }

    /**
     * This snapshot with the Check's lookups worked out: a replica calls it before it swaps the snapshot in, so no
     * Check waits for them (a snapshot that was never indexed works them out at its first decision).
     */
    public SubscriptionSnapshot indexed() {
        index();
        return this;
    }

    private Index index() {
        Index i = index;
        if (i == null) {
            synchronized (this) {
                i = index;
                if (i == null) {
                    i = buildIndex();
                    index = i;
                }
            }
        }
        return i;
    }

    private Index buildIndex() {
        Map<String, Map<String, List<Subscription>>> byPublishAndApp = subscriptions.stream()
                .collect(Collectors.groupingBy(
                        Subscription::publishId,
                        Collectors.groupingBy(Subscription::applicationId, Collectors.toUnmodifiableList())));
        Map<String, java.util.Set<String>> publishesByApp = new HashMap<>();
        for (Subscription s : subscriptions) {
            publishesByApp
                    .computeIfAbsent(s.applicationId(), a -> new java.util.HashSet<>())
                    .add(s.publishId());
        }
        Map<AuthMode, Map<String, Resolved>> byKind = new java.util.EnumMap<>(AuthMode.class);
        for (Credential c : this.credentials.values()) {
            Map<String, AccessDecision> byPublish = new HashMap<>();
            for (String publish : publishesByApp.getOrDefault(c.applicationId(), java.util.Set.of())) {
                byPublish.put(publish, afterCredential(publish, c, byPublishAndApp));
            }
            byKind.computeIfAbsent(c.kind(), k -> new HashMap<>()).put(c.id(), new Resolved(c, Map.copyOf(byPublish)));
        }
        return new Index(byKind, byPublishAndApp);
    }

    /**
     * A credential and what it gets on each publish its application subscribes to, once it is usable: all of that
     * follows from the snapshot alone, so it is worked out when the snapshot is made, not on every Check. Only the
     * credential's own validity, which depends on the time, is checked per request.
     */
    private record Resolved(Credential credential, Map<String, AccessDecision> byPublish) {}

    public long version() {
        return version;
    }

    /**
     * Whether {@code other} holds the same publishes, plans, applications, credentials and subscriptions, whatever
     * its version: a producer that rebuilt an unchanged catalogue keeps its version, so a version moves only when
     * what replicas decide from does (a replica's version is what an operator compares across replicas and zones).
     */
    public boolean sameContentAs(SubscriptionSnapshot other) {
        return publishes.equals(other.publishes)
                && plans.equals(other.plans)
                && applications.equals(other.applications)
                && credentials.equals(other.credentials)
                && java.util.Set.copyOf(subscriptions).equals(java.util.Set.copyOf(other.subscriptions));
    }

    /** This snapshot's content under another version. */
    public SubscriptionSnapshot withVersion(long version) {
        return new SubscriptionSnapshot(
                version,
                publishes.values(),
                plans.values(),
                applications.values(),
                credentials.values(),
                subscriptions);
    }

    /** The snapshot of every tenant's contribution ({@link TenantCatalog}), under {@code version}. */
    public static SubscriptionSnapshot of(long version, Collection<TenantCatalog> tenants) {
        List<ProductPublish> publishes = new java.util.ArrayList<>();
        List<Plan> plans = new java.util.ArrayList<>();
        List<Application> applications = new java.util.ArrayList<>();
        List<Credential> credentials = new java.util.ArrayList<>();
        List<Subscription> subscriptions = new java.util.ArrayList<>();
        for (TenantCatalog t : tenants) {
            publishes.addAll(t.publishes());
            plans.addAll(t.plans());
            applications.addAll(t.applications());
            credentials.addAll(t.credentials());
            subscriptions.addAll(t.subscriptions());
        }
        return new SubscriptionSnapshot(version, publishes, plans, applications, credentials, subscriptions);
    }

    /** An empty snapshot: every product route answers {@code no_subscription}. */
    public static SubscriptionSnapshot empty(long version) {
        return new SubscriptionSnapshot(version, List.of(), List.of(), List.of(), List.of(), List.of());
    }

    public Collection<ProductPublish> publishes() {
        return publishes.values();
    }

    public Collection<Plan> plans() {
        return plans.values();
    }

    public Collection<Application> applications() {
        return applications.values();
    }

    public Collection<Credential> credentials() {
        return credentials.values();
    }

    public List<Subscription> subscriptions() {
        return subscriptions;
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
        ProductPublish publish = publishes.get(publishId);
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
        Index idx = index();
        Resolved resolved =
                idx.credentialsByKind().getOrDefault(presented, Map.of()).get(credentialId);
        if (resolved == null) {
            return new AccessDecision.Denied(DenyReason.NO_SUBSCRIPTION, "credential has no subscription");
        }
        Credential credential = resolved.credential();
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
        AccessDecision known = resolved.byPublish().get(publishId);
        return known != null ? known : afterCredential(publishId, credential, idx.subscriptionsByPublishAndApp());
    }

    /**
     * What a usable {@code credential} gets on {@code publishId}: its application, then the subscription and its
     * plan. Depends on the snapshot alone (never on the time), so its answers are worked out once per snapshot.
     */
    private AccessDecision afterCredential(
            String publishId,
            Credential credential,
            Map<String, Map<String, List<Subscription>>> subscriptionsByPublishAndApp) {
        Application application = applications.get(credential.applicationId());
        if (application == null) {
            return new AccessDecision.Denied(DenyReason.NO_SUBSCRIPTION, "credential has no application");
        }
        if (application.state() == ApplicationState.SUSPENDED) {
            return new AccessDecision.Denied(DenyReason.APPLICATION_SUSPENDED, "application " + application.id());
        }
        // a loop, not a stream: this runs on every Check of a product route
        Subscription subscription = null;
        Subscription closedWithItsPlan = null;
        for (Subscription s : subscriptionsByPublishAndApp
                .getOrDefault(publishId, Map.of())
                .getOrDefault(application.id(), List.of())) {
            boolean bound = credential.subscriptionIds().isEmpty()
                    || credential.subscriptionIds().contains(s.id());
            boolean usable = bound && s.state() != SubscriptionState.CLOSED && s.state() != SubscriptionState.REJECTED;
            if (usable && (subscription == null || preference(s) < preference(subscription))) {
                subscription = s;
            }
            if (bound
                    && s.state() == SubscriptionState.CLOSED
                    && plans.get(s.planId()).state() == PlanState.CLOSED) {
                closedWithItsPlan = s;
            }
        }
        // closing a plan closes its subscriptions; the customer is told it was the plan, not left to guess why its
        // subscription vanished (a subscription the customer closed itself stays no_subscription)
        if (subscription == null && closedWithItsPlan != null) {
            return AccessDecision.Denied.of(
                    DenyReason.PLAN_CLOSED,
                    "plan " + plans.get(closedWithItsPlan.planId()).name(),
                    closedWithItsPlan);
        }
        if (subscription == null) {
            return new AccessDecision.Denied(DenyReason.NO_SUBSCRIPTION, "application " + application.id());
        }
        Plan plan = plans.get(subscription.planId());
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

    private static <T> Map<String, T> index(Collection<T> values, Function<T, String> key, String what) {
        Map<String, T> map = new HashMap<>();
        for (T value : values) {
            if (map.put(key.apply(value), value) != null) {
                throw new IllegalArgumentException("duplicate " + what + " " + key.apply(value));
            }
        }
        return Map.copyOf(map);
    }
}
