package io.meshguard.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one PostgreSQL {@code LISTEN} channel on a virtual thread and calls {@code onChange} when it may have
 * changed: once each time the listener (re)connects, since notifications sent while no one listened are lost; after a
 * notification, once {@code debounce} has let a burst of commits finish; and every {@code safetyNet}, for
 * notifications lost any other way. A lost connection is retried every second.
 */
public final class PgChannelListener implements AutoCloseable {
    /** The payload that says anything may have changed (a TRUNCATE, a row whose owner is gone). */
    public static final String EVERYTHING = "*";

    private static final Logger LOG = LoggerFactory.getLogger(PgChannelListener.class);

    private final DataSource dataSource;
    private final String channel;
    private final Duration debounce;
    private final Duration safetyNet;
    private final Runnable onConnect;
    private final Consumer<Optional<Set<String>>> onChange;
    private final AtomicBoolean running = new AtomicBoolean();
    private Thread thread;

    /**
     * @param channel a channel name as PostgreSQL takes it unquoted (letters, digits and {@code _})
     * @param onChange called on the listener's thread; a {@link RuntimeException} from it is logged, not fatal
     */
    public PgChannelListener(
            DataSource dataSource, String channel, Duration debounce, Duration safetyNet, Runnable onChange) {
        this(dataSource, channel, debounce, safetyNet, (Consumer<Optional<Set<String>>>) payloads -> onChange.run());
    }

    /**
     * As above, telling {@code onChange} what changed: the payloads of the notifications taken together, or empty
     * when anything may have (the listener (re)connected, the safety net is due, or a notification's payload is
     * {@link #EVERYTHING}).
     */
    public PgChannelListener(
            DataSource dataSource,
            String channel,
            Duration debounce,
            Duration safetyNet,
            Consumer<Optional<Set<String>>> onChange) {
        this(dataSource, channel, debounce, safetyNet, () -> {}, onChange);
    }

    /**
     * As above, calling {@code onConnect} each time the listener has (re)connected and listens, before the
     * {@code onChange} that says anything may have changed: for state that must be read whole after notices may have
     * been lost, and not on every safety net.
     */
    public PgChannelListener(
            DataSource dataSource,
            String channel,
            Duration debounce,
            Duration safetyNet,
            Runnable onConnect,
            Consumer<Optional<Set<String>>> onChange) {
        if (!channel.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("not a plain channel name: " + channel);
        }
        this.dataSource = dataSource;
        this.channel = channel;
        this.debounce = debounce;
        this.safetyNet = safetyNet;
        this.onConnect = onConnect;
        this.onChange = onChange;
    }

    /** Starts listening on a virtual thread named {@code threadName}. */
    public PgChannelListener start(String threadName) {
        running.set(true);
        thread = Thread.ofVirtual().name(threadName).start(this::loop);
        return this;
    }

    private void loop() {
        while (running.get()) {
            try (Connection c = dataSource.getConnection()) {
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + channel);
                }
                try {
                    onConnect.run();
                } catch (RuntimeException e) {
                    LOG.warn("listener on {}: the reconnect was not taken: {}", channel, e.getMessage());
                }
                changed(Optional.empty());
                PGConnection pg = c.unwrap(PGConnection.class);
                long nextSafetyNet = System.nanoTime() + safetyNet.toNanos();
                while (running.get()) {
                    long waitMs = Math.max(1, Math.min(1000, (nextSafetyNet - System.nanoTime()) / 1_000_000));
                    PGNotification[] notes = pg.getNotifications((int) waitMs);
                    if (!running.get()) {
                        return; // woken by close()
                    }
                    boolean notified = notes != null && notes.length > 0;
                    Set<String> payloads = new LinkedHashSet<>();
                    add(payloads, notes);
                    if (notified && !debounce.isZero()) {
                        Thread.sleep(debounce.toMillis());
                        add(payloads, pg.getNotifications(1)); // the rest of the burst: one call covers them
                    }
                    if (System.nanoTime() >= nextSafetyNet) {
                        changed(Optional.empty());
                        nextSafetyNet = System.nanoTime() + safetyNet.toNanos();
                    } else if (notified) {
                        changed(payloads.contains(EVERYTHING) ? Optional.empty() : Optional.of(Set.copyOf(payloads)));
                    }
                }
            } catch (SQLException e) {
                if (running.get()) {
                    LOG.warn("listener on {} lost its connection, retrying: {}", channel, e.getMessage());
                    pause();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!running.get()) {
                    return;
                }
                LOG.error("listener on {} failed, retrying", channel, e);
                pause();
            }
        }
    }

    private static void add(Set<String> payloads, PGNotification[] notes) {
        if (notes != null) {
            for (PGNotification n : notes) {
                payloads.add(n.getParameter());
            }
        }
    }

    private void changed(Optional<Set<String>> payloads) {
        try {
            onChange.accept(payloads);
        } catch (RuntimeException e) {
            LOG.warn("listener on {}: the change was not taken: {}", channel, e.getMessage());
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
        try (Connection c = dataSource.getConnection();
                Statement st = c.createStatement()) {
            st.execute("NOTIFY " + channel);
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
