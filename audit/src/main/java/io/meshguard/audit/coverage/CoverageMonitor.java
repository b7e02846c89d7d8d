package io.meshguard.audit.coverage;

import io.meshguard.audit.query.CoverageReport;
import io.meshguard.audit.query.CoverageReport.Coverage;
import io.meshguard.audit.query.CoverageReport.ServiceCoverage;
import io.meshguard.audit.query.CoverageReport.SliceCoverage;
import io.meshguard.contract.ProfileLabels;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@link CoverageReport} join every {@code interval} and counts per service what it found:
 * {@code meshguard_coverage_requests_total{service,result}} with {@code result} one of {@code checked},
 * {@code unchecked}, {@code without_dlp}, {@code unverifiable}; {@code meshguard_coverage_uncovered_requests_total} (no
 * labels, at 0 from start) is what the alert reads. The three kinds of rows reach PostgreSQL through three batching
 * writers on different servers, late and in any order, so:
 *
 * <ul>
 *   <li>each run joins again the last {@link #RECHECK} of time up to {@code lag} ago (and further back, up to
 *       {@link #MAX_CATCH_UP}, while a slice holds uncovered requests not yet counted), slice by slice (slices of
 *       {@code interval}), and counts only what grew since it last looked at a slice: an access-log row that arrived
 *       late (a long stream logs at its end, a writer replayed its spool) is still counted, and nothing twice;
 *   <li>a request is counted {@code checked} as soon as its Check is there, but {@code unchecked} (or
 *       {@code without_dlp}) only once it has stayed so for {@code settle} ({@code settle + lag} for a DLP session,
 *       which is written when the stream ends, as late as the access-log row): a row still in a writer's retry is
 *       not an alarm. After a failed run (PostgreSQL away, every writer spooling) nothing is counted uncovered until
 *       {@link #AFTER_OUTAGE} after the join works again, while the writers replay their spools.
 * </ul>
 *
 * A failed run is counted and logged; the next one joins from where the last good one ended (at most
 * {@link #MAX_CATCH_UP} back; older time is left to {@code meshguard coverage}). An alarm that a late Check later
 * proves false is not taken back (counters only grow); the request is then counted {@code checked} as well.
 */
public final class CoverageMonitor implements ServerComponent {
    private static final Logger log = LoggerFactory.getLogger(CoverageMonitor.class);

    /** After an outage, at most this much past time is joined in one run. */
    public static final Duration MAX_CATCH_UP = Duration.ofMinutes(15);

    /** Each run joins this much past time again, so rows that reach PostgreSQL this late are still counted. */
    public static final Duration RECHECK = Duration.ofMinutes(5);

    /** How long after a failed run nothing is counted uncovered (the writers replay their spools). */
    public static final Duration AFTER_OUTAGE = Duration.ofMinutes(2);

    /** Distinct service labels; the rest count under {@code _other}. */
    static final int SERVICE_LABELS = 200;

    private static final List<String> RESULTS = List.of("checked", "unchecked", "without_dlp", "unverifiable");
    private static final int WITHOUT_DLP = RESULTS.indexOf("without_dlp");

    private final CoverageReport report;
    private final Duration interval;
    private final Duration lag;
    private final Duration settle;
    private final Clock clock;
    private final MeterRegistry meters;
    private final ProfileLabels services = new ProfileLabels(SERVICE_LABELS);
    private final Counter failures;
    private final Counter uncovered;
    private final AtomicLong lastSuccess = new AtomicLong();
    /** What was counted per slice and service, by result; slices older than the rejoined time are forgotten. */
    private final Map<SliceKey, long[]> counted = new HashMap<>();
    /** Uncovered requests seen but not yet counted: how many, since when, per slice, service and result. */
    private final Map<SliceKey, Suspect[]> suspects = new HashMap<>();

    private ScheduledExecutorService executor;
    /** Nothing before the monitor started is counted (that time is the report's). */
    private final Instant start;

    private Instant joinedUntil;
    private boolean failed;
    private Instant quietUntil = Instant.MIN;

    private record SliceKey(Instant slice, String service) {}

    private record Suspect(long count, Instant since) {}

    /** As below, with {@code settle} one {@code interval}: an uncovered request is counted at the next run. */
    public CoverageMonitor(CoverageReport report, Duration interval, Duration lag, Clock clock, MeterRegistry meters) {
        this(report, interval, lag, interval, clock, meters);
    }

    /**
     * @param interval how often the join runs, and the length of the slices it keeps counts for (whole seconds)
     * @param lag the join stops this long before now
     * @param settle how long a request must stay without its Check or DLP session before it is counted so
     */
    public CoverageMonitor(
            CoverageReport report,
            Duration interval,
            Duration lag,
            Duration settle,
            Clock clock,
            MeterRegistry meters) {
        this.report = Objects.requireNonNull(report, "report");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.lag = Objects.requireNonNull(lag, "lag");
        this.settle = Objects.requireNonNull(settle, "settle");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.meters = Objects.requireNonNull(meters, "meters");
        if (interval.toSeconds() < 1) {
            throw new IllegalArgumentException("the coverage interval must be at least one second");
        }
        if (settle.isNegative()) {
            throw new IllegalArgumentException("the coverage settle time must not be negative");
        }
        this.failures = Counter.builder("meshguard.coverage.failures")
                .description("Coverage joins that failed (PostgreSQL unreachable or slow)")
                .register(meters);
        // label-free and at 0 from start: a per-service series is born with its first count, which increase()
        // cannot see, so the alert reads this one and the per-service counters say where
        this.uncovered = Counter.builder("meshguard.coverage.uncovered.requests")
                .description("Protected requests that reached a workload without their Check or DLP session")
                .register(meters);
        meters.gauge("meshguard.coverage.last_success.timestamp.seconds", lastSuccess, AtomicLong::doubleValue);
        this.start = sliceOf(clock.instant().minus(lag).minus(interval));
        this.joinedUntil = start;
    }

    @Override
    public String name() {
        return "coverage";
    }

    @Override
    public void start() {
        executor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("meshguard-coverage").daemon().factory());
        executor.scheduleWithFixedDelay(
                this::runSafely, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void runSafely() {
        try {
            runOnce();
        } catch (Exception e) {
            synchronized (this) {
                failed = true;
            }
            failures.increment();
            log.warn("coverage join failed, retried at the next run: {}", e.toString());
        }
    }

    /**
     * Joins from the rejoined past to {@code lag} ago and counts what grew; returns what it counted in this run (per
     * service, over the joined window), empty when there was nothing to join.
     */
    public synchronized Optional<Coverage> runOnce() throws Exception {
        Instant now = clock.instant();
        Instant until = now.minus(lag);
        // RECHECK back from where the last good run ended: after an outage too, rows that reached PostgreSQL late
        // for slices joined before it are still counted
        Instant since = earliest(earliest(joinedUntil, until).minus(RECHECK), oldestSuspect());
        since = sliceOf(latest(since, latest(start, until.minus(MAX_CATCH_UP))));
        if (!since.isBefore(until) || !until.isAfter(joinedUntil)) {
            return Optional.empty();
        }
        List<SliceCoverage> slices;
        try {
            slices = report.slices(since, until, interval);
        } catch (Exception e) {
            failed = true;
            throw e;
        }
        if (failed) {
            failed = false;
            quietUntil = now.plus(AFTER_OUTAGE);
        }
        Map<String, long[]> found = new TreeMap<>();
        for (SliceCoverage s : slices) {
            ServiceCoverage c = s.coverage();
            SliceKey key = new SliceKey(s.slice(), c.service());
            long[] was = counted.computeIfAbsent(key, k -> new long[RESULTS.size()]);
            Suspect[] waiting = suspects.computeIfAbsent(key, k -> new Suspect[RESULTS.size()]);
            long[] add = new long[RESULTS.size()];
            long[] now4 = {c.checked(), c.unchecked(), c.withoutDlp(), c.unverifiable()};
            for (int r = 0; r < RESULTS.size(); r++) {
                boolean uncoveredResult = r == 1 || r == WITHOUT_DLP;
                add[r] = uncoveredResult ? settled(was, waiting, r, now4[r], now) : Math.max(0, now4[r] - was[r]);
                was[r] += add[r];
            }
            long[] sum = found.computeIfAbsent(c.service(), k -> new long[RESULTS.size()]);
            for (int r = 0; r < RESULTS.size(); r++) {
                sum[r] += add[r];
            }
        }
        Instant forget = since.minus(interval);
        counted.keySet().removeIf(k -> k.slice().isBefore(forget));
        suspects.keySet().removeIf(k -> k.slice().isBefore(forget));
        List<ServiceCoverage> services = new ArrayList<>();
        long uncoveredNow = 0;
        for (Map.Entry<String, long[]> e : found.entrySet()) {
            long[] n = e.getValue();
            String label = this.services.label(e.getKey());
            for (int r = 0; r < RESULTS.size(); r++) {
                count(label, RESULTS.get(r), n[r]);
            }
            if (n[1] + n[2] > 0) {
                log.error(
                        "coverage: {} request(s) to {} reached a workload without their Check ({}) or DLP session ({})"
                                + " between {} and {}; run `meshguard coverage --since {} --service {}` for their ids",
                        n[1] + n[2],
                        e.getKey(),
                        n[1],
                        n[2],
                        since,
                        until,
                        since,
                        e.getKey());
            }
            uncoveredNow += n[1] + n[2];
            services.add(new ServiceCoverage(
                    e.getKey(),
                    0,
                    0,
                    n[0],
                    0,
                    0,
                    0,
                    n[1],
                    n[2],
                    n[3],
                    0,
                    0,
                    CoverageReport.CheckJoins.NONE,
                    List.of()));
        }
        uncovered.increment(uncoveredNow);
        joinedUntil = until;
        lastSuccess.set(now.getEpochSecond());
        return Optional.of(new Coverage(since, until, services));
    }

    /**
     * How many uncovered requests of result {@code r} to count now: those beyond what was counted that have stayed
     * uncovered for {@code settle} (and past the quiet time after an outage). Fewer than counted means a late Check
     * proved an alarm false: the bookkeeping follows, so a later bypass in the same slice is still counted.
     */
    private long settled(long[] was, Suspect[] waiting, int r, long found, Instant now) {
        long candidate = found - was[r];
        if (candidate <= 0) {
            if (candidate < 0) {
                was[r] = found;
            }
            waiting[r] = null;
            return 0;
        }
        Suspect s = waiting[r];
        if (s == null) {
            if (settle.isZero() && r != WITHOUT_DLP && !now.isBefore(quietUntil)) {
                return candidate;
            }
            waiting[r] = new Suspect(candidate, now);
            return 0;
        }
        // a DLP session is written when the stream ends, as its access-log row is: a row logged late (a stream, a
        // timeout) meets its session only as late, so a missing session waits the lag a fresh row has had as well
        Duration wait = r == WITHOUT_DLP ? settle.plus(lag) : settle;
        if (now.isBefore(s.since().plus(wait)) || now.isBefore(quietUntil)) {
            waiting[r] = new Suspect(Math.min(candidate, s.count()), s.since());
            return 0;
        }
        long confirmed = Math.min(candidate, s.count());
        waiting[r] = candidate > confirmed ? new Suspect(candidate - confirmed, now) : null;
        return confirmed;
    }

    /**
     * The oldest slice with uncovered requests not yet counted: it is joined again until they settle, even past
     * {@link #RECHECK}, so a bypass seen just before an outage is not forgotten while the quiet time after it holds
     * the count back.
     */
    private Instant oldestSuspect() {
        Instant oldest = Instant.MAX;
        for (Map.Entry<SliceKey, Suspect[]> e : suspects.entrySet()) {
            for (Suspect s : e.getValue()) {
                if (s != null && e.getKey().slice().isBefore(oldest)) {
                    oldest = e.getKey().slice();
                }
            }
        }
        return oldest;
    }

    private Instant sliceOf(Instant t) {
        long width = interval.toSeconds();
        return Instant.ofEpochSecond(Math.floorDiv(t.getEpochSecond(), width) * width);
    }

    private static Instant earliest(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static Instant latest(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private void count(String service, String result, long n) {
        Counter counter = Counter.builder("meshguard.coverage.requests")
                .description("Protected requests the coverage join examined, by what it found")
                .tag("service", service)
                .tag("result", result)
                .register(meters);
        if (n > 0) {
            counter.increment(n);
        }
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
