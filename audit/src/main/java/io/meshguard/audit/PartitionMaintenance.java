package io.meshguard.audit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code audit_event}'s monthly partitions in shape: creates the current month and the next
 * {@code monthsAhead} (so inserts never land in the default partition), and detaches and drops partitions whose
 * whole month is older than the retention, unless a row of {@code audit_legal_hold} covers that month. Rows of
 * expired, unheld months that sit in the default partition are deleted too. Months are UTC months.
 *
 * <p>Retention of N months keeps the current month and the N full months before it: with 13, on any day of
 * November 2026 the oldest month kept is October 2025.
 */
public final class PartitionMaintenance implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PartitionMaintenance.class);
    private static final Pattern PARTITION = Pattern.compile("audit_event_(\\d{4})_(\\d{2})");

    private final DataSource dataSource;
    private final Clock clock;
    private final int monthsAhead;
    private final int retentionMonths;
    private final Counter created;
    private final Counter dropped;
    private final Counter failures;
    private final AtomicLong lastSuccessEpochSeconds = new AtomicLong();
    private volatile Duration interval = Duration.ZERO;
    private final MaintenanceSchedule schedule =
            new MaintenanceSchedule("audit-maintenance", this::runLogged, this::runFailed);

    /**
     * @param monthsAhead     months created after the current one (1..120)
     * @param retentionMonths full months kept before the current one (1..1200)
     */
    public PartitionMaintenance(
            DataSource dataSource, Clock clock, int monthsAhead, int retentionMonths, MeterRegistry meters) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (monthsAhead < 1 || monthsAhead > 120) {
            throw new IllegalArgumentException("audit partitions ahead must be between 1 and 120, got " + monthsAhead);
        }
        if (retentionMonths < 1 || retentionMonths > 1200) {
            throw new IllegalArgumentException(
                    "audit retention must be between 1 and 1200 months, got " + retentionMonths);
        }
        this.monthsAhead = monthsAhead;
        this.retentionMonths = retentionMonths;
        this.created = Counter.builder("meshguard.audit.partitions.added")
                .description("Monthly audit partitions created ahead")
                .register(meters);
        this.dropped = Counter.builder("meshguard.audit.partitions.dropped")
                .description("Monthly audit partitions dropped past retention")
                .register(meters);
        this.failures = Counter.builder("meshguard.audit.maintenance.failures")
                .description("Audit partition maintenance runs that failed")
                .register(meters);
        io.micrometer.core.instrument.Gauge.builder(
                        "meshguard.audit.maintenance.last.success.timestamp.seconds",
                        lastSuccessEpochSeconds,
                        AtomicLong::get)
                .description("When partition maintenance last succeeded (Unix seconds); 0 before the first run")
                .register(meters);
    }

    /**
     * What one run did.
     *
     * @param created partitions created
     * @param dropped partitions detached and dropped
     * @param held    expired partitions kept because of a legal hold
     * @param defaultRowsDeleted expired rows deleted from the default partition
     */
    public record Result(int created, List<String> dropped, List<String> held, long defaultRowsDeleted) {}

    /** The first month that is kept (UTC), given the clock. */
    public LocalDate oldestKeptMonth() {
        return currentMonth().minusMonths(retentionMonths);
    }

    private LocalDate currentMonth() {
        return LocalDate.now(clock.withZone(ZoneOffset.UTC)).withDayOfMonth(1);
    }

    /** Runs maintenance once, now. */
    public Result runOnce() throws SQLException {
        LocalDate current = currentMonth();
        LocalDate oldestKept = oldestKeptMonth();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            int made;
            try (PreparedStatement ps = c.prepareStatement("select audit_ensure_partitions(?, ?)")) {
                ps.setObject(1, current);
                ps.setInt(2, monthsAhead);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    made = rs.getInt(1);
                }
            }
            c.commit();

            List<String> droppedNames = new ArrayList<>();
            List<String> heldNames = new ArrayList<>();
            for (Partition p : partitions(c)) {
                if (!p.month().isBefore(oldestKept)) {
                    continue;
                }
                // The drop runs as the schema's owner (audit_drop_month is security definer), so a server whose
                // role has DML only keeps retention working; the function refuses a month a legal hold covers.
                boolean droppedIt;
                try (PreparedStatement ps = c.prepareStatement("select audit_drop_month(?)")) {
                    ps.setObject(1, p.month());
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        droppedIt = rs.getBoolean(1);
                    }
                }
                c.commit();
                if (!droppedIt) {
                    heldNames.add(p.name());
                    continue;
                }
                droppedNames.add(p.name());
                log.info("audit retention: dropped partition {} (older than {} months)", p.name(), retentionMonths);
            }
            long defaultRows;
            try (PreparedStatement ps = c.prepareStatement("""
                    delete from audit_event_default d
                     where d.occurred_at < ?
                       and not exists (select 1 from audit_legal_hold h
                                        where (date_trunc('month', d.occurred_at at time zone 'UTC'))::date
                                              between h.from_month and h.to_month)""")) {
                ps.setObject(1, oldestKept.atStartOfDay().atOffset(ZoneOffset.UTC));
                defaultRows = ps.executeUpdate();
            }
            c.commit();
            created.increment(made);
            dropped.increment(droppedNames.size());
            lastSuccessEpochSeconds.set(clock.instant().getEpochSecond());
            if (!heldNames.isEmpty()) {
                log.info("audit retention: kept {} past retention because of a legal hold", heldNames);
            }
            return new Result(made, droppedNames, heldNames, defaultRows);
        }
    }

    private record Partition(String name, LocalDate month) {}

    private static List<Partition> partitions(Connection c) throws SQLException {
        List<Partition> out = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("""
                        select child.relname
                          from pg_inherits i
                          join pg_class child on child.oid = i.inhrelid
                         where i.inhparent = 'audit_event'::regclass
                         order by child.relname""")) {
            while (rs.next()) {
                String name = rs.getString(1);
                Matcher m = PARTITION.matcher(name);
                if (m.matches()) {
                    out.add(new Partition(
                            name, LocalDate.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), 1)));
                }
            }
        }
        return out;
    }

    /** Runs now, then every {@code interval}; a failed run is logged, counted and retried (MaintenanceSchedule). */
    public void start(Duration interval) {
        this.interval = interval;
        schedule.start(interval);
    }

    private void runLogged() throws SQLException {
        Result r = runOnce();
        log.info(
                "audit maintenance: {} partition(s) created, {} dropped, {} held; next run {}",
                r.created(),
                r.dropped().size(),
                r.held().size(),
                OffsetDateTime.now(clock).plus(interval));
    }

    private void runFailed(Exception e, Duration retryIn) {
        failures.increment();
        log.error("audit maintenance failed (retrying in {}): {}", retryIn, e.toString());
    }

    @Override
    public void close() {
        schedule.close();
    }
}
