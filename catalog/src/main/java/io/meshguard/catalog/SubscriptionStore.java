package io.meshguard.catalog;

import static io.meshguard.catalog.CatalogRows.askedBy;
import static io.meshguard.catalog.CatalogRows.byName;
import static io.meshguard.catalog.CatalogRows.count;
import static io.meshguard.catalog.CatalogRows.ids;
import static io.meshguard.catalog.CatalogRows.lockApplication;
import static io.meshguard.catalog.CatalogRows.lockSubscription;
import static io.meshguard.catalog.CatalogRows.lockSubscriptionShared;
import static io.meshguard.catalog.CatalogRows.lower;
import static io.meshguard.catalog.CatalogRows.readApplication;
import static io.meshguard.catalog.CatalogRows.readPlan;
import static io.meshguard.catalog.CatalogRows.readPublish;
import static io.meshguard.catalog.CatalogRows.readSubscription;
import static io.meshguard.catalog.CatalogRows.requireTenant;
import static io.meshguard.catalog.CatalogRows.rows;
import static io.meshguard.catalog.CatalogRows.setState;
import static io.meshguard.catalog.CatalogRows.strings;

import io.meshguard.access.Person;
import io.meshguard.catalog.CatalogStore.Side;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.CalendarQuota;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.PlanQuotaUse;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.Subscriber;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.catalogmodel.SubscriptionUsage;
import io.meshguard.db.TenantScope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/** Applications and their subscriptions to published products, seen from the provider's or the customer's side. */
final class SubscriptionStore {
    private final CatalogTransactions tx;

    SubscriptionStore(CatalogTransactions tx) {
        this.tx = tx;
    }

    // ------------------------------------------------------------------ applications

