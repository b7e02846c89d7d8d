package io.meshguard.xds.subscription;

import io.meshguard.catalog.CatalogStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
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

    private final DataSource dataSource;
    private final CatalogStore store;
    private final SubscriptionStateService service;
    private final Duration resync;
    private final AtomicBoolean running = new AtomicBoolean();
    // versions start at the wall clock so a restarted controller never serves a version number it served before
    private final AtomicLong version = new AtomicLong(System.currentTimeMillis());
    private Thread thread;

    public CatalogSnapshotFeed(DataSource dataSource, CatalogStore store, SubscriptionStateService service,
                               Duration resync) {
        this.dataSource = dataSource;
        this.store = store;
        this.service = service;
        this.resync = resync;
    }

    /** Publishes the first snapshot before returning, then follows changes on a virtual thread. */
    public CatalogSnapshotFeed start() {
        rebuild();
        running.set(true);
        thread = Thread.ofVirtual().name("catalog-snapshot-feed").start(this::loop);
        return this;
    }

    private void loop() {
        while (running.get()) {
            try (Connection c = dataSource.getConnection()) {
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + CHANNEL);
                }
                // whatever changed while no one was listening
                rebuild();
                PGConnection pg = c.unwrap(PGConnection.class);
                long nextResync = System.nanoTime() + resync.toNanos();
                while (running.get()) {
                    long waitMs = Math.max(1, Math.min(1000, (nextResync - System.nanoTime()) / 1_000_000));
                    PGNotification[] notes = pg.getNotifications((int) waitMs);
                    if (!running.get()) {
                        return;
                    }
                    if ((notes != null && notes.length > 0) || System.nanoTime() >= nextResync) {
                        rebuild();
                        nextResync = System.nanoTime() + resync.toNanos();
                    }
                }
            } catch (SQLException e) {
                if (running.get()) {
                    LOG.warn("catalogue listener lost its connection, retrying: {}", e.getMessage());
                    pause();
                }
            }
        }
    }

    private void rebuild() {
        try {
            service.publish(store.snapshot(version.incrementAndGet()));
        } catch (RuntimeException e) {
            // replicas keep their last snapshot; past their staleness bound they refuse product routes
            LOG.warn("subscription state not refreshed: {}", e.getMessage());
        }
    }

    private static void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops listening, woken by a NOTIFY rather than an interrupt (an interrupt closes the socket under the pooled
     * connection, which the pool then logs as broken); the interrupt stays the fallback when the database is gone.
     */
    @Override
    public void close() {
        running.set(false);
        if (thread == null) {
            return;
        }
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.execute("NOTIFY " + CHANNEL);
        } catch (SQLException | RuntimeException e) {
            thread.interrupt();
        }
        try {
            if (!thread.join(Duration.ofSeconds(5))) {
                thread.interrupt();
                thread.join(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
