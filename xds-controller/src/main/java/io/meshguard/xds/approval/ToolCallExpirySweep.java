package io.meshguard.xds.approval;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes held tool calls past their expiry on a schedule, not only when someone lists them: each gets its deny row of
 * the admin trail ({@code tool_call_expired}) within one period of its expiry, so the trail says when a call was
 * refused by time even when nobody looked. Replicas may all sweep: a row is closed by one update only, so it gets one
 * deny row.
 *
 * <p>Metrics: {@code meshguard_tool_call_approvals_expired_total} (calls closed by the sweep),
 * {@code meshguard_tool_call_approvals_sweep_failures_total}, and
 * {@code meshguard_tool_call_approvals_sweep_age_seconds} (since the last sweep that reached the database; it grows
 * while the database is away, which is what to alert on). The sweep runs on its own thread, apart from xDS serving,
 * so a slow database never delays a configuration push.
 */
public final class ToolCallExpirySweep implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ToolCallExpirySweep.class);

    /** How often the shipped controller sweeps: a deny row lands at most this long after a call expired. */
    public static final Duration PERIOD = Duration.ofSeconds(15);

    private final ToolCallApprovals approvals;
    private final Duration period;
    private final Clock clock;
    private final Counter expired;
    private final Counter failures;
    private final AtomicLong lastSweptMillis;
    private ScheduledExecutorService scheduler;

    public ToolCallExpirySweep(ToolCallApprovals approvals, Duration period, Clock clock, MeterRegistry meters) {
        this.approvals = approvals;
        this.period = period;
        this.clock = clock;
        this.lastSweptMillis = new AtomicLong(clock.millis());
        this.expired = Counter.builder("meshguard_tool_call_approvals_expired_total")
                .description("Held MCP tool calls closed as expired by the sweep, each with a deny row of the trail")
                .register(meters);
        this.failures = Counter.builder("meshguard_tool_call_approvals_sweep_failures_total")
                .description("Expiry sweeps of held MCP tool calls that could not reach the database")
                .register(meters);
        Gauge.builder("meshguard_tool_call_approvals_sweep_age_seconds", this, s -> s.ageSeconds())
                .description("Seconds since the expiry sweep of held MCP tool calls last reached the database")
                .register(meters);
    }

    public void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("tool-approval-expiry").daemon().factory());
        long every = period.toMillis();
        scheduler.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Closes what expired by now.
     *
     * @return how many calls were closed; 0 as well when the database could not be reached (counted, logged)
     */
    public int sweep() {
        try {
            int n = approvals.expire("tool-approval-expiry-sweep");
            lastSweptMillis.set(clock.millis());
            if (n > 0) {
                expired.increment(n);
                log.atInfo()
                        .addKeyValue("event", "tool_calls_expired")
                        .addKeyValue("count", n)
                        .log("{} held tool call(s) expired unapproved or unrun: deny rows written", n);
            }
            return n;
        } catch (RuntimeException e) {
            // the next period tries again; the age gauge shows how long the trail has been behind
            failures.increment();
            log.warn("expiry sweep of held tool calls failed: {}", e.getMessage());
            return 0;
        }
    }

    double ageSeconds() {
        return Math.max(0, clock.millis() - lastSweptMillis.get()) / 1000.0;
    }

    @Override
    public void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }
}
