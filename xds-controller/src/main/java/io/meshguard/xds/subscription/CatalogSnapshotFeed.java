package io.meshguard.xds.subscription;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.UnreadableTenantLog;
import io.meshguard.catalogmodel.SharedCatalog;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.TenantCatalog;
import io.meshguard.catalogmodel.TenantHoldings;
import io.meshguard.db.PgChannelListener;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the subscription snapshot current and hands each new one to the {@link SubscriptionStateService}. Changes
 * arrive by PostgreSQL {@code LISTEN} on the channel whose triggers (migration V72) notify, at commit, the tenant
 * each changed row belongs to: the feed rereads only those tenants' rows ({@link CatalogStore#tenantCatalogs}) and
 * swaps their part of the state it keeps ({@link SubscriptionSnapshot#with}: the other tenants' parts are shared, not
 * rebuilt), so a suspension costs one tenant's read whatever the catalogue's size.
 * Everything is read (with one query per table) when the listener (re)connects, since notifications sent while no one
 * listened are lost, and every {@code resync} as the safety net; a tenant whose rows did not change keeps the version.
 */
public final class CatalogSnapshotFeed implements AutoCloseable {
    /** The channel V72's {@code meshguard_catalog_tenant_changed} trigger notifies. */
    public static final String CHANNEL = "meshguard_catalog";

    private static final Logger LOG = LoggerFactory.getLogger(CatalogSnapshotFeed.class);

    private final CatalogStore store;
    private final Consumer<SubscriptionSnapshot> service;
    private final PgChannelListener channel;
    // versions start at the wall clock so a restarted controller never serves a version number it served before
    private final AtomicLong version = new AtomicLong(System.currentTimeMillis());
    /** Each tenant's part of the state handed on last (guarded by {@code changed}'s lock). */
    private final Map<String, TenantCatalog> held = new HashMap<>();

    /** The snapshot handed on last (guarded by {@code changed}'s lock). */
    private Optional<SubscriptionSnapshot> published = Optional.empty();

    private final UnreadableTenantLog unreadable = new UnreadableTenantLog(LOG, "the controller");

    public CatalogSnapshotFeed(
            DataSource dataSource, CatalogStore store, SubscriptionStateService service, Duration resync) {
        this(dataSource, store, (Consumer<SubscriptionSnapshot>) service::publish, resync);
    }

    /** Hands each snapshot to {@code service} (central's zone hub sends them to the zones). */
    public CatalogSnapshotFeed(
            DataSource dataSource, CatalogStore store, Consumer<SubscriptionSnapshot> service, Duration resync) {
        this.store = store;
        this.service = service;
        // a (re)connected listener reads everything at once: whatever changed while no one was listening
        this.channel = new PgChannelListener(dataSource, CHANNEL, Duration.ZERO, resync, this::changed);
    }

    /** Publishes the first snapshot before returning, then follows changes on a virtual thread. */
    public CatalogSnapshotFeed start() {
        changed(Optional.empty());
        channel.start("catalog-snapshot-feed");
        return this;
    }

    /**
     * Rereads {@code tenants} (everything when empty) and publishes when any tenant's part differs from what was
     * handed on: the resync reads an unchanged catalogue too, and its version stays, so a replica's (and a zone's)
     * version moves only when what it decides from does.
     */
    private synchronized void changed(Optional<Set<String>> named) {
        // nothing handed on yet, or the last attempt failed: everything is read, so the state handed on is whole
        Optional<Set<String>> tenants = published.isEmpty() ? Optional.empty() : named;
        try {
            Map<String, TenantCatalog> read = store.tenantCatalogs(tenants);
            Map<String, Optional<TenantHoldings>> changes = new HashMap<>();
            boolean offerMoved = false;
            if (tenants.isEmpty()) {
                for (String gone : Set.copyOf(held.keySet())) {
                    if (!read.containsKey(gone)) {
                        TenantCatalog was = held.remove(gone);
                        offerMoved |= !was.publishes().isEmpty()
                                || !was.plans().isEmpty()
                                || was.unreadable().isPresent();
                        changes.put(gone, Optional.empty());
                    }
                }
            }
            for (TenantCatalog t : read.values()) {
                TenantCatalog was = held.get(t.tenant());
                if (t.equals(was) || (was == null && t.isEmpty())) {
                    continue;
                }
                TenantCatalog before = was == null ? TenantCatalog.empty(t.tenant()) : was;
                boolean readable = t.unreadable().equals(before.unreadable());
                offerMoved |= !readable
                        || !t.publishes().equals(before.publishes())
                        || !t.plans().equals(before.plans());
                if (!readable
                        || !t.applications().equals(before.applications())
                        || !t.credentials().equals(before.credentials())
                        || !t.subscriptions().equals(before.subscriptions())) {
                    changes.put(t.tenant(), Optional.of(SubscriptionSnapshot.holdings(t)));
                }
                if (t.isEmpty()) {
                    held.remove(t.tenant());
                } else {
                    held.put(t.tenant(), t);
                }
            }
            if (published.isPresent() && changes.isEmpty() && !offerMoved) {
                return;
            }
            // only a publish or a plan rebuilds what providers offer (their rows, never the subscriptions); a tenant
            // whose holdings did not change keeps its part, so replicas receive the changed tenants alone
            Optional<SharedCatalog> shared =
                    offerMoved || published.isEmpty() ? Optional.of(shared()) : Optional.empty();
            SubscriptionSnapshot next =
                    published.orElse(SubscriptionSnapshot.empty(0)).with(version.incrementAndGet(), shared, changes);
            published = Optional.of(next);
            unreadable.saw(next);
            service.accept(next);
        } catch (RuntimeException e) {
            // replicas keep their last snapshot; past their staleness bound they refuse product routes
            LOG.warn("subscription state not refreshed: {}", e.getMessage());
            // what is held may be ahead of what was handed on: start again from a whole read (the service sends
            // replicas only what differs from what they hold)
            held.clear();
            published = Optional.empty();
        }
    }

    private SharedCatalog shared() {
        return SharedCatalog.of(held.values());
    }

    /** Stops listening (see {@link PgChannelListener#close()}). */
    @Override
    public void close() {
        channel.close();
    }
}
