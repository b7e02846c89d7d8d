package io.meshguard.bench.extauthz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.access.AuthMethod;
import io.meshguard.access.Person;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.EventIds;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.catalogmodel.SubscriptionUsage;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbSettings;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.tools.AuthzTestRunner;
import io.meshguard.extauthz.tools.TestResult;
import io.meshguard.xds.approval.PolicyBundle;
import io.meshguard.xds.approval.PolicyChanges;
import io.meshguard.xds.approval.PolicyReplay;
import io.meshguard.xds.approval.PolicyRequest;
import io.meshguard.xds.approval.PolicyRequestStore;
import io.meshguard.xds.approval.RecordedDecisions;
import io.meshguard.xds.approval.ReplayReport;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Replay of a 1,000,000-decision window read from a real PostgreSQL (the embedded server {@code meshguard up} runs),
 * the read path a policy request's report takes ({@link RecordedDecisions}: one transaction, a server-side cursor
 * fetching {@link RecordedDecisions#BATCH} rows per round trip, only the columns replay needs).
 *
 * <p>The rows: every decision the shipped policy's test cases make ({@code DIR/tests/authz*.yaml}, decided by the
 * server's pipeline and mapped to audit events as the server maps them, replay facts included), copied with a new
 * event id and request id, its time moved by whole weeks into the last 29 days (day of the week and time of day kept),
 * written by the real {@link AuditWriter} (COPY, its default batches), in time order. The same rows without the replay
 * facts are written first into the same, then emptied, table: the storage baseline.
 *
 * <p>Then, in rounds: (a) the window read alone through the same reader and cursor (the baseline), beside it the same
 * read at 5,000 rows per fetch and through a portal with the driver's fetch size (the read path before), with the
 * temporary files each made; (b) the window self-replayed against {@code DIR/authz.yaml} (0 flips required); (c) a
 * policy request for the shipped files opened through {@link PolicyChanges} with its report computed on the
 * 1,000,000-decision window (open request to report attached). Figures are printed as ratios to (a) of the same round.
 *
 * <p>Arguments: policy directory (default {@code policies}), decisions (default 1,000,000), rounds (default 3).
 */
public final class ReplayFromPostgres {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ReplayFromPostgres() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "policies");
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        List<AuthzDecisionEvent> decided = new ArrayList<>();
        List<TestResult> results =
                AuthzTestRunner.recordingEvents(Clock.systemUTC(), decided::add).run(dir);
        long failed = results.stream().filter(r -> !r.passed()).count();
        List<AuditEvent> withFacts =
                decided.stream().map(AuditSinkDecisions::toAuditEvent).toList();
        List<AuditEvent> withoutFacts =
                withFacts.stream().map(ReplayFromPostgres::withoutReplayFacts).toList();
        AuthzPolicy inForce = new AuthzPolicyParser().parse(dir.resolve("authz.yaml"));
        System.out.printf(
                "JDK %s, %d CPUs, max heap %d MiB; %s: %d cases (%d failed), %d decisions recorded as templates%n",
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20,
                dir,
                results.size(),
                failed,
                withFacts.size());
        load("before");

        Instant to = Instant.now();
        Instant first = to.minus(Duration.ofDays(29));
        System.out.printf(
                "%d template times in the window%n", slots(withFacts, first, to).size());
        Path tmp = Files.createTempDirectory("meshguard-replay-bench");
        try (LocalPostgres pg = LocalPostgres.start(tmp.resolve("pg"), 0)) {
            DbSettings db = pg.dbSettings("meshguard-bench");
            try (HikariDataSource ds = DataSourceFactory.create(db)) {
                Migrations.apply(ds);
                sql(
                        ds,
                        "select audit_ensure_partitions(date '"
                                + first.atZone(ZoneOffset.UTC).toLocalDate() + "', 2)");
                ConnectionSource connections =
                        ConnectionSource.forUrl(db.jdbcUrl(), db.user(), db.password(), Duration.ofSeconds(30));
                sql(ds, "show default_toast_compression");

                double baseWrite = write(tmp.resolve("spool-base"), connections, withoutFacts, n, first, to);
                Storage base = storage(ds);
                sql(ds, "truncate audit_event");
                double factsWrite = write(tmp.resolve("spool"), connections, withFacts, n, first, to);
                Storage facts = storage(ds);
                System.out.printf(
                        "write through the audit writer: %,d rows without replay facts %.1f s, with %.1f s (%.2f×)%n",
                        n, baseWrite, factsWrite, factsWrite / baseWrite);
                printStorage(base, facts, n);

                explain(ds, first, to);
                AuditReader reader = new AuditReader(ds);
                RecordedDecisions recorded = new RecordedDecisions(reader);
                PolicyChanges changes = new PolicyChanges(
                        new PolicyRequestStore(ds),
                        new PolicyReplay(recorded, Clock.systemUTC()),
                        ConfigChangeAudit.logOnly(),
                        Clock.systemUTC(),
                        PolicyChanges.DEFAULT_WINDOW);
                PolicyBundle files = PolicyBundle.read(dir.resolve("authz.yaml"));
                Person requester = new Person("bench requester", "bench", AuthMethod.OIDC);
                Instant from = to.minus(PolicyChanges.DEFAULT_WINDOW);
                Instant until = to.plusSeconds(1);
                System.out.println();
                System.out.println("| round | (a) read the window alone, cursor, " + RecordedDecisions.BATCH
                        + " rows per fetch | (a5) cursor, 5000 per fetch | (a0) portal, 5000 per fetch (before) "
                        + "| (a0)/(a) | temp files (a) / (a5) / (a0) | (b) self-replay | (b)/(a) "
                        + "| JVM CPU (b) per decision | flips | replayable | (c) policy request, open to report "
                        + "| (c)/(a) | load |");
                System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
                for (int round = 1; round <= rounds; round++) {
                    long temp0 = tempBytes(ds);
                    long t0 = System.nanoTime();
                    AtomicLong read = new AtomicLong();
                    reader.decisionRows(
                            from,
                            until,
                            List.of(RecordedDecision.AUDIT_DETAIL, SubscriptionUsage.AUDIT_DETAIL),
                            RecordedDecisions.BATCH,
                            (requestId, at, row, details) -> read.incrementAndGet());
                    double a = seconds(t0);
                    long temp1 = tempBytes(ds);
                    t0 = System.nanoTime();
                    long bigger = reader.decisionRows(
                            from,
                            until,
                            List.of(RecordedDecision.AUDIT_DETAIL, SubscriptionUsage.AUDIT_DETAIL),
                            BEFORE_BATCH,
                            (requestId, at, row, details) -> {});
                    double a5 = seconds(t0);
                    long temp5 = tempBytes(ds);
                    if (bigger != n) {
                        throw new IllegalStateException("read " + bigger + " rows of " + n);
                    }
                    t0 = System.nanoTime();
                    long portalRows = readThroughPortal(ds, from, until); // (a0)
                    double a0 = seconds(t0);
                    long temp2 = tempBytes(ds);
                    if (read.get() != n || portalRows != n) {
                        throw new IllegalStateException("read " + read.get() + " and " + portalRows + " rows of " + n);
                    }
                    long cpu0 = processCpuNanos();
                    t0 = System.nanoTime();
                    ImpactReport self = recorded.replay(inForce, from, until);
                    double b = seconds(t0);
                    double cpuPerDecision = (processCpuNanos() - cpu0) / 1e3 / n;
                    long total = self.unchanged() + self.flipped() + self.notReplayableTotal();
                    if (total != n) {
                        throw new IllegalStateException("replayed " + total + " of " + n);
                    }
                    if (self.flipped() != 0) {
                        System.out.print(self.render());
                        throw new IllegalStateException("the shipped policy flipped its own decisions");
                    }
                    t0 = System.nanoTime();
                    PolicyRequest r = changes.request(requester, "bench-" + round, files, "replay benchmark");
                    double c = seconds(t0);
                    ReplayReport report = r.report().orElseThrow(() -> new IllegalStateException("no report attached"));
                    if (!r.reportCurrent() || report.decisions() != n || report.flipped() != 0) {
                        throw new IllegalStateException("the request's report: " + report.toJson());
                    }
                    System.out.printf(
                            "| %d | %.1f s | %.1f s | %.1f s | %.2f | %d / %d / %d MiB | %.1f s | %.2f | %.1f µs | %d "
                                    + "| %.2f %% | %.1f s | %.2f | %s |%n",
                            round,
                            a,
                            a5,
                            a0,
                            a0 / a,
                            (temp1 - temp0) >> 20,
                            (temp5 - temp1) >> 20,
                            (temp2 - temp5) >> 20,
                            b,
                            b / a,
                            cpuPerDecision,
                            self.flipped(),
                            100.0 * (self.unchanged() + self.flipped()) / n,
                            c,
                            c / a,
                            loadAverage());
                    for (Map.Entry<String, Long> e : new TreeMap<>(self.notReplayableByReason()).entrySet()) {
                        System.out.printf("  not replayable: %d  %s%n", e.getValue(), e.getKey());
                    }
                }
                Runtime rt = Runtime.getRuntime();
                System.gc();
                System.out.printf(
                        "heap after the rounds: %d MiB used of %d MiB max%n",
                        (rt.totalMemory() - rt.freeMemory()) >> 20, rt.maxMemory() >> 20);
                load("after");
            }
        }
    }

    /** The same event without the replay facts (what the row held before they were kept). */
    private static AuditEvent withoutReplayFacts(AuditEvent e) {
        try {
            ObjectNode details = (ObjectNode) JSON.readTree(e.detailsJson());
            details.remove(RecordedDecision.AUDIT_DETAIL);
            return e.toBuilder().detailsJson(JSON.writeValueAsString(details)).build();
        } catch (java.io.IOException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** A template decision at one time of the window. */
    private record Slot(Instant at, AuditEvent template) {}

    /**
     * Each template at every time of {@code [first, last)} its own decision time moved by whole weeks reaches, in time
     * order: a copy keeps its decision's day of the week and time of day, on which conditions of the shipped policy
     * depend (office hours), so a copy decided again at its row's time decides as its template did.
     */
    private static List<Slot> slots(List<AuditEvent> templates, Instant first, Instant last) {
        Duration week = Duration.ofDays(7);
        List<Slot> slots = new ArrayList<>();
        for (AuditEvent t : templates) {
            Instant at = t.occurredAt();
            while (!at.isBefore(last)) {
                at = at.minus(week);
            }
            while (!at.minus(week).isBefore(first)) {
                at = at.minus(week);
            }
            for (; at.isBefore(last); at = at.plus(week)) {
                if (!at.isBefore(first)) {
                    slots.add(new Slot(at, t));
                }
            }
        }
        slots.sort(java.util.Comparator.comparing(Slot::at));
        return slots;
    }

    /**
     * Writes {@code n} rows, the templates' copies at their {@link #slots} (a microsecond apart within a slot), in time
     * order as a server writes them, through the audit writer; seconds taken.
     */
    private static double write(
            Path spool, ConnectionSource connections, List<AuditEvent> templates, int n, Instant first, Instant last)
            throws Exception {
        AuditWriterSettings settings = AuditWriterSettings.defaults(SpoolSettings.defaults(spool));
        List<Slot> slots = slots(templates, first, last);
        long t0 = System.nanoTime();
        try (AuditWriter writer = AuditWriter.start(settings, connections, new SimpleMeterRegistry())) {
            int i = 0;
            for (int s = 0; s < slots.size(); s++) {
                Slot slot = slots.get(s);
                int copies = n / slots.size() + (s < n % slots.size() ? 1 : 0);
                for (int j = 0; j < copies; j++, i++) {
                    // an offered load the writer can take: pause the producer rather than overflow the queue
                    while (writer.status().queued() > settings.queueCapacity() / 2) {
                        Thread.sleep(1);
                    }
                    Instant at = slot.at().truncatedTo(ChronoUnit.MICROS).plusNanos(1000L * j);
                    AuditEvent e = slot.template().toBuilder()
                            .eventId(EventIds.forInstant(at))
                            .occurredAt(at)
                            .requestId("req-" + i)
                            .build();
                    if (!writer.record(e)) {
                        throw new IllegalStateException("the writer refused row " + i);
                    }
                }
            }
            if (!writer.awaitWritten(Duration.ofMinutes(10))) {
                throw new IllegalStateException("the writer did not drain");
            }
        }
        return seconds(t0);
    }

    /** The audit table's partitions together (a partitioned table's own size is 0). */
    private record Storage(
            long rows, long heap, long toast, long indexes, long total, double detailsColumn, double replayColumn) {}

    private static Storage storage(HikariDataSource ds) throws Exception {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            s.execute("vacuum analyze audit_event");
            long heap;
            long toast;
            long indexes;
            long total;
            try (ResultSet rs = s.executeQuery("select sum(pg_relation_size(p.relid)), "
                    + "sum(coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)), "
                    + "sum(pg_indexes_size(p.relid)), sum(pg_total_relation_size(p.relid)) "
                    + "from pg_partition_tree('audit_event') p join pg_class c on c.oid = p.relid where p.isleaf")) {
                rs.next();
                heap = rs.getLong(1);
                toast = rs.getLong(2);
                indexes = rs.getLong(3);
                total = rs.getLong(4);
            }
            try (ResultSet rs = s.executeQuery("select count(*), avg(pg_column_size(details)), "
                    + "avg(coalesce(pg_column_size(details -> 'replay'), 0)) from audit_event")) {
                rs.next();
                return new Storage(rs.getLong(1), heap, toast, indexes, total, rs.getDouble(2), rs.getDouble(3));
            }
        }
    }

    private static void printStorage(Storage base, Storage facts, int n) {
        System.out.println();
        System.out.println("| bytes per decision row | without replay facts (baseline) | with | added | ratio |");
        System.out.println("|---|---:|---:|---:|---:|");
        row("table, its TOAST and indexes (pg_total_relation_size)", base.total(), facts.total(), n);
        row("  heap", base.heap(), facts.heap(), n);
        row("  TOAST", base.toast(), facts.toast(), n);
        row("  indexes", base.indexes(), facts.indexes(), n);
        System.out.printf(
                "| details column as stored (pg_column_size) | %.0f | %.0f | %.0f | %.2f |%n",
                base.detailsColumn(),
                facts.detailsColumn(),
                facts.detailsColumn() - base.detailsColumn(),
                facts.detailsColumn() / base.detailsColumn());
        System.out.printf(
                "| the replay facts value (pg_column_size of details -> 'replay') | | %.0f | | |%n",
                facts.replayColumn());
        if (base.rows() != n || facts.rows() != n) {
            throw new IllegalStateException("rows: " + base.rows() + " and " + facts.rows() + ", expected " + n);
        }
    }

    private static void row(String what, long base, long facts, int n) {
        System.out.printf(
                "| %s | %.0f | %.0f | %.0f | %.2f |%n",
                what,
                (double) base / n,
                (double) facts / n,
                (double) (facts - base) / n,
                base == 0 ? Double.NaN : (double) facts / base);
    }

    private static void sql(HikariDataSource ds, String sql) throws Exception {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            if (s.execute(sql)) {
                try (ResultSet rs = s.getResultSet()) {
                    rs.next();
                    System.out.printf("%s: %s%n", sql, rs.getString(1));
                }
            }
        }
    }

    /** Rows per round trip of the read path before. */
    private static final int BEFORE_BATCH = 5000;

    private static final String QUERY = "select request_id, occurred_at, method, authority, status, decision, "
            + "reason, route, tenant, subject, details ->> ?, details ->> ? from audit_event where kind = ? "
            + "and occurred_at >= ? and occurred_at < ? order by occurred_at, event_id";

    /** PostgreSQL's plans for the report's query: as a declared cursor (the read path) and as a portal (before). */
    private static void explain(HikariDataSource ds, Instant first, Instant last) throws Exception {
        for (String how : List.of("declare rows no scroll cursor for ", "")) {
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                try (java.sql.PreparedStatement ps = c.prepareStatement("explain " + how + QUERY)) {
                    bind(ps, first.minus(Duration.ofDays(1)), last.plusSeconds(1));
                    System.out.println(
                            how.isEmpty() ? "as a portal (the driver's fetch size):" : "as a declared cursor:");
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            System.out.println("    " + rs.getString(1));
                        }
                    }
                }
                c.rollback();
            }
        }
    }

    private static void bind(java.sql.PreparedStatement ps, Instant from, Instant to) throws Exception {
        ps.setString(1, RecordedDecision.AUDIT_DETAIL);
        ps.setString(2, SubscriptionUsage.AUDIT_DETAIL);
        ps.setString(3, "authz_decision");
        ps.setTimestamp(4, java.sql.Timestamp.from(from));
        ps.setTimestamp(5, java.sql.Timestamp.from(to));
    }

    /** The window read as the read path did before: the driver's fetch size over a portal; rows read. */
    private static long readThroughPortal(HikariDataSource ds, Instant from, Instant to) throws Exception {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            long n = 0;
            try (java.sql.PreparedStatement ps = c.prepareStatement(QUERY)) {
                ps.setFetchSize(BEFORE_BATCH);
                bind(ps, from, to);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rs.getString(1);
                        rs.getTimestamp(2);
                        for (int i = 3; i <= 12; i++) {
                            rs.getString(i);
                        }
                        n++;
                    }
                }
            }
            c.rollback();
            return n;
        }
    }

    /** Bytes PostgreSQL wrote to temporary files so far (a sort that did not fit in work_mem). */
    private static long tempBytes(HikariDataSource ds) throws Exception {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            // statistics reach the shared view when a backend reports them: have every backend's report read
            s.execute("select pg_stat_clear_snapshot()");
            Thread.sleep(1500);
            try (ResultSet rs =
                    s.executeQuery("select temp_bytes from pg_stat_database where datname = current_database()")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String loadAverage() {
        return String.format(
                "%.1f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    private static void load(String when) {
        System.out.printf("load average %s: %s%n", when, loadAverage());
    }
}
