package io.meshguard.catalog;

import static io.meshguard.catalog.CatalogRows.JSON;
import static io.meshguard.catalog.CatalogRows.strings;
import static io.meshguard.catalog.CatalogRows.upper;

import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.catalogmodel.TenantCatalog;
import io.meshguard.catalogmodel.UnreadableRows;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The subscription state extauthz decides from, read outside any tenant scope: per tenant ({@link TenantCatalog}),
 * for the tenants a change named or for all of them, with one query per table (never a query per row), so reading one
 * tenant costs that tenant's rows whatever the catalogue's size.
 */
final class SnapshotReader {
    private final CatalogTransactions tx;

    SnapshotReader(CatalogTransactions tx) {
        this.tx = tx;
    }

    /**
     * Every publish, plan, application, credential and subscription, read in one repeatable-read transaction so the
     * snapshot is one consistent state; {@code version} is the caller's (the controller numbers what it pushes).
     */
    SubscriptionSnapshot snapshot(long version) {
        return SubscriptionSnapshot.of(version, tenants(Optional.empty()).values());
    }

    /**
     * What each of {@code only} holds (every tenant when empty), read in one repeatable-read transaction. Each tenant
     * named is in the answer, empty when it holds nothing (so a caller drops what it kept of it).
     */
    Map<String, TenantCatalog> tenants(Optional<Set<String>> only) {
        try (Connection c = tx.connection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            try {
                Map<String, Rows> byTenant = new TreeMap<>();
                only.ifPresent(ts -> ts.forEach(t -> byTenant.put(t, new Rows())));
                Function<String, Rows> of = t -> byTenant.computeIfAbsent(t, k -> new Rows());
                String[] tenants = only.map(ts -> ts.toArray(String[]::new)).orElse(new String[0]);
                query(
                        c,
                        "select pp.id, pp.product_id, pp.cluster_id, pp.environment, pp.auth_mode, pp.state, pp.host,"
                                + " p.tenant from product_publish pp join product p on p.id = pp.product_id",
                        "p.tenant",
                        "pp.id",
                        tenants,
                        rs -> {
                            Rows r = of.apply(rs.getString(8));
                            r.publishIds.add(rs.getString(1));
                            r.read(
                                    "product publish " + rs.getString(1),
                                    () -> r.publishes.add(CatalogRows.publish(rs)));
                        });
                query(
                        c,
                        "select pl.id, pl.product_id, pl.name, pl.state, pl.limits::text, pl.operation_limits::text,"
                                + " pl.approval, pl.auth_modes, p.tenant from plan pl join product p"
                                + " on p.id = pl.product_id",
                        "p.tenant",
                        "pl.id",
                        tenants,
                        rs -> {
                            Rows r = of.apply(rs.getString(9));
                            r.planIds.add(rs.getString(1));
                            r.read("plan " + rs.getString(1), () -> r.plans.add(plan(rs)));
                        });
                query(c, "select id, tenant, name, state from application", "tenant", "id", tenants, rs -> {
                    Rows r = of.apply(rs.getString(2));
                    r.read(
                            "application " + rs.getString(1),
                            () -> r.applications.add(new Application(
                                    rs.getString(1),
                                    rs.getString(2),
                                    rs.getString(3),
                                    upper(ApplicationState.class, rs.getString(4)))));
                });
                query(
                        c,
                        "select cr.kind, cr.id, cr.application_id, cr.state, cr.expires_at, cr.overlap_ends_at,"
                                + " cr.tenant, array(select cs.subscription_id from credential_subscription cs"
                                + " where cs.kind = cr.kind and cs.credential_id = cr.id order by 1)"
                                + " from credential cr",
                        "cr.tenant",
                        "cr.kind, cr.id",
                        tenants,
                        rs -> {
                            Rows r = of.apply(rs.getString(7));
                            r.credentialKeys.add(UnreadableRows.credentialKey(
                                    rs.getString(1).toUpperCase(Locale.ROOT), rs.getString(2)));
                            r.read(
                                    "credential " + rs.getString(2),
                                    () -> r.credentials.add(new Credential(
                                            rs.getString(2),
                                            upper(AuthMode.class, rs.getString(1)),
                                            rs.getString(3),
                                            upper(CredentialState.class, rs.getString(4)),
                                            Optional.ofNullable(rs.getTimestamp(5))
                                                    .map(Timestamp::toInstant),
                                            Optional.ofNullable(rs.getTimestamp(6))
                                                    .map(Timestamp::toInstant),
                                            Set.of(strings(rs.getArray(8))))));
                        });
                query(
                        c,
                        "select id, application_id, publish_id, plan_id, state, customer_tenant from subscription",
                        "customer_tenant",
                        "id",
                        tenants,
                        rs -> {
                            Rows r = of.apply(rs.getString(6));
                            r.read(
                                    "subscription " + rs.getString(1),
                                    () -> r.subscriptions.add(new Subscription(
                                            rs.getString(1),
                                            rs.getString(2),
                                            rs.getString(3),
                                            rs.getString(4),
                                            upper(SubscriptionState.class, rs.getString(5)))));
                        });
                c.commit();
                Map<String, TenantCatalog> out = new TreeMap<>();
                byTenant.forEach((t, r) -> out.put(t, r.catalog(t)));
                return out;
            } finally {
                c.rollback();
                c.setReadOnly(false);
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the catalogue: " + e.getMessage(), e);
        }
    }

    /** One table's rows, of the tenants named (all when none is named), in id order. */
    private static void query(Connection c, String select, String tenantColumn, String order, String[] tenants, Row row)
            throws SQLException {
        String sql = select + (tenants.length > 0 ? " where " + tenantColumn + " = any(?)" : "") + " order by " + order;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (tenants.length > 0) {
                ps.setArray(1, c.createArrayOf("varchar", tenants));
            }
            ps.setFetchSize(10_000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    row.read(rs);
                }
            }
        }
    }

    private static Plan plan(ResultSet rs) throws SQLException {
        String id = rs.getString(1);
        Set<AuthMode> modes = EnumSet.noneOf(AuthMode.class);
        for (String m : strings(rs.getArray(8))) {
            modes.add(upper(AuthMode.class, m));
        }
        try {
            return new Plan(
                    id,
                    rs.getString(2),
                    rs.getString(3),
                    upper(PlanState.class, rs.getString(4)),
                    PlanLimitsJson.parse(JSON.readTree(rs.getString(5)), "plan " + id + " limits"),
                    PlanLimitsJson.parseOperations(JSON.readTree(rs.getString(6)), "plan " + id),
                    upper(Plan.Approval.class, rs.getString(7)),
                    modes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("stored limits are not JSON", e);
        }
    }

    @FunctionalInterface
    private interface Row {
        void read(ResultSet rs) throws SQLException;
    }

    @FunctionalInterface
    private interface Parse {
        void run() throws SQLException;
    }

    /**
     * One tenant's rows while they are read. A row this release cannot read (a value a newer release allows, limits a
     * broken write left) marks its tenant unreadable instead of failing the read: that tenant alone is refused, every
     * other tenant's state is refreshed. A failure of the database itself still fails the read.
     */
    private static final class Rows {
        final List<ProductPublish> publishes = new ArrayList<>();
        final List<Plan> plans = new ArrayList<>();
        final List<Application> applications = new ArrayList<>();
        final List<Credential> credentials = new ArrayList<>();
        final List<Subscription> subscriptions = new ArrayList<>();
        final Set<String> publishIds = new TreeSet<>();
        final Set<String> planIds = new TreeSet<>();
        final Set<String> credentialKeys = new TreeSet<>();
        Optional<String> unreadable = Optional.empty();

        void read(String row, Parse parse) throws SQLException {
            try {
                parse.run();
            } catch (RuntimeException e) {
                if (unreadable.isEmpty()) {
                    unreadable = Optional.of(row + ": " + e.getMessage());
                }
            }
        }

        TenantCatalog catalog(String tenant) {
            return unreadable
                    .map(why -> TenantCatalog.unreadable(
                            tenant, new UnreadableRows(why, publishIds, planIds, credentialKeys)))
                    .orElseGet(() ->
                            new TenantCatalog(tenant, publishes, plans, applications, credentials, subscriptions));
        }
    }
}
