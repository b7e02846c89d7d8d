package io.meshguard.xds.subscription;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.SubscriptionSnapshot;
import io.meshguard.catalog.TenantCatalog;
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
 * swaps their part of the state it keeps, so a suspension costs one tenant's read whatever the catalogue's size.
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

    private boolean published;

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
    private synchronized void changed(Optional<Set<String>> tenants) {
        try {
            Map<String, TenantCatalog> read = store.tenantCatalogs(tenants);
            boolean moved = false;
            if (tenants.isEmpty()) {
                moved = held.keySet().retainAll(read.keySet());
            }
            for (TenantCatalog t : read.values()) {
                if (t.isEmpty()) {
                    moved |= held.remove(t.tenant()) != null;
                } else if (!t.equals(held.get(t.tenant()))) {
                    held.put(t.tenant(), t);
                    moved = true;
                }
            }
            if (!moved && published) {
                return;
            }
            published = true;
            service.accept(SubscriptionSnapshot.of(version.incrementAndGet(), held.values()));
        } catch (RuntimeException e) {
            // replicas keep their last snapshot; past their staleness bound they refuse product routes
            LOG.warn("subscription state not refreshed: {}", e.getMessage());
        }
    }

    /** Stops listening (see {@link PgChannelListener#close()}). */
    @Override
    public void close() {
        channel.close();
    }
}
