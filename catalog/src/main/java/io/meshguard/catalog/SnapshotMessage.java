package io.meshguard.catalog;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
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
 * validates as the constructors do and refuses an enum value it does not know, so a replica refuses (NACKs) a state it
 * could not decide from.
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
        if (!resource.getTypeUrl().equals(TYPE_URL)) {
            throw new IllegalArgumentException("resource type_url " + resource.getTypeUrl() + ", expected " + TYPE_URL);
        }
        try {
            return read(SubscriptionStateProto.SubscriptionState.parseFrom(resource.getValue()));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("the resource is not a SubscriptionState message: " + e.getMessage());
        }
    }

    public static SubscriptionStateProto.SubscriptionState write(SubscriptionSnapshot s) {
        SubscriptionStateProto.SubscriptionState.Builder out =
                SubscriptionStateProto.SubscriptionState.newBuilder().setVersion(s.version());
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
        // each tenant's entry holds its applications and what names them; an entry per tenant is what a per-tenant
        // resource will carry
        Map<String, String> tenantOf = new LinkedHashMap<>();
        s.applications().forEach(a -> tenantOf.put(a.id(), a.tenant()));
        Map<String, TenantState.Builder> tenants = new TreeMap<>();
        s.applications().stream().sorted(Comparator.comparing(Application::id)).forEach(a -> tenant(tenants, a.tenant())
                .addApplications(SubscriptionStateProto.Application.newBuilder()
                        .setId(a.id())
                        .setName(a.name())
                        .setState(wire(SubscriptionStateProto.Application.State.class, "STATE_", a.state()))));
        s.credentials().stream()
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
                    tenant(tenants, tenantOf.getOrDefault(c.applicationId(), ""))
                            .addCredentials(cred);
                });
        s.subscriptions().stream()
                .sorted(Comparator.comparing(Subscription::id))
                .forEach(x -> tenant(tenants, tenantOf.getOrDefault(x.applicationId(), ""))
                        .addSubscriptions(SubscriptionStateProto.Subscription.newBuilder()
                                .setId(x.id())
                                .setApplicationId(x.applicationId())
                                .setPublishId(x.publishId())
                                .setPlanId(x.planId())
                                .setState(wire(SubscriptionStateProto.Subscription.State.class, "STATE_", x.state()))));
        tenants.values().forEach(out::addTenants);
        return out.build();
    }

    /**
     * @throws IllegalArgumentException naming the first field that is missing or wrong
     */
    public static SubscriptionSnapshot read(SubscriptionStateProto.SubscriptionState m) {
        List<ProductPublish> pubs = new ArrayList<>();
        for (SubscriptionStateProto.Publish p : m.getPublishesList()) {
            pubs.add(new ProductPublish(
                    p.getId(),
                    p.getProductId(),
                    p.getCluster(),
                    local(
                            Environment.class,
                            "ENVIRONMENT_",
                            p.getEnvironment(),
                            "publish " + p.getId() + " environment"),
                    authMode(p.getAuthMode(), "publish " + p.getId() + " auth_mode"),
                    local(PublishState.class, "STATE_", p.getState(), "publish " + p.getId() + " state"),
                    new PublishHost(p.getHost())));
        }
        List<Plan> plans = new ArrayList<>();
        for (SubscriptionStateProto.Plan p : m.getPlansList()) {
            String where = "plan " + p.getId();
            Set<AuthMode> modes = EnumSet.noneOf(AuthMode.class);
            p.getAuthModesList().forEach(a -> modes.add(authMode(a, where + " auth_modes")));
            Map<String, PlanLimits> operations = new LinkedHashMap<>();
            p.getOperationLimitsMap()
                    .forEach((op, l) -> operations.put(op, limits(l, where + " operation_limits." + op)));
            plans.add(new Plan(
                    p.getId(),
                    p.getProductId(),
                    p.getName(),
                    local(PlanState.class, "STATE_", p.getState(), where + " state"),
                    limits(p.getLimits(), where + " limits"),
                    operations,
                    local(Plan.Approval.class, "APPROVAL_", p.getApproval(), where + " approval"),
                    modes));
        }
        List<Application> apps = new ArrayList<>();
        List<Credential> creds = new ArrayList<>();
        List<Subscription> subs = new ArrayList<>();
        for (TenantState t : m.getTenantsList()) {
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
                        local(
                                SubscriptionState.class,
                                "STATE_",
                                x.getState(),
                                "subscription " + x.getId() + " state")));
            }
        }
        return new SubscriptionSnapshot(m.getVersion(), pubs, plans, apps, creds, subs);
    }

    private static TenantState.Builder tenant(Map<String, TenantState.Builder> tenants, String tenant) {
        return tenants.computeIfAbsent(tenant, t -> TenantState.newBuilder().setTenant(t));
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
