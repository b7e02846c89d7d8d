package io.meshguard.catalog;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.CalendarQuota;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Limit;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.SharedCatalog;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.catalogmodel.TenantHoldings;
import io.meshguard.catalogmodel.UnreadableRows;
import io.meshguard.contract.subscription.v1.SubscriptionStateProto;
import io.meshguard.contract.subscription.v1.SubscriptionStateProto.TenantState;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link SubscriptionSnapshot} as the {@code meshguard.catalog.v1.SubscriptionState} message
 * ({@code contract/src/main/proto/meshguard/catalog/v1/subscription_state.proto}): the subscription-state stream's one
 * resource and what the zone stream carries. Ids and states only: a credential's id, never its hash or secret. Reading
 * validates as the constructors do. A tenant, publish or plan holding a value this release does not know (a newer
 * producer's) is read as unreadable, not refused whole: its calls are refused and every other tenant is decided from
 * the new state. A message whose shape is wrong (a duplicate id, a resource holding the wrong parts) is refused, so
 * a replica NACKs it.
 */
public final class SnapshotMessage {
    /** The resource's type, also its {@code Any} type_url. */
    public static final String TYPE_URL = "type.googleapis.com/meshguard.catalog.v1.SubscriptionState";

    private SnapshotMessage() {}

    /** The snapshot as the subscription-state stream's one resource. */
    public static Any resource(SubscriptionSnapshot snapshot) {
        return Any.pack(write(snapshot));
    }

    /**
     * The snapshot the subscription-state stream's resource carries.
     *
     * @throws IllegalArgumentException naming what is wrong (the caller NACKs with it)
     */
    public static SubscriptionSnapshot fromResource(Any resource) {
        return read(parse(resource));
    }

    public static SubscriptionStateProto.SubscriptionState write(SubscriptionSnapshot s) {
        SubscriptionStateProto.SubscriptionState.Builder out =
                shared(s.shared()).setVersion(s.version());
        // one entry per tenant, in tenant order: each is what the delta stream's tenant resource carries
        new TreeMap<>(s.tenants()).values().forEach(t -> out.addTenants(tenant(t)));
        return out.build();
    }

    /** The delta stream's {@code shared} resource: {@code shared}'s publishes and plans, under {@code version}. */
    public static Any sharedResource(long version, SharedCatalog shared) {
        return Any.pack(shared(shared).setVersion(version).build());
    }

    /** The delta stream's resource of {@code holdings}' tenant, under {@code version}. */
    public static Any tenantResource(long version, TenantHoldings holdings) {
        return Any.pack(SubscriptionStateProto.SubscriptionState.newBuilder()
                .setVersion(version)
                .addTenants(tenant(holdings))
                .build());
    }

    /**
     * What providers offer, from the delta stream's {@code shared} resource.
     *
     * @throws IllegalArgumentException naming what is wrong (the caller NACKs with it)
     */
    public static SharedCatalog readShared(Any resource) {
        SubscriptionStateProto.SubscriptionState m = parse(resource);
        if (m.getTenantsCount() != 0) {
            throw new IllegalArgumentException("the shared resource holds tenants");
        }
        return readShared(m);
    }

    /**
     * What {@code tenant} holds, from the delta stream's resource of that tenant.
     *
     * @throws IllegalArgumentException naming what is wrong (the caller NACKs with it)
     */
    public static TenantHoldings readTenant(String tenant, Any resource) {
        SubscriptionStateProto.SubscriptionState m = parse(resource);
        if (m.getPublishesCount() != 0 || m.getPlansCount() != 0) {
            throw new IllegalArgumentException("tenant " + tenant + "'s resource holds publishes or plans");
        }
        if (m.getTenantsCount() != 1 || !m.getTenants(0).getTenant().equals(tenant)) {
            throw new IllegalArgumentException("tenant " + tenant + "'s resource holds another tenant or none");
        }
        try {
            return holdings(m.getTenants(0));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tenant " + tenant + ": " + e.getMessage(), e);
        }
    }

    private static SubscriptionStateProto.SubscriptionState parse(Any resource) {
        if (!resource.getTypeUrl().equals(TYPE_URL)) {
            throw new IllegalArgumentException("resource type_url " + resource.getTypeUrl() + ", expected " + TYPE_URL);
        }
        try {
            return SubscriptionStateProto.SubscriptionState.parseFrom(resource.getValue());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("the resource is not a SubscriptionState message: " + e.getMessage());
        }
    }

    private static SubscriptionStateProto.SubscriptionState.Builder shared(SharedCatalog s) {
        SubscriptionStateProto.SubscriptionState.Builder out = SubscriptionStateProto.SubscriptionState.newBuilder();
        s.publishes().stream()
                .sorted(Comparator.comparing(ProductPublish::id))
                .forEach(p -> out.addPublishes(SubscriptionStateProto.Publish.newBuilder()
                        .setId(p.id())
                        .setProductId(p.productId())
                        .setCluster(p.cluster())
                        .setEnvironment(wire(SubscriptionStateProto.Environment.class, "ENVIRONMENT_", p.environment()))
                        .setAuthMode(authMode(p.authMode()))
                        .setState(wire(SubscriptionStateProto.Publish.State.class, "STATE_", p.state()))
                        .setHost(p.host().name())));
        s.plans().stream().sorted(Comparator.comparing(Plan::id)).forEach(p -> {
            SubscriptionStateProto.Plan.Builder plan = SubscriptionStateProto.Plan.newBuilder()
                    .setId(p.id())
                    .setProductId(p.productId())
                    .setName(p.name())
                    .setState(wire(SubscriptionStateProto.Plan.State.class, "STATE_", p.state()))
                    .setLimits(limits(p.limits()))
                    .setApproval(wire(SubscriptionStateProto.Plan.Approval.class, "APPROVAL_", p.approval()));
            new TreeMap<>(p.operationLimits()).forEach((op, l) -> plan.putOperationLimits(op, limits(l)));
            p.authModes().stream().sorted().forEach(m -> plan.addAuthModes(authMode(m)));
            out.addPlans(plan);
        });
        out.putAllUnreadablePublishes(new TreeMap<>(s.unreadablePublishes()));
        s.unreadablePlans().stream().sorted().forEach(out::addUnreadablePlans);
        return out;
    }

    private static TenantState tenant(TenantHoldings h) {
        TenantState.Builder out = TenantState.newBuilder().setTenant(h.tenant());
        h.unreadable().ifPresent(why -> out.setUnreadable(why)
                .addAllUnreadableCredentials(
                        h.unreadableCredentials().stream().sorted().toList()));
        h.applications().stream()
                .sorted(Comparator.comparing(Application::id))
                .forEach(a -> out.addApplications(SubscriptionStateProto.Application.newBuilder()
                        .setId(a.id())
                        .setName(a.name())
                        .setState(wire(SubscriptionStateProto.Application.State.class, "STATE_", a.state()))));
        h.credentials().stream()
                .sorted(Comparator.comparing(Credential::kind).thenComparing(Credential::id))
                .forEach(c -> {
                    SubscriptionStateProto.Credential.Builder cred = SubscriptionStateProto.Credential.newBuilder()
                            .setId(c.id())
                            .setKind(authMode(c.kind()))
                            .setApplicationId(c.applicationId())
                            .setState(wire(SubscriptionStateProto.Credential.State.class, "STATE_", c.state()))
                            .addAllSubscriptionIds(
                                    c.subscriptionIds().stream().sorted().toList());
                    c.expiresAt().ifPresent(t -> cred.setExpiresAt(timestamp(t)));
                    c.overlapEndsAt().ifPresent(t -> cred.setOverlapEndsAt(timestamp(t)));
                    out.addCredentials(cred);
                });
        h.subscriptions().stream()
                .sorted(Comparator.comparing(Subscription::id))
                .forEach(x -> out.addSubscriptions(SubscriptionStateProto.Subscription.newBuilder()
                        .setId(x.id())
                        .setApplicationId(x.applicationId())
                        .setPublishId(x.publishId())
                        .setPlanId(x.planId())
                        .setState(wire(SubscriptionStateProto.Subscription.State.class, "STATE_", x.state()))));
        return out.build();
    }

    /**
     * @throws IllegalArgumentException naming the first field that is missing or wrong
     */
    public static SubscriptionSnapshot read(SubscriptionStateProto.SubscriptionState m) {
        SharedCatalog shared = readShared(m);
        List<TenantHoldings> holdings = new ArrayList<>();
        for (TenantState t : m.getTenantsList()) {
            holdings.add(holdings(t));
        }
        return new SubscriptionSnapshot(m.getVersion(), shared, holdings);
    }

    /** What {@code t} holds, or the tenant as unreadable when the producer said so or a value is unknown here. */
    private static TenantHoldings holdings(TenantState t) {
        if (!t.getUnreadable().isEmpty()) {
            return TenantHoldings.unreadable(
                    t.getTenant(), t.getUnreadable(), Set.copyOf(t.getUnreadableCredentialsList()));
        }
        List<Application> apps = new ArrayList<>();
        List<Credential> creds = new ArrayList<>();
        List<Subscription> subs = new ArrayList<>();
        try {
            readTenant(t, apps, creds, subs);
        } catch (IllegalArgumentException e) {
            Set<String> keys = new HashSet<>();
            t.getCredentialsList().forEach(c -> keys.add(UnreadableRows.credentialKey(kind(c.getKind()), c.getId())));
            return TenantHoldings.unreadable(t.getTenant(), e.getMessage(), keys);
        }
        return new TenantHoldings(t.getTenant(), apps, creds, subs);
    }

    /** A credential kind as the catalogue names it ({@code APIKEY}), or protobuf's name of a value unknown here. */
    private static String kind(SubscriptionStateProto.AuthMode mode) {
        String name = mode.name();
        return name.startsWith("AUTH_MODE_") ? name.substring("AUTH_MODE_".length()) : name;
    }

    private static SharedCatalog readShared(SubscriptionStateProto.SubscriptionState m) {
        List<ProductPublish> pubs = new ArrayList<>();
        Map<String, String> unreadablePublishes = new TreeMap<>(m.getUnreadablePublishesMap());
        Set<String> unreadablePlans = new HashSet<>(m.getUnreadablePlansList());
        for (SubscriptionStateProto.Publish p : m.getPublishesList()) {
            try {
                pubs.add(publish(p));
            } catch (IllegalArgumentException e) {
                unreadablePublishes.put(p.getId(), e.getMessage());
            }
        }
        List<Plan> plans = new ArrayList<>();
        for (SubscriptionStateProto.Plan p : m.getPlansList()) {
            try {
                plans.add(plan(p));
            } catch (IllegalArgumentException e) {
                unreadablePlans.add(p.getId());
            }
        }
        return new SharedCatalog(pubs, plans, unreadablePublishes, unreadablePlans);
    }

    private static ProductPublish publish(SubscriptionStateProto.Publish p) {
        return new ProductPublish(
                p.getId(),
                p.getProductId(),
                p.getCluster(),
                local(Environment.class, "ENVIRONMENT_", p.getEnvironment(), "publish " + p.getId() + " environment"),
                authMode(p.getAuthMode(), "publish " + p.getId() + " auth_mode"),
                local(PublishState.class, "STATE_", p.getState(), "publish " + p.getId() + " state"),
                new PublishHost(p.getHost()));
    }

    private static Plan plan(SubscriptionStateProto.Plan p) {
        String where = "plan " + p.getId();
        Set<AuthMode> modes = EnumSet.noneOf(AuthMode.class);
        p.getAuthModesList().forEach(a -> modes.add(authMode(a, where + " auth_modes")));
        Map<String, PlanLimits> operations = new LinkedHashMap<>();
        p.getOperationLimitsMap().forEach((op, l) -> operations.put(op, limits(l, where + " operation_limits." + op)));
        return new Plan(
                p.getId(),
                p.getProductId(),
                p.getName(),
                local(PlanState.class, "STATE_", p.getState(), where + " state"),
                limits(p.getLimits(), where + " limits"),
                operations,
                local(Plan.Approval.class, "APPROVAL_", p.getApproval(), where + " approval"),
                modes);
    }

    private static void readTenant(
            TenantState t, List<Application> apps, List<Credential> creds, List<Subscription> subs) {
        for (SubscriptionStateProto.Application a : t.getApplicationsList()) {
            apps.add(new Application(
                    a.getId(),
                    t.getTenant(),
                    a.getName(),
                    local(ApplicationState.class, "STATE_", a.getState(), "application " + a.getId() + " state")));
        }
        for (SubscriptionStateProto.Credential c : t.getCredentialsList()) {
            creds.add(new Credential(
                    c.getId(),
                    authMode(c.getKind(), "credential " + c.getId() + " kind"),
                    c.getApplicationId(),
                    local(CredentialState.class, "STATE_", c.getState(), "credential " + c.getId() + " state"),
                    c.hasExpiresAt() ? Optional.of(instant(c.getExpiresAt())) : Optional.empty(),
                    c.hasOverlapEndsAt() ? Optional.of(instant(c.getOverlapEndsAt())) : Optional.empty(),
                    new HashSet<>(c.getSubscriptionIdsList())));
        }
        for (SubscriptionStateProto.Subscription x : t.getSubscriptionsList()) {
            subs.add(new Subscription(
                    x.getId(),
                    x.getApplicationId(),
                    x.getPublishId(),
                    x.getPlanId(),
                    local(SubscriptionState.class, "STATE_", x.getState(), "subscription " + x.getId() + " state")));
        }
    }

    private static SubscriptionStateProto.PlanLimits limits(PlanLimits limits) {
        SubscriptionStateProto.PlanLimits.Builder out = SubscriptionStateProto.PlanLimits.newBuilder();
        for (Limit l : limits.rates()) {
            out.addRates(SubscriptionStateProto.RateLimit.newBuilder()
                    .setRequests(l.requests())
                    .setPer(Duration.newBuilder()
                            .setSeconds(l.per().getSeconds())
                            .setNanos(l.per().getNano())));
        }
        limits.quota()
                .ifPresent(q -> out.setQuota(SubscriptionStateProto.CalendarQuota.newBuilder()
                        .setPeriod(wire(SubscriptionStateProto.CalendarQuota.Period.class, "PERIOD_", q.period()))
                        .setLimit(q.limit())
                        .setTimeZone(q.zone().getId())
                        .setBlockWhenUsedUp(q.blockWhenUsedUp())));
        return out.build();
    }

    private static PlanLimits limits(SubscriptionStateProto.PlanLimits m, String where) {
        try {
            List<Limit> rates = new ArrayList<>();
            for (SubscriptionStateProto.RateLimit r : m.getRatesList()) {
                rates.add(new Limit(
                        r.getRequests(),
                        java.time.Duration.ofSeconds(
                                r.getPer().getSeconds(), r.getPer().getNanos())));
            }
            Optional<CalendarQuota> quota = Optional.empty();
            if (m.hasQuota()) {
                SubscriptionStateProto.CalendarQuota q = m.getQuota();
                quota = Optional.of(new CalendarQuota(
                        local(CalendarQuota.Period.class, "PERIOD_", q.getPeriod(), "quota period"),
                        q.getLimit(),
                        ZoneId.of(q.getTimeZone()),
                        q.getBlockWhenUsedUp()));
            }
            return new PlanLimits(rates, quota);
        } catch (IllegalArgumentException | DateTimeException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static SubscriptionStateProto.AuthMode authMode(AuthMode mode) {
        return wire(SubscriptionStateProto.AuthMode.class, "AUTH_MODE_", mode);
    }

    private static AuthMode authMode(SubscriptionStateProto.AuthMode mode, String where) {
        return local(AuthMode.class, "AUTH_MODE_", mode, where);
    }

    /** The message's value of a catalogue enum: the same name under the message enum's prefix. */
    static <P extends Enum<P>> P wire(Class<P> type, String prefix, Enum<?> value) {
        return Enum.valueOf(type, prefix + value.name());
    }

    /**
     * The catalogue's value of a message enum, refusing UNSPECIFIED and a value this release does not know.
     *
     * @throws IllegalArgumentException naming {@code where}
     */
    static <E extends Enum<E>> E local(Class<E> type, String prefix, Enum<?> value, String where) {
        String name = value.name();
        if (name.startsWith(prefix) && !name.equals(prefix + "UNSPECIFIED")) {
            try {
                return Enum.valueOf(type, name.substring(prefix.length()));
            } catch (IllegalArgumentException e) {
                // falls through to the refusal naming the field
            }
        }
        throw new IllegalArgumentException(where + ": unknown value " + name);
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder()
                .setSeconds(t.getEpochSecond())
                .setNanos(t.getNano())
                .build();
    }

    private static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }
}
