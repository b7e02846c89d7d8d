package io.meshguard.xds.approval;

import io.meshguard.audit.query.AuditReader;
import io.meshguard.catalog.SubscriptionUsage;
import io.meshguard.extauthz.policy.AuthzPolicy;
import io.meshguard.extauthz.replay.DecisionReplay;
import io.meshguard.extauthz.replay.ImpactReport;
import io.meshguard.extauthz.replay.RecordedDecision;
import io.meshguard.extauthz.replay.RecordedRowCheck;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The authorization decisions of a window as the audit keeps them (PostgreSQL's {@code audit_event} rows, streamed
 * through a cursor {@value #BATCH} rows per round trip, never held in memory), decided again against a draft policy
 * with extauthz's engine ({@link DecisionReplay}). {@code meshguard policy impact} and a policy request's report read
 * them through here.
 *
 * <p>By default a reading thread fetches the rows and hands them over in batches to the caller's thread, which parses
 * and decides them ({@link Reading#OVERLAPPED}): PostgreSQL's and the driver's work on the next batch overlaps the
 * deciding of this one. At most {@value #AHEAD} batches wait between the two, so the heap a report needs stays bounded
 * whatever the window.
 */
public final class RecordedDecisions {
    /** Rows fetched from PostgreSQL per round trip. */
    public static final int BATCH = 5000;

    /** Batches read ahead of the decider at most. */
    static final int AHEAD = 2;

    /** How the rows reach the decider. */
    public enum Reading {
        /** Decided on the reading thread, between the driver's fetches (kept for the benchmark's comparison). */
        IN_LINE,
        /** Read on a thread of their own, decided on the caller's. */
        OVERLAPPED
    }

    private static final List<String> KEYS = List.of(RecordedDecision.AUDIT_DETAIL, SubscriptionUsage.AUDIT_DETAIL);

    private final AuditReader reader;
    private final int batch;
    private final Reading reading;

    public RecordedDecisions(AuditReader reader) {
        this(reader, BATCH, Reading.OVERLAPPED);
    }

    /**
     * @param batch rows fetched per round trip (tests make a window span several)
     * @param reading whether the rows are read on a thread of their own
     */
    public RecordedDecisions(AuditReader reader, int batch, Reading reading) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        this.reader = reader;
        this.batch = batch;
        this.reading = reading;
    }

    /** Streams the decisions recorded in {@code from .. to} through {@code draft}. */
    public ImpactReport replay(AuthzPolicy draft, Instant from, Instant to) throws SQLException {
        DecisionReplay replay = new DecisionReplay(draft);
        ImpactReport report = new ImpactReport();
        if (reading == Reading.IN_LINE) {
            reader.decisionRows(from, to, KEYS, batch, (requestId, at, row, details) -> {
                decide(replay, report, new Row(requestId, at, row, details));
            });
        } else {
            overlapped(from, to, row -> decide(replay, report, row));
        }
        return report;
    }

    /** One decision row as read. */
    private record Row(String requestId, Instant at, AuditReader.DecisionColumns columns, List<String> details) {}

    private static void decide(DecisionReplay replay, ImpactReport report, Row r) {
        String json = r.details().get(0);
        if (json == null) {
            report.notReplayable("recorded without replay facts");
            return;
        }
        RecordedDecision recorded;
        try {
            recorded = RecordedDecision.fromJson(json, r.requestId(), r.at(), Optional.ofNullable(r.details().get(1)));
        } catch (IllegalArgumentException e) {
            report.notReplayable("unreadable replay facts (" + e.getMessage() + ")");
            return;
        }
        // facts that disagree with their own row's columns were edited: named, never replayed
        if (report.agrees(recorded, columns(r.columns()))) {
            report.add(recorded, replay.replay(recorded));
        }
    }

    /** The end of the rows, or the reading's failure. */
    private record End(Optional<Throwable> failure) {}

    private static final class Abandoned extends RuntimeException {
        Abandoned() {
            super("the decider stopped", null, false, false);
        }
    }

    /**
     * Reads the window on a thread of its own, handing batches to the caller's thread; a failure on either side ends
     * both (the read's transaction is rolled back when the decider stops).
     */
    private void overlapped(Instant from, Instant to, java.util.function.Consumer<Row> decider) throws SQLException {
        BlockingQueue<Object> queue = new ArrayBlockingQueue<>(AHEAD);
        java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();
        Thread readingThread = Thread.ofPlatform()
                .name("replay-read")
                .daemon(true)
                .start(() -> {
                    Optional<Throwable> failure = Optional.empty();
                    try {
                        List<Row> chunk = new ArrayList<>(batch);
                        List<List<Row>> pending = new ArrayList<>(1);
                        pending.add(chunk);
                        reader.decisionRows(from, to, KEYS, batch, (requestId, at, row, details) -> {
                            List<Row> current = pending.get(0);
                            current.add(new Row(requestId, at, row, details));
                            if (current.size() == batch) {
                                hand(queue, stopped, current);
                                pending.set(0, new ArrayList<>(batch));
                            }
                        });
                        if (!pending.get(0).isEmpty()) {
                            hand(queue, stopped, pending.get(0));
                        }
                    } catch (Abandoned e) {
                        return;
                    } catch (SQLException | RuntimeException | Error e) {
                        failure = Optional.of(e);
                    }
                    try {
                        hand(queue, stopped, new End(failure));
                    } catch (Abandoned e) {
                        // the decider is gone: nobody waits for the end
                    }
                });
        try {
            while (true) {
                Object next = queue.take();
                if (next instanceof End end) {
                    if (end.failure().isPresent()) {
                        Throwable t = end.failure().get();
                        if (t instanceof SQLException e) {
                            throw new SQLException(e.getMessage(), e.getSQLState(), e);
                        }
                        if (t instanceof Error e) {
                            throw e;
                        }
                        throw new IllegalStateException("reading the recorded decisions failed: " + t.getMessage(), t);
                    }
                    return;
                }
                @SuppressWarnings("unchecked")
                List<Row> rows = (List<Row>) next;
                for (Row r : rows) {
                    decider.accept(r);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while replaying the recorded decisions", e);
        } finally {
            stopped.set(true);
            queue.clear();
            try {
                readingThread.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Puts {@code item} for the decider, waiting while it is {@value #AHEAD} batches behind, unless it stopped. */
    private static void hand(BlockingQueue<Object> queue, java.util.concurrent.atomic.AtomicBoolean stopped, Object item) {
        try {
            do {
                if (stopped.get()) {
                    throw new Abandoned();
                }
            } while (!queue.offer(item, 100, TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Abandoned();
        }
    }

    private static RecordedRowCheck.Columns columns(AuditReader.DecisionColumns c) {
        return new RecordedRowCheck.Columns(
                c.method(), c.authority(), c.status(), c.decision(), c.reason(), c.route(), c.tenant(), c.subject());
    }
}
