package io.meshguard.xds.store;

import io.meshguard.db.PgChannelListener;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * Tells this replica that a revision was stored, by any replica: PostgreSQL {@code LISTEN} on
 * {@link PgRevisionStore#CHANNEL}, plus a reconcile every {@code reconcileInterval} as a safety net for lost
 * notifications (a dropped connection loses them). Bursts are debounced into one call of {@code onChange}, which runs
 * only when the newest revision differs from the one it last saw.
 */
public final class RevisionListener implements AutoCloseable {
    private final PgRevisionStore store;
    private final Runnable onChange;
    private final PgChannelListener channel;
    private volatile long lastSeenId = -1;

    public RevisionListener(
            DataSource dataSource,
            PgRevisionStore store,
            Runnable onChange,
            Duration debounce,
            Duration reconcileInterval) {
        this.store = store;
        this.onChange = onChange;
        this.channel = new PgChannelListener(
                dataSource, PgRevisionStore.CHANNEL, debounce, reconcileInterval, this::reconcile);
    }

    public RevisionListener start() {
        channel.start("xds-revision-listener");
        return this;
    }

    private void reconcile() {
        long newest = store.newestId();
        if (newest != lastSeenId) {
            lastSeenId = newest;
            onChange.run();
        }
    }

    /** Stops listening (see {@link PgChannelListener#close()}). */
    @Override
    public void close() {
        channel.close();
    }
}
