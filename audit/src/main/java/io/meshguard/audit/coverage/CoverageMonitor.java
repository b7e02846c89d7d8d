package io.meshguard.audit.coverage;

import io.meshguard.audit.query.CoverageReport;
import io.meshguard.audit.query.CoverageReport.Coverage;
import io.meshguard.audit.query.CoverageReport.ServiceCoverage;
import io.meshguard.contract.ProfileLabels;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@link CoverageReport} join every {@code interval} over the slice of time it has not covered yet, ending
 * {@code lag} ago (the three kinds of rows reach PostgreSQL through three batching writers), and counts per service
 * what it found: {@code meshguard_coverage_requests_total{service,result}} with {@code result} one of
 * {@code checked}, {@code unchecked}, {@code without_dlp}, {@code unverifiable}. Each slice is counted once per
 * process, so the counters only grow; {@code meshguard_coverage_uncovered_requests_total} (no labels, at 0 from start) is
 * what the alert reads. A failed run is
 * counted and logged; the next run retries the same slice (bounded to {@link #MAX_CATCH_UP}, older time is left to
 * {@code meshguard coverage}).
 */
public final class CoverageMonitor implements ServerComponent {
    private static final Logger log = LoggerFactory.getLogger(CoverageMonitor.class);

    /** After an outage, at most this much past time is joined in one run. */
    public static final Duration MAX_CATCH_UP = Duration.ofMinutes(15);

    /** Distinct service labels; the rest count under {@code _other}. */
    static final int SERVICE_LABELS = 200;

    private final CoverageReport report;
    private final Duration interval;
    private final Duration lag;
    private final Clock clock;
    private final MeterRegistry meters;
    private final ProfileLabels services = new ProfileLabels(SERVICE_LABELS);
    private final Counter failures;
    private final Counter uncovered;
    private final AtomicLong lastSuccess = new AtomicLong();
    private ScheduledExecutorService executor;
    private Instant covered;

    public CoverageMonitor(CoverageReport report, Duration interval, Duration lag, Clock clock, MeterRegistry meters) {
        this.report = Objects.requireNonNull(report, "report");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.lag = Objects.requireNonNull(lag, "lag");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.meters = Objects.requireNonNull(meters, "meters");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("the coverage interval must be positive");
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
        this.covered = clock.instant().minus(lag).minus(interval);
    }

    @Override
    public String name() {
        return "coverage";
    }

    @Override
    public void start() {
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "meshguard-coverage");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(
                this::runSafely, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void runSafely() {
        try {
            runOnce();
        } catch (Exception e) {
            failures.increment();
            log.warn("coverage join failed, retried at the next run: {}", e.toString());
        }
    }

    /** Joins the slice from the end of the last one to {@code lag} ago and counts it; returns what it found. */
    public synchronized Optional<Coverage> runOnce() throws Exception {
        Instant until = clock.instant().minus(lag);
        Instant since = covered.isBefore(until.minus(MAX_CATCH_UP)) ? until.minus(MAX_CATCH_UP) : covered;
        if (!since.isBefore(until)) {
            return Optional.empty();
        }
        Coverage c = report.report(since, until, Optional.empty(), 0);
        for (ServiceCoverage s : c.services()) {
            String service = services.label(s.service());
            count(service, "checked", s.checked());
            count(service, "unchecked", s.unchecked());
            count(service, "without_dlp", s.withoutDlp());
            count(service, "unverifiable", s.unverifiable());
            if (s.uncovered() > 0) {
                log.error(
                        "coverage: {} request(s) to {} reached a workload without their Check ({}) or DLP session ({})"
                                + " between {} and {}; run `meshguard coverage --since {} --service {}` for their ids",
                        s.uncovered(),
                        s.service(),
                        s.unchecked(),
                        s.withoutDlp(),
                        since,
                        until,
                        since,
                        s.service());
            }
        }
        uncovered.increment(c.uncovered());
        covered = until;
        lastSuccess.set(clock.instant().getEpochSecond());
        return Optional.of(c);
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
