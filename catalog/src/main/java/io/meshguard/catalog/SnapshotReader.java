package io.meshguard.catalog;

import static io.meshguard.catalog.CatalogRows.credentialsIn;
import static io.meshguard.catalog.CatalogRows.ids;
import static io.meshguard.catalog.CatalogRows.readApplication;
import static io.meshguard.catalog.CatalogRows.readPlan;
import static io.meshguard.catalog.CatalogRows.readPublish;
import static io.meshguard.catalog.CatalogRows.readSubscription;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The subscription snapshot extauthz decides from, read in one transaction outside any tenant scope. */
final class SnapshotReader {
    private final CatalogTransactions tx;

    SnapshotReader(CatalogTransactions tx) {
        this.tx = tx;
    }

    // ------------------------------------------------------------------ the snapshot extauthz decides from

    /**
     * Every publish, plan, application, credential and subscription, read in one repeatable-read transaction so the
     * snapshot is one consistent state; {@code version} is the caller's (the controller numbers what it pushes).
     */
    SubscriptionSnapshot snapshot(long version) {
        try (Connection c = tx.connection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            try {
                List<ProductPublish> publishes = new ArrayList<>();
                for (String id : ids(c, "select id from product_publish")) {
                    readPublish(c, id).ifPresent(publishes::add);
                }
                List<Plan> plans = new ArrayList<>();
                for (String id : ids(c, "select id from plan")) {
                    readPlan(c, id).ifPresent(plans::add);
                }
                List<Application> apps = new ArrayList<>();
                for (String id : ids(c, "select id from application")) {
                    readApplication(c, id).ifPresent(apps::add);
                }
                List<Subscription> subs = new ArrayList<>();
                for (String id : ids(c, "select id from subscription")) {
                    readSubscription(c, id).ifPresent(subs::add);
                }
                List<Credential> creds = credentialsIn(c);
                c.commit();
                return new SubscriptionSnapshot(version, publishes, plans, apps, creds, subs);
            } finally {
                c.rollback();
                c.setReadOnly(false);
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the catalogue: " + e.getMessage(), e);
        }
    }
}
