package io.meshguard.bench.xds;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.emulator.AdsSubscription;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.xds.soak.XdsSoak;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;

/**
 * The integration tier's xDS soak ({@link XdsSoak}) run longer and wider, with figures against a baseline measured in
 * the same run: the same nodes, none refusing, nothing churning (no restart, no link cut, no reconnects), and the
 * same timed probe publishes, after a warm-up run of the baseline that is not counted. Prints, for both, how long every node took to be on a probe publish (p50, p99, max),
 * and for the soak the responses each refusing node was sent per 10 s and the WARN lines the xDS code logged.
 *
 * <pre>XdsSoakBench [seconds=150] [scale=1] [seed=now] [probes=20]</pre>
 *
 * {@code scale} multiplies every kind of node of the integration tier's sizes (10 emulated gateways, 30 racing
 * state-of-the-world nodes, 4 refusing, 8 delta, 2 refusing, 6 extauthz replicas, 2 refusing, 8 in the zone).
 */
public final class XdsSoakBench {
    private XdsSoakBench() {}

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 150;
        int scale = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : System.nanoTime();
        int probes = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        XdsSoak.Sizes ci = XdsSoak.Sizes.CI;
        XdsSoak.Sizes sizes = new XdsSoak.Sizes(
                ci.emulated() * scale,
                ci.racing() * scale,
                ci.refusing() * scale,
                ci.delta() * scale,
                ci.deltaRefusing() * scale,
                ci.state() * scale,
                ci.stateRefusing() * scale,
                ci.zone() * scale);
        System.out.printf("XdsSoakBench seed=%d seconds=%d sizes=%s probes=%d%n", seed, seconds, sizes, probes);
        WarnLines warns = WarnLines.attach("io.meshguard.xds");
        Path tmp = Files.createTempDirectory("meshguard-bench-soak");
        LocalPostgres pg = LocalPostgres.start(tmp.resolve("pg"), 0);
        HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"));
        try {
            Migrations.apply(ds);
            XdsSoak.Gateways gateways =
                    (port, id, group) -> AdsSubscription.connect("127.0.0.1", port, new EnvoyNode(id, group, Map.of()));
            // the first run in a JVM pays for class loading and compiling the hot paths: as the baseline it would
            // be slow and flatter the soak's ratio, so a warm-up run like the baseline goes first and is not counted
            new XdsSoak(seed, 0, sizes.accepting(), probes, ds, tmp.resolve("warm-up"), gateways).run();
            warns.reset();
            XdsSoak.Report baseline =
                    new XdsSoak(seed, 0, sizes.accepting(), probes, ds, tmp.resolve("baseline"), gateways).run();
            long baselineWarns = warns.reset();
            XdsSoak.Report soak = new XdsSoak(seed, seconds, sizes, probes, ds, tmp.resolve("soak"), gateways).run();
            long soakWarns = warns.reset();
            System.out.printf(
                    "soak: %d changes, %d subscription-state changes, %d central restarts, %d link cuts, nodes up %.0f s%n",
                    soak.changes(), soak.stateChanges(), soak.restarts(), soak.cuts(), soak.seconds());
            List<Long> b = baseline.convergedMillis();
            List<Long> s = soak.convergedMillis();
            System.out.printf(
                    "every node on a probe publish, ms: baseline p50 %d p99 %d max %d | soak p50 %d p99 %d max %d |"
                            + " ratio p50 %.2f p99 %.2f%n",
                    percentile(b, 50),
                    percentile(b, 99),
                    percentile(b, 100),
                    percentile(s, 50),
                    percentile(s, 99),
                    percentile(s, 100),
                    ratio(percentile(s, 50), percentile(b, 50)),
                    ratio(percentile(s, 99), percentile(b, 99)));
            for (XdsSoak.Refusal r : soak.refusals()) {
                System.out.printf(
                        "refusing %-20s %-14s %4d responses on %d streams: %.2f per 10 s%n",
                        r.node(), r.refuses(), r.responses(), r.streams(), r.responses() * 10 / soak.seconds());
            }
            System.out.printf(
                    "WARN lines of io.meshguard.xds: baseline %d, soak %d (%.2f per refusing node per 10 s)%n",
                    baselineWarns,
                    soakWarns,
                    soakWarns
                            * 10
                            / soak.seconds()
                            / Math.max(1, soak.refusals().size()));
        } finally {
            ds.close();
            pg.close();
        }
        System.exit(0);
    }

    private static long percentile(List<Long> values, int p) {
        List<Long> sorted = values.stream().sorted().toList();
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    private static double ratio(long a, long b) {
        return (double) a / Math.max(1, b);
    }

    /** Counts WARN and ERROR lines logged under a logger name (the NACK episodes, the zone's link, the watchdog). */
    private static final class WarnLines extends AppenderBase<ILoggingEvent> {
        private final AtomicLong count = new AtomicLong();

        static WarnLines attach(String logger) {
            WarnLines w = new WarnLines();
            Logger root = (Logger) LoggerFactory.getLogger(logger);
            w.setContext(root.getLoggerContext());
            w.start();
            root.addAppender(w);
            return w;
        }

        @Override
        protected void append(ILoggingEvent event) {
            if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
                count.incrementAndGet();
            }
        }

        long reset() {
            return count.getAndSet(0);
        }
    }
}
