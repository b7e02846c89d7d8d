package io.meshguard.audit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes batches of events into {@code audit_event} over one connection of its own. Not thread-safe: the audit
 * writer calls it from its single database thread.
 *
 * <p>Two paths: {@link #write} for fresh events (plain COPY or INSERT: they cannot exist yet), and
 * {@link #writeIdempotent} for anything that may have been committed before (spool replay, retries after an
 * ambiguous commit), which skips rows whose {@code (occurred_at, event_id)} is already there.
 */
public final class PostgresAuditStore implements AutoCloseable {
    static final String COLUMNS = "event_id, occurred_at, kind, request_id, trace_id, tenant, subject, client_id, "
            + "source, caller_type, method, authority, path, route, status, decision, reason, latency_us, "
            + "request_bytes, response_bytes, is_stream, details";
    /** PostgreSQL allows 65,535 bind parameters per statement; 1,000 rows x 22 stays well below. */
    private static final int INSERT_ROWS_PER_STATEMENT = 1000;

    private static final Executor DIRECT = Runnable::run;
    /** PostgreSQL's "feature not supported": its answer to COPY FROM into a table under row-level security. */
    private static final String FEATURE_NOT_SUPPORTED = "0A000";

    private static final Logger log = LoggerFactory.getLogger(PostgresAuditStore.class);

    private final ConnectionSource connections;
    private final BatchWriteMethod method;
    private final int timeoutMillis;
    /** One COPY buffer for the store's lifetime (the store runs on one thread). */
    private final CopyTextEncoder encoder = CopyTextEncoder.streaming();
    /** When the current call to PostgreSQL started; read by the audit writer's batcher. */
    private final DatabaseWait waiting = new DatabaseWait();

    private Connection connection;
    private boolean stageReady;
    /**
     * Whether fresh batches COPY straight into {@code audit_event}. A role under the table's row-level security (the
     * servers' DML-only role) cannot: PostgreSQL refuses COPY FROM there, so batches then go through the stage, as
     * replays do, and its INSERT … SELECT is checked against the policies.
     */
    private boolean copyIntoTable = true;

    public PostgresAuditStore(ConnectionSource connections, BatchWriteMethod method, Duration writeTimeout) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.method = Objects.requireNonNull(method, "method");
        this.timeoutMillis = (int) Math.min(Integer.MAX_VALUE, writeTimeout.toMillis());
    }

    public BatchWriteMethod method() {
        return method;
    }

    /** Writes events that cannot be in the table yet, in one transaction. */
    public void write(List<AuditEvent> batch) throws SQLException {
        run(batch, false);
    }

    /** Writes events that may already be in the table, in one transaction; returns how many rows were new. */
    public int writeIdempotent(List<AuditEvent> batch) throws SQLException {
        return run(batch, true);
    }

    /** Opens the connection if there is none: tells whether the database answers, before a replay claims a segment. */
    public void probe() throws SQLException {
        waiting.begin();
        try {
            connection();
        } finally {
            waiting.end();
        }
    }

    /**
     * Whether a call of this store to PostgreSQL (connecting, a statement, COPY data, the commit) has been awaiting
     * its answer for longer than {@code nanos}; the store's own work between calls (encoding the batch) does not
     * count. Safe from any thread, unlike the rest of the store.
     */
    boolean awaitingDatabaseLongerThan(long nanos) {
        return waiting.longerThan(nanos);
    }

    /** Creates the monthly partitions that {@code batch} needs (normally done ahead by the maintenance job). */
    public void ensurePartitionsFor(List<AuditEvent> batch) throws SQLException {
        Instant min = batch.stream()
                .map(AuditEvent::occurredAt)
                .min(Instant::compareTo)
                .orElseThrow();
        Instant max = batch.stream()
                .map(AuditEvent::occurredAt)
                .max(Instant::compareTo)
                .orElseThrow();
        LocalDate from = LocalDate.ofInstant(min, ZoneOffset.UTC).withDayOfMonth(1);
        LocalDate to = LocalDate.ofInstant(max, ZoneOffset.UTC).withDayOfMonth(1);
        int monthsAhead = (int) ChronoUnit.MONTHS.between(from, to);
        waiting.begin();
        try {
            Connection c = connection();
            try (PreparedStatement ps = c.prepareStatement("select audit_ensure_partitions(?, ?)")) {
                ps.setObject(1, from);
                ps.setInt(2, monthsAhead);
                ps.execute();
                c.commit();
            } catch (SQLException e) {
                discard();
                throw e;
            }
        } finally {
            waiting.end();
        }
    }

    private int run(List<AuditEvent> batch, boolean idempotent) throws SQLException {
        if (batch.isEmpty()) {
            return 0;
        }
        waiting.begin();
        try {
            return runWaiting(batch, idempotent);
        } finally {
            waiting.end();
        }
    }

    private int runWaiting(List<AuditEvent> batch, boolean idempotent) throws SQLException {
        Connection c = connection();
        boolean direct = method == BatchWriteMethod.COPY && !idempotent && copyIntoTable;
        try {
            int rows =
                    switch (method) {
                        case COPY -> direct ? copy(c, batch, "audit_event") : copyIdempotent(c, batch);
                        case INSERT -> insert(c, batch, idempotent);
                    };
            c.commit();
            return rows;
        } catch (SQLException e) {
            discard(); // the connection's state is unknown now; a fresh one is opened for the next attempt
            if (direct && FEATURE_NOT_SUPPORTED.equals(e.getSQLState())) {
                // nothing of a refused COPY was written: the same batch goes through the stage
                copyIntoTable = false;
                log.warn(
                        "audit: PostgreSQL refuses COPY into audit_event for this role (row-level security: {});"
                                + " batches go through a staging table from now on",
                        e.getMessage());
                return run(batch, idempotent);
            }
            throw e;
        } catch (RuntimeException e) {
            discard();
            throw e;
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            Connection c = connections.open();
            try {
                c.setAutoCommit(false);
                // Bounds every round trip, COPY included: a hung database counts as down after the timeout.
                c.setNetworkTimeout(DIRECT, timeoutMillis);
            } catch (SQLException e) {
                c.close();
                throw e;
            }
            connection = c;
            stageReady = false;
        }
        return connection;
    }

    private void discard() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // already broken
            }
            connection = null;
        }
    }

    private int copy(Connection c, List<AuditEvent> batch, String table) throws SQLException {
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        CopyIn in = copy.copyIn("COPY " + table + " (" + COLUMNS + ") FROM STDIN");
        try {
            // Encoding is the writer's own work (CPU): only sending a chunk and the end of the COPY wait on PostgreSQL.
            waiting.end();
            encoder.stream(batch, (bytes, offset, length) -> {
                waiting.begin();
                try {
                    in.writeToCopy(bytes, offset, length);
                } finally {
                    waiting.end();
                }
            });
            waiting.begin();
            return (int) in.endCopy();
        } finally {
            if (in.isActive()) {
                in.cancelCopy(); // as pgjdbc's own copyIn(sql, stream) does when the data cannot be sent
            }
        }
    }

    private int copyIdempotent(Connection c, List<AuditEvent> batch) throws SQLException {
        if (!stageReady) {
            try (Statement s = c.createStatement()) {
                // Session-local staging table; emptied at every commit.
                s.execute("create temp table if not exists audit_event_stage (like audit_event) on commit delete rows");
            }
            stageReady = true;
        }
        copy(c, batch, "audit_event_stage");
        try (Statement s = c.createStatement()) {
            return s.executeUpdate("insert into audit_event (" + COLUMNS + ") select " + COLUMNS
                    + " from audit_event_stage on conflict do nothing");
        }
    }

    private static int insert(Connection c, List<AuditEvent> batch, boolean idempotent) throws SQLException {
        int inserted = 0;
        for (int from = 0; from < batch.size(); from += INSERT_ROWS_PER_STATEMENT) {
            List<AuditEvent> chunk = batch.subList(from, Math.min(batch.size(), from + INSERT_ROWS_PER_STATEMENT));
            StringBuilder sql = new StringBuilder(64 + chunk.size() * 70)
                    .append("insert into audit_event (")
                    .append(COLUMNS)
                    .append(") values ");
            for (int i = 0; i < chunk.size(); i++) {
                sql.append(i == 0 ? "" : ",").append("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?::jsonb)");
            }
            if (idempotent) {
                sql.append(" on conflict do nothing");
            }
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                int p = 1;
                for (AuditEvent e : chunk) {
                    p = bind(ps, p, e);
                }
                inserted += ps.executeUpdate();
            }
        }
        return inserted;
    }

    private static int bind(PreparedStatement ps, int p, AuditEvent e) throws SQLException {
        ps.setObject(p++, e.eventId());
        ps.setTimestamp(p++, Timestamp.from(e.occurredAt()));
        ps.setString(p++, e.kind().dbName());
        ps.setString(p++, e.requestId().orElse(null));
        ps.setString(p++, e.traceId().orElse(null));
        ps.setString(p++, e.tenant().orElse(null));
        ps.setString(p++, e.subject().orElse(null));
        ps.setString(p++, e.clientId().orElse(null));
        ps.setString(p++, e.source().orElse(null));
        ps.setString(p++, e.callerType().orElse(null));
        ps.setString(p++, e.method().orElse(null));
        ps.setString(p++, e.authority().orElse(null));
        ps.setString(p++, e.path().orElse(null));
        ps.setString(p++, e.route().orElse(null));
        if (e.status().isPresent()) {
            ps.setInt(p++, e.status().getAsInt());
        } else {
            ps.setNull(p++, Types.INTEGER);
        }
        ps.setString(p++, e.decision().orElse(null));
        ps.setString(p++, e.reason().orElse(null));
        setLong(ps, p++, e.latencyUs().isPresent(), e.latencyUs().orElse(0));
        setLong(ps, p++, e.requestBytes().isPresent(), e.requestBytes().orElse(0));
        setLong(ps, p++, e.responseBytes().isPresent(), e.responseBytes().orElse(0));
        ps.setBoolean(p++, e.isStream());
        ps.setString(p++, e.detailsJson());
        return p;
    }

    private static void setLong(PreparedStatement ps, int p, boolean present, long value) throws SQLException {
        if (present) {
            ps.setLong(p, value);
        } else {
            ps.setNull(p, Types.BIGINT);
        }
    }

    @Override
    public void close() {
        discard();
    }
}
