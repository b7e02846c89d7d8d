package io.meshguard.xds.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells this replica that a revision was stored, by any replica: PostgreSQL {@code LISTEN} on
 * {@link PgRevisionStore#CHANNEL}, plus a reconcile every {@code reconcileInterval} as a safety net for lost
 * notifications (a dropped connection loses them). Bursts are debounced into one call of {@code onChange}.
 */
public final class RevisionListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RevisionListener.class);

    private final DataSource dataSource;
    private final PgRevisionStore store;
    private final Runnable onChange;
    private final Duration debounce;
    private final Duration reconcileInterval;
    private final AtomicBoolean running = new AtomicBoolean(false);
    private volatile long lastSeenId = -1;
    private Thread thread;

    public RevisionListener(DataSource dataSource, PgRevisionStore store, Runnable onChange, Duration debounce,
            Duration reconcileInterval) {
        this.dataSource = dataSource;
        this.store = store;
        this.onChange = onChange;
        this.debounce = debounce;
        this.reconcileInterval = reconcileInterval;
    }

    public RevisionListener start() {
        running.set(true);
        thread = Thread.ofVirtual().name("xds-revision-listener").start(this::loop);
        return this;
    }

    private void loop() {
        long nextReconcile = 0;
        while (running.get()) {
            try (Connection c = dataSource.getConnection()) {
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + PgRevisionStore.CHANNEL);
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running.get()) {
                    long now = System.nanoTime();
                    if (now >= nextReconcile) {
                        reconcile();
                        nextReconcile = now + reconcileInterval.toNanos();
                    }
                    long waitMs = Math.max(1, Math.min(1000, (nextReconcile - now) / 1_000_000));
                    PGNotification[] notes = pg.getNotifications((int) waitMs);
                    if (!running.get()) {
                        return; // woken by close()
                    }
                    if (notes != null && notes.length > 0) {
                        // let a multi-group publish finish committing before reading
                        Thread.sleep(debounce.toMillis());
                        pg.getNotifications(1);
                        changed();
                    }
                }
            } catch (SQLException e) {
                if (running.get()) {
                    log.warn("revision listener lost its connection, retrying: {}", e.getMessage());
                    sleepQuietly(Duration.ofSeconds(1));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!running.get()) {
                    return;
                }
                log.error("revision listener failed, retrying", e);
                sleepQuietly(Duration.ofSeconds(1));
            }
        }
    }

    private void reconcile() {
        long newest = store.newestId();
        if (newest != lastSeenId) {
            changed();
        }
    }

    private void changed() {
        lastSeenId = store.newestId();
        onChange.run();
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops listening. The listener is woken with a NOTIFY rather than an interrupt: an interrupt closes the socket of
     * a virtual thread blocked reading it, and the pool then logs the connection as broken (a WARN and a stack trace
     * on every Ctrl-C of {@code meshguard up}). The interrupt stays the fallback when the database is gone.
     */
    @Override
    public void close() {
        running.set(false);
        if (thread == null) {
            return;
        }
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.execute("NOTIFY " + PgRevisionStore.CHANNEL);
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
