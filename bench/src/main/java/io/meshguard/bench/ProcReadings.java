package io.meshguard.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** What the benchmark machine's {@code /proc} says: its CPU model and load, and the CPU time processes have used. */
public final class ProcReadings {
    private static final long NANOS_PER_TICK = 10_000_000L; // Linux USER_HZ 100: /proc/<pid>/stat counts 10 ms ticks

    private ProcReadings() {}

    /** User + system CPU of a process and all its threads so far, from {@code /proc/<pid>/stat}. */
    public static long processCpuNanos(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * NANOS_PER_TICK; // utime, stime
    }

    /** CPU of the PostgreSQL processes now serving (backends, writer, checkpointer...), from {@code /proc}. */
    public static long postgresCpuNanos(HikariDataSource ds) throws Exception {
        List<Long> pids = new ArrayList<>();
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select pid from pg_stat_activity")) {
            while (rs.next()) {
                pids.add(rs.getLong(1));
            }
        }
        long nanos = 0;
        for (long pid : pids) {
            try {
                nanos += processCpuNanos(pid);
            } catch (IOException gone) {
                // a backend that ended between the query and the read
            }
        }
        return nanos;
    }

    /** The CPU's model name from {@code /proc/cpuinfo}, for a result's heading. */
    public static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .orElse("CPU model unknown");
        } catch (IOException e) {
            return "CPU model unknown";
        }
    }

    /** The 1, 5 and 15 minute load averages from {@code /proc/loadavg} (the machine may be shared). */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }
}
