package io.meshguard.xds.server;

import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices an xDS core that stopped delivering configuration while its process looks healthy: a revision handed to
 * the snapshots and not served within a bound, a core thread (the state-change owner, the VHDS pusher) that does not
 * come round within a bound, a VHDS stream that cannot be written to, or a JVM deadlock. A stuck core fails readiness
 * (the ADS port's gRPC health, the status port's {@code /readyz}) and raises {@code meshguard_xds_watchdog_stuck};
 * a deadlock never resolves, so it also fails liveness (the ADS port's {@link #LIVENESS_SERVICE} health) and
 * Kubernetes restarts the pod. A stuck state that clears (a slow serve that finished) makes the core ready again.
 */
public final class XdsWatchdog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(XdsWatchdog.class);

    /** The gRPC health service name the manifests' livenessProbe asks: NOT_SERVING once a deadlock is found. */
    public static final String LIVENESS_SERVICE = "meshguard.xds.liveness";

    /**
     * @param period how often the checks run
     * @param serve longest a revision handed to the snapshots may take to be served
     * @param lane longest a core thread may take to come round to a task handed to it
     * @param write longest a VHDS stream may stay unwritable (gRPC flow control full) before it is closed
     */
    public record Bounds(Duration period, Duration serve, Duration lane, Duration write) {
        /** Generous against a large publish on a loaded host; a deadlock is found within one period anyway. */
        public static Bounds shipped() {
            return new Bounds(
                    Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(60));
        }
    }

    /** A thread of the core that takes tasks: it is probed with an empty one each period. */
    public record Lane(String name, Executor executor) {}

    /** Where the outcome goes besides {@code /readyz}: the ADS port's gRPC health. */
    public interface Health {
        void ready(boolean ready);

        void alive(boolean alive);
    }

    /**
     * The watchdog of one core: its state-change owner and its VHDS pusher probed, its ADS port's health set.
     */
    public static XdsWatchdog of(
            Bounds bounds,
            MeterRegistry meters,
            XdsSnapshots snapshots,
            VirtualHostDiscovery virtualHosts,
            SerialExecutor serial,
            AdsServer ads) {
        return new XdsWatchdog(
                bounds,
                meters,
                snapshots,
                Optional.of(virtualHosts),
                List.of(new Lane(serial.name(), serial::execute), new Lane("vhds-retry", virtualHosts.pusher())),
                ads);
    }

    private record Probe(Lane lane, AtomicLong sentNanos) {}

    private final Bounds bounds;
    private final XdsSnapshots snapshots;
    private final Optional<VirtualHostDiscovery> virtualHosts;
    private final List<Probe> probes = new ArrayList<>();
    private final Health health;
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final AtomicReference<List<String>> problems = new AtomicReference<>(List.of());
    private volatile int deadlocked;
    private volatile int unwritable;
    private final MeterRegistry meters;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("xds-watchdog").daemon().factory());

    public XdsWatchdog(
            Bounds bounds,
            MeterRegistry meters,
            XdsSnapshots snapshots,
            Optional<VirtualHostDiscovery> virtualHosts,
            List<Lane> lanes,
            Health health) {
        this.bounds = bounds;
        this.meters = meters;
        this.snapshots = snapshots;
        this.virtualHosts = virtualHosts;
        this.health = health;
        lanes.forEach(l -> probes.add(new Probe(l, new AtomicLong())));
        Gauge.builder(
                        "meshguard_xds_watchdog_stuck",
                        this,
                        w -> w.problems.get().isEmpty() ? 0 : 1)
                .description("1 while the xDS core is stuck: a revision not served, a core thread not coming round,"
                        + " or a deadlock (the controller is then not ready)")
                .register(meters);
        Gauge.builder("meshguard_xds_watchdog_deadlocked_threads", this, w -> w.deadlocked)
                .description("Threads of this JVM in a deadlock (the controller then fails liveness)")
                .register(meters);
        Gauge.builder("meshguard_xds_watchdog_unwritable_streams", this, w -> w.unwritable)
                .description("VHDS streams found unwritable past the bound at the last check (each is closed)")
                .register(meters);
        for (String reason : List.of("serve", "lane", "deadlock", "stream")) {
            trips(reason);
        }
    }

    private Counter trips(String reason) {
        return Counter.builder("meshguard_xds_watchdog_trips_total")
                .description("Times the xDS watchdog found the core stuck, by what it found")
                .tag("reason", reason)
                .register(meters);
    }

    public XdsWatchdog start() {
        long period = bounds.period().toMillis();
        timer.scheduleWithFixedDelay(this::checkQuietly, period, period, TimeUnit.MILLISECONDS);
        return this;
    }

    private void checkQuietly() {
        try {
            check();
        } catch (RuntimeException e) {
            log.error("xDS watchdog check failed", e);
        }
    }

    /** One round of the checks (the timer runs it every period; tests call it). */
    public void check() {
        List<String> found = new ArrayList<>();
        long now = System.nanoTime();
        snapshots.oldestServe().ifPresent(serve -> {
            if (now - serve.sinceNanos() > bounds.serve().toNanos()) {
                found.add("revision " + serve.revision() + " of group " + serve.group() + " not served after "
                        + TimeUnit.NANOSECONDS.toSeconds(now - serve.sinceNanos()) + " s");
            }
        });
        for (Probe p : probes) {
            long sent = p.sentNanos().get();
            if (sent == 0) {
                long at = Math.max(1, now);
                p.sentNanos().set(at);
                p.lane().executor().execute(() -> p.sentNanos().compareAndSet(at, 0));
            } else if (now - sent > bounds.lane().toNanos()) {
                found.add("core thread " + p.lane().name() + " has not come round for "
                        + TimeUnit.NANOSECONDS.toSeconds(now - sent) + " s");
            }
        }
        int closed = virtualHosts.map(v -> v.closeUnwritable(bounds.write())).orElse(0);
        unwritable = closed;
        if (closed > 0) {
            trips("stream").increment(closed);
            log.warn(
                    "xDS watchdog closed {} VHDS stream(s) unwritable for {} s",
                    closed,
                    bounds.write().toSeconds());
        }
        long[] ids = threads.findDeadlockedThreads();
        deadlocked = ids == null ? 0 : ids.length;
        if (ids != null) {
            StringBuilder who = new StringBuilder();
            for (ThreadInfo t : threads.getThreadInfo(ids, true, true)) {
                if (t != null) {
                    who.append(' ')
                            .append(t.getThreadName())
                            .append(" waits for ")
                            .append(t.getLockName())
                            .append(" held by ")
                            .append(t.getLockOwnerName())
                            .append(';');
                }
            }
            found.add("deadlock:" + who);
        }
        List<String> before = problems.getAndSet(List.copyOf(found));
        if (!found.isEmpty() && !found.equals(before)) {
            for (String f : found) {
                if (!before.contains(f)) {
                    trips(f.startsWith("deadlock") ? "deadlock" : f.startsWith("core thread") ? "lane" : "serve")
                            .increment();
                }
            }
            log.error("xDS core stuck, not ready: {}", String.join("; ", found));
        } else if (found.isEmpty() && !before.isEmpty()) {
            log.info("xDS core delivers again, ready");
        }
        health.ready(found.isEmpty());
        if (ids != null) {
            health.alive(false);
        }
    }

    /** Whether the core delivers: nothing found stuck at the last check. */
    public boolean healthy() {
        return problems.get().isEmpty();
    }

    /** For {@code /readyz}. */
    public ReadinessCheck readinessCheck() {
        return ReadinessCheck.of("xds:delivery", () -> {
            List<String> now = problems.get();
            return now.isEmpty()
                    ? ReadinessCheck.Result.ready("serving: every revision served, core threads coming round")
                    : ReadinessCheck.Result.notReady(String.join("; ", now));
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
