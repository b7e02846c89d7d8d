package io.meshguard.xds.subscription;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.SubscriptionSnapshot;
import io.meshguard.db.PgChannelListener;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the subscription snapshot whenever the catalogue changed and hands it to the
 * {@link SubscriptionStateService}. Changes arrive by PostgreSQL {@code LISTEN} on the channel migration V43's
 * triggers notify at commit, so a suspension reaches the replicas within one snapshot read and one stream send; a full
 * rebuild every {@code resync} is the safety net for notifications a dropped connection lost (and is when a
 * reconnected listener catches up).
 */
public final class CatalogSnapshotFeed implements AutoCloseable {
    /** The channel V43's {@code meshguard_catalog_changed} trigger notifies. */
    public static final String CHANNEL = "meshguard_catalog";

    private static final Logger LOG = LoggerFactory.getLogger(CatalogSnapshotFeed.class);

    private final CatalogStore store;
    private final java.util.function.Consumer<io.meshguard.catalog.SubscriptionSnapshot> service;
    private final PgChannelListener channel;
    // versions start at the wall clock so a restarted controller never serves a version number it served before
    private final AtomicLong version = new AtomicLong(System.currentTimeMillis());
    /** The snapshot handed on last (guarded by {@code rebuild}'s lock). */
    private Optional<SubscriptionSnapshot> last = Optional.empty();

    public CatalogSnapshotFeed(
            DataSource dataSource, CatalogStore store, SubscriptionStateService service, Duration resync) {
        this(
                dataSource,
                store,
                (java.util.function.Consumer<io.meshguard.catalog.SubscriptionSnapshot>) service::publish,
                resync);
    }

    /** Hands each snapshot to {@code service} (central's zone hub sends them to the zones). */
    public CatalogSnapshotFeed(
            DataSource dataSource,
            CatalogStore store,
            java.util.function.Consumer<io.meshguard.catalog.SubscriptionSnapshot> service,
            Duration resync) {
        this.store = store;
        this.service = service;
        // a (re)connected listener rebuilds at once: whatever changed while no one was listening
        this.channel = new PgChannelListener(dataSource, CHANNEL, Duration.ZERO, resync, this::rebuild);
    }

    /** Publishes the first snapshot before returning, then follows changes on a virtual thread. */
    public CatalogSnapshotFeed start() {
        rebuild();
        channel.start("catalog-snapshot-feed");
        return this;
    }

    private synchronized void rebuild() {
        try {
            SubscriptionSnapshot next = store.snapshot(version.get() + 1);
            // the resync rebuilds an unchanged catalogue too: its version stays, so a replica's (and a zone's)
            // version moves only when what it decides from does
            if (last.isPresent() && last.get().sameContentAs(next)) {
                return;
            }
            version.incrementAndGet();
            last = Optional.of(next);
            service.accept(next);
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