    Application createApplication(TenantScope scope, Application application, String owner) {
        return tx.run(scope, c -> {
            requireTenant(c, application.tenant());
            requireNameFree(c, application.tenant(), application.name(), application.id());
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into application (id, tenant, name, owner, state) values (?, ?, ?, ?, 'active')")) {
                ps.setString(1, application.id());
                ps.setString(2, application.tenant());
                ps.setString(3, application.name());
                ps.setString(4, owner);
                ps.executeUpdate();
            }
            return readApplication(c, application.id()).orElseThrow();
        });
    }

    List<Application> applications(TenantScope scope) {
        return tx.run(scope, c -> {
            List<Application> out = new ArrayList<>();
            for (String id : ids(c, "select id from application order by id")) {
                readApplication(c, id).ifPresent(out::add);
            }
            return out;
        });
    }

    Application renameApplication(TenantScope scope, String id, String name) {
        return tx.run(scope, c -> {
            Application app = lockApplication(c, id);
            requireNameFree(c, app.tenant(), name, id);
            try (PreparedStatement ps =
                    c.prepareStatement("update application set name = ?, updated_at = now() where id = ?")) {
                ps.setString(1, name);
                ps.setString(2, id);
                ps.executeUpdate();
            }
            return readApplication(c, id).orElseThrow();
        });
    }

    // Compared as the unique index application_name_uk compares (lower case), so "Shop" and "shop" are one name;
    // checked first to name the holder, the index settles two creations racing.
    private static void requireNameFree(Connection c, String tenant, String name, String self) throws SQLException {
        List<String> holders = strings(
                c,
                "select id from application where tenant = ? and lower(name) = lower(?) and id <> ? order by id",
                tenant,
                name,
                self);
        if (!holders.isEmpty()) {
            throw CatalogRefusal.applicationNameTaken(tenant, name, holders.get(0));
        }
    }

    Application moveApplication(TenantScope scope, String id, ApplicationState to) {
        return tx.run(scope, c -> {
            Application app = lockApplication(c, id);
            ApplicationState.LIFECYCLE.move(app.state(), to);
            setState(c, "application", "id = ?", lower(to), id);
            return readApplication(c, id).orElseThrow();
        });
    }

    // ------------------------------------------------------------------ subscriptions

    /**
     * Subscribes one of the scope's applications to a plan of a published product publish. The plan's approval decides
     * whether the subscription starts active or pending; the provider's tenant is taken from the product, never from
     * the caller.
     */
    Subscription subscribe(TenantScope scope, String applicationId, String publishId, String planId, String actor) {
        return subscribe(scope, applicationId, publishId, planId, byName(actor));
    }

    /** As above, by the person who asks (whom a manual plan's approval may not come from). */
    Subscription subscribe(TenantScope scope, String applicationId, String publishId, String planId, Person actor) {
        return tx.run(scope, c -> {
            Application app = lockApplication(c, applicationId);
            ProductPublish pub = readPublish(c, publishId)
                    .filter(p -> p.state() == PublishState.PUBLISHED)
                    .orElseThrow(() -> CatalogRefusal.notFound("product publish", publishId));
            Plan plan = readPlan(c, planId).orElseThrow(() -> CatalogRefusal.notFound("plan", planId));
            if (!plan.productId().equals(pub.productId())) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.INVALID, "plan " + planId + " is not a plan of product " + pub.productId());
            }
            if (!plan.state().acceptsSubscriptions()) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "plan " + plan.name() + " is " + lower(plan.state()) + " and takes no new subscriptions");
            }
            if (!plan.authModes().contains(pub.authMode())) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.INVALID,
                        "plan " + plan.name() + " does not admit " + lower(pub.authMode()) + ", the auth mode of "
                                + publishId);
            }
            if (count(
                            c,
                            "select count(*) from subscription where application_id = ? and publish_id = ?"
                                    + " and state in ('pending', 'active', 'suspended')",
                            applicationId,
                            publishId)
                    > 0) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "application " + applicationId + " already has a subscription on " + publishId
                                + ": change its plan instead");
            }
            String providerTenant = strings(c, "select tenant from product where id = ?", pub.productId())
                    .get(0);
            String id = "sub-" + UUID.randomUUID();
            try (PreparedStatement ps = c.prepareStatement("insert into subscription (id, application_id, publish_id,"
                    + " plan_id, state, provider_tenant, customer_tenant, requested_by, requested_by_person)"
                    + " values (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, id);
                ps.setString(2, applicationId);
                ps.setString(3, publishId);
                ps.setString(4, planId);
                ps.setString(5, lower(plan.initialSubscriptionState()));
                ps.setString(6, providerTenant);
                ps.setString(7, app.tenant());
                ps.setString(8, actor.name());
                ps.setString(9, actor.id());
                ps.executeUpdate();
            }
            return readSubscription(c, id).orElseThrow();
        });
    }

    /** Subscriptions the scope may see from either side (both sides see their shared rows). */
    List<Subscription> subscriptions(TenantScope scope) {
        return tx.run(scope, c -> {
            List<Subscription> out = new ArrayList<>();
            for (String id : ids(c, "select id from subscription order by created_at, id")) {
                readSubscription(c, id).ifPresent(out::add);
            }
            return out;
        });
    }

    /** Subscriptions on the scope's own products ({@link Side#PROVIDER}) or of its own applications. */
    List<Subscription> subscriptions(TenantScope scope, Side side) {
        String column = side == Side.PROVIDER ? "provider_tenant" : "customer_tenant";
        return tx.run(scope, c -> {
            List<Subscription> out = new ArrayList<>();
            for (String[] row : rows(c, "select id, " + column + " from subscription order by created_at, id")) {
                if (scope.includes(row[1])) {
                    readSubscription(c, row[0]).ifPresent(out::add);
                }
            }
            return out;
        });
    }

    /**
     * Who is behind each subscription on the scope's own products, by subscription id. The subscription rows are read
     * in the scope (row-level security); the application's name and the customer's display name are then read for
     * exactly those subscriptions, because a provider sees no row of another tenant's {@code application} table —
     * a name through a subscription to its own product, nothing else.
     */
    Map<String, Subscriber> subscribers(TenantScope scope) {
        return subscribers(scope, Optional.of(Side.PROVIDER));
    }

    /** As above, from either side ({@code side} empty: every subscription the scope may see). */
    private Map<String, Subscriber> subscribers(TenantScope scope, Optional<Side> side) {
        List<String[]> subs = tx
                .run(
                        scope,
                        c -> rows(
                                c,
                                "select id, provider_tenant, customer_tenant, application_id,"
                                        + " coalesce(requested_by, '') from subscription order by created_at, id"))
                .stream()
                .filter(r -> side.isEmpty() || scope.includes(side.get() == Side.PROVIDER ? r[1] : r[2]))
                .toList();
        if (subs.isEmpty()) {
            return Map.of();
        }
        String[] apps = subs.stream().map(r -> r[3]).distinct().toArray(String[]::new);
        String[] tenants = subs.stream().map(r -> r[2]).distinct().toArray(String[]::new);
        Map<String, String> appNames = new java.util.HashMap<>();
        Map<String, String> tenantNames = new java.util.HashMap<>();
        tx.run(TenantScope.ALL, c -> {
            try (PreparedStatement ps = c.prepareStatement("select id, name from application where id = any (?)")) {
                ps.setArray(1, c.createArrayOf("varchar", apps));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        appNames.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            try (PreparedStatement ps =
                    c.prepareStatement("select id, coalesce(display_name, id) from tenant" + " where id = any (?)")) {
                ps.setArray(1, c.createArrayOf("varchar", tenants));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        tenantNames.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            return null;
        });
        Map<String, Subscriber> out = new java.util.LinkedHashMap<>();
        for (String[] r : subs) {
            out.put(
                    r[0],
                    new Subscriber(
                            r[0],
                            r[2],
                            tenantNames.getOrDefault(r[2], r[2]),
                            r[3],
                            appNames.getOrDefault(r[3], r[3]),
                            r[4]));
        }
        return out;
    }

    /**
     * Every plan quota counted in its current period for the live subscriptions the scope may see (as provider or
     * customer): extauthz's {@code quota_usage} count under the subscription's counter against its plan's limit.
     * The counters and plans are read for exactly those subscriptions (the counter's caller names an application,
     * which no tenant policy on {@code quota_usage} resolves).
     */
    List<PlanQuotaUse> planQuotasInUse(TenantScope scope) {
        Map<String, Subscriber> who = subscribers(scope, Optional.empty());
        List<Subscription> live = subscriptions(scope).stream()
                .filter(s -> who.containsKey(s.id()))
                .filter(s -> s.state() == SubscriptionState.ACTIVE || s.state() == SubscriptionState.SUSPENDED)
                .toList();
        if (live.isEmpty()) {
            return List.of();
        }
        // one read of the counters and one per distinct plan, not one per subscription
        Map<String, Subscription> byCaller = new java.util.HashMap<>();
        live.forEach(s -> byCaller.put(s.quotaCaller(), s));
        return tx.run(TenantScope.ALL, c -> {
            Map<String, Optional<Plan>> plans = new java.util.HashMap<>();
            List<PlanQuotaUse> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select caller, quota, used, period_start from quota_usage"
                    + " where caller = any (?) and period_end > now() and (quota = 'subscription'"
                    + " or quota like 'subscription/%') order by caller, quota")) {
                ps.setArray(1, c.createArrayOf("varchar", byCaller.keySet().toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Subscription s = byCaller.get(rs.getString(1));
                        String counter = rs.getString(2);
                        Optional<Plan> plan = plans.get(s.planId());
                        if (plan == null) {
                            plan = readPlan(c, s.planId());
                            plans.put(s.planId(), plan);
                        }
                        String operation = counter.substring(counter.indexOf('/') + 1);
                        Optional<CalendarQuota> quota = plan.flatMap(p -> counter.equals("subscription")
                                ? p.limits().quota()
                                : Optional.ofNullable(p.operationLimits().get(operation))
                                        .flatMap(PlanLimits::quota));
                        if (quota.isPresent()) {
                            out.add(new PlanQuotaUse(
                                    who.get(s.id()),
                                    plan.get().name(),
                                    counter,
                                    rs.getLong(3),
                                    quota.get().limit(),
                                    rs.getDate(4).toLocalDate()));
                        }
                    }
                }
            }
            return out;
        });
    }

    /** Approves, rejects, suspends, resumes or closes; the actor and reason are kept with the row. */
    Subscription moveSubscription(
            TenantScope scope, Side side, String id, SubscriptionState to, String actor, String reason) {
        return moveSubscription(scope, side, id, to, byName(actor), reason);
    }

    /**
     * As above, by a person: who asked for a pending subscription never approves it (a provider and a customer in one
     * tenant would otherwise be one person deciding alone).
     */
    Subscription moveSubscription(
            TenantScope scope, Side side, String id, SubscriptionState to, Person actor, String reason) {
        return tx.run(scope, c -> {
            Subscription s = lockSubscription(c, id, scope, side);
            SubscriptionState.LIFECYCLE.move(s.state(), to);
            if (to == SubscriptionState.ACTIVE && s.state() == SubscriptionState.PENDING) {
                if (askedBy(c, id, actor)) {
                    throw new CatalogRefusal(
                            CatalogRefusal.Kind.FORBIDDEN,
                            actor.name() + " asked for subscription " + id + "; another person must approve it");
                }
                Plan plan = readPlan(c, s.planId()).orElseThrow();
                if (plan.state() == PlanState.CLOSED) {
                    throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT, "plan " + plan.name() + " is closed");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("update subscription set state = ?, decided_by = ?,"
                    + " reason = ?, updated_at = now() where id = ?")) {
                ps.setString(1, lower(to));
                ps.setString(2, actor.name());
                ps.setString(3, reason);
                ps.setString(4, id);
                ps.executeUpdate();
            }
            return readSubscription(c, id).orElseThrow();
        });
    }

    /**
     * Moves a live subscription to another published plan of the same product. The subscription keeps its id, so its
     * credentials keep working and its quota counters (keyed by subscription) carry over: docs/products.md.
     */
    Subscription changePlan(TenantScope scope, Side side, String id, String planId, String actor, String reason) {
        return tx.run(scope, c -> {
            Subscription s = lockSubscription(c, id, scope, side);
            Plan current = readPlan(c, s.planId()).orElseThrow();
            Plan next = readPlan(c, planId).orElseThrow(() -> CatalogRefusal.notFound("plan", planId));
            if (!next.productId().equals(current.productId())) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.INVALID,
                        "plan " + planId + " is not a plan of product " + current.productId());
            }
            if (!next.state().acceptsSubscriptions()) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "plan " + next.name() + " is " + lower(next.state()) + " and takes no new subscriptions");
            }
            if (side == Side.CUSTOMER && next.approval() == Plan.Approval.MANUAL) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "plan " + next.name()
                                + " needs the provider's approval: ask the provider to move the subscription");
            }
            Subscription moved = s.onPlan(planId);
            try (PreparedStatement ps = c.prepareStatement("update subscription set plan_id = ?, decided_by = ?,"
                    + " reason = ?, updated_at = now() where id = ?")) {
                ps.setString(1, moved.planId());
                ps.setString(2, actor);
                ps.setString(3, reason);
                ps.setString(4, id);
                ps.executeUpdate();
            }
            return readSubscription(c, id).orElseThrow();
        });
    }

    /**
     * Usage of one subscription since {@code from}, for the side that asks (each sees only its own subscriptions).
     * Counted from extauthz's audit rows that name the subscription (every decision made on it, admitted or refused):
     * calls refused before any subscription was found (an unknown key, no subscription) belong to none, and another
     * subscription of the same application counts its own.
     */
    SubscriptionUsage usage(TenantScope scope, Side side, String subscriptionId, Instant from) {
        Subscription s = tx.run(scope, c -> lockSubscriptionShared(c, subscriptionId, scope, side));
        return tx.run(TenantScope.ALL, c -> {
            long calls = 0;
            long allowed = 0;
            Map<String, Long> refused = new TreeMap<>();
            Map<String, Long> byCredential = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("select decision, reason,"
                    + " coalesce(details->>'api_key_id', client_id) as credential, count(*) from audit_event"
                    + " where kind = 'authz_decision' and occurred_at >= ? and details->>'"
                    + SubscriptionUsage.AUDIT_DETAIL + "' = ?"
                    + " group by decision, reason, credential")) {
                ps.setTimestamp(1, Timestamp.from(from));
                ps.setString(2, s.id());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long n = rs.getLong(4);
                        calls += n;
                        if ("allow".equals(rs.getString(1))) {
                            allowed += n;
                        } else {
                            refused.merge(rs.getString(2), n, Long::sum);
                        }
                        byCredential.merge(rs.getString(3), n, Long::sum);
                    }
                }
            }
            // the counters are the application's on this publish, never the plan's or the subscription's: a plan
            // change and a new subscription after a closed one carry what was used over
            Map<String, SubscriptionUsage.QuotaUsed> quotas = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("select quota, used, period_start, period_end"
                    + " from quota_usage where caller = ? and period_end > now()")) {
                ps.setString(1, s.quotaCaller());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        quotas.put(
                                rs.getString(1),
                                new SubscriptionUsage.QuotaUsed(
                                        rs.getLong(2),
                                        rs.getDate(3).toLocalDate(),
                                        rs.getTimestamp(4).toInstant()));
                    }
                }
            }
            return new SubscriptionUsage(s.id(), from, calls, allowed, refused, byCredential, quotas);
        });
    }
}
