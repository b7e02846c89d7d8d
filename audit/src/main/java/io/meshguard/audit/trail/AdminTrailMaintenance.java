package io.meshguard.audit.trail;

import io.meshguard.audit.MaintenanceSchedule;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the admin trail's monthly partitions (migration V40) in shape: creates the current month and the next
 * {@code monthsAhead} before rows need them, and drops whole months older than the retention, oldest first, each
 * only through {@code admin_trail_drop_month}, which records an anchor (seq and hash of the month's last row) in the
 * same transaction, so {@code meshguard audit verify} still walks the kept chain. Each drop is itself a trail row.
 *
 * <p>Retention of N months keeps the current month and the N full months before it (as {@code audit_event}'s); it is
 * at least {@link #MIN_RETENTION_MONTHS}: the trail is evidence, and PCI DSS 10.5.1 asks for a year of audit history.
 * Every replica may run this; one run at a time holds a PostgreSQL advisory lock, the others skip.
 */
public final class AdminTrailMaintenance implements AutoCloseable {
    /** The shortest retention accepted. */
    public static final int MIN_RETENTION_MONTHS = 13;

    private static final Logger LOG = LoggerFactory.getLogger(AdminTrailMaintenance.class);
    private static final Pattern PARTITION = Pattern.compile("admin_trail_(\\d{4})_(\\d{2})");
    /** The advisory lock of a run (hashtext of a fixed name, as V40's functions take theirs). */
    private static final String LOCK_KEY = "meshguard.admin_trail_maintenance";

    /**
     * What one run did.
     *
     * @param ran false when another replica's run held the lock (nothing done)
     * @param created partitions created
     * @param dropped months dropped, oldest first
     * @param rowsDropped rows those months held
     */
    public record Result(boolean ran, int created, List<YearMonth> dropped, long rowsDropped) {}

    private final DataSource dataSource;
    private final Clock clock;
    private final int monthsAhead;
    private final int retentionMonths;
    private final MaintenanceSchedule schedule = new MaintenanceSchedule(
            "admin-trail-maintenance",
            this::runLogged,
            (e, retryIn) -> LOG.error("admin trail maintenance failed (retrying in {}): {}", retryIn, e.toString()));

    /**
     * @param monthsAhead months created after the current one (1..120)
     * @param retentionMonths full months kept before the current one ({@value #MIN_RETENTION_MONTHS}..1200)
     */
    public AdminTrailMaintenance(DataSource dataSource, Clock clock, int monthsAhead, int retentionMonths) {
        if (monthsAhead < 1 || monthsAhead > 120) {
            throw new IllegalArgumentException(
                    "admin trail partitions ahead must be between 1 and 120, got " + monthsAhead);
        }
        if (retentionMonths < MIN_RETENTION_MONTHS || retentionMonths > 1200) {
            throw new IllegalArgumentException("admin trail retention must be between " + MIN_RETENTION_MONTHS
                    + " and 1200 months, got " + retentionMonths + " (the trail is evidence: at least a year and a"
                    + " month is kept)");
        }
        this.dataSource = dataSource;
        this.clock = clock;
        this.monthsAhead = monthsAhead;
        this.retentionMonths = retentionMonths;
    }

    /** The oldest month kept (UTC), given the clock. */
    public YearMonth oldestKeptMonth() {
        return YearMonth.now(clock.withZone(ZoneOffset.UTC)).minusMonths(retentionMonths);
    }

    /** Runs once, now. */
    public Result runOnce() throws SQLException {
        YearMonth current = YearMonth.now(clock.withZone(ZoneOffset.UTC));
        YearMonth oldestKept = oldestKeptMonth();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            if (!advisoryLock(c, "pg_try_advisory_lock")) {
                return new Result(false, 0, List.of(), 0);
            }
            try {
                int created;
                try (PreparedStatement ps = c.prepareStatement("select admin_trail_ensure_partitions(?, ?)")) {
                    ps.setObject(1, current.atDay(1));
                    ps.setInt(2, monthsAhead);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        created = rs.getInt(1);
                    }
                }
                List<YearMonth> dropped = new ArrayList<>();
                long rows = 0;
                for (YearMonth month : months(c)) {
                    if (!month.isBefore(oldestKept)) {
                        break;
                    }
                    long n = dropMonth(c, month);
                    rows += n;
                    dropped.add(month);
                    LOG.info(
                            "admin trail retention: dropped {} ({} rows, older than {} months), anchored first",
                            month,
                            n,
                            retentionMonths);
                }
                return new Result(true, created, dropped, rows);
            } finally {
                advisoryLock(c, "pg_advisory_unlock");
            }
        }
    }

    /** The drop, its anchor and its own trail row commit together: no month goes without a row saying so. */
    private long dropMonth(Connection c, YearMonth month) throws SQLException {
        c.setAutoCommit(false);
        try {
            long rows = AdminTrail.dropMonthWithin(c, month, retentionMonths, Instant.now(clock))
                    .rows();
            c.commit();
            return rows;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static boolean advisoryLock(Connection c, String function) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select " + function + "(hashtext(?))")) {
            ps.setString(1, LOCK_KEY);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** The monthly partitions, oldest first. */
    private static List<YearMonth> months(Connection c) throws SQLException {
        List<YearMonth> out = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("""
                        select child.relname from pg_inherits i join pg_class child on child.oid = i.inhrelid
                         where i.inhparent = 'admin_trail'::regclass order by child.relname""")) {
            while (rs.next()) {
                Matcher m = PARTITION.matcher(rs.getString(1));
                if (m.matches()) {
                    out.add(YearMonth.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))));
                }
            }
        }
        return out;
    }

    /** Runs now, then every {@code interval}; a failed run is logged at ERROR and retried (MaintenanceSchedule). */
    public void start(Duration interval) {
        schedule.start(interval);
    }

    private void runLogged() throws SQLException {
        Result r = runOnce();
        if (r.ran()) {
            LOG.info(
                    "admin trail maintenance: {} partition(s) created, {} month(s) dropped",
                    r.created(),
                    r.dropped().size());
        }
    }

    @Override
    public void close() {
        schedule.close();
    }
}
