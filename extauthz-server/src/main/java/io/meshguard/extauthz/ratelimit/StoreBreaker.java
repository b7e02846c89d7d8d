package io.meshguard.extauthz.ratelimit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breaker in front of the shared store. Closed: every decision asks the store, each call bounded by the
 * command timeout. After {@code failureThreshold} failures or timeouts in a row it opens: decisions stop asking (no
 * Check waits on a store that is down — envoyproxy/ratelimit waits its 10 s Redis timeout on every request, its issue
 * #462) and fall back to the rule's {@code on_store_error}. After {@code openFor} one decision is let through as a
 * probe (half-open): success closes the breaker, failure opens it again. Every transition is logged as one JSON line
 * and shows in {@code meshguard_ratelimit_store_state}.
 */
public final class StoreBreaker {
    private static final Logger LOG = LoggerFactory.getLogger(StoreBreaker.class);

    /** The breaker's states; the gauge's value is the ordinal. */
    public enum State {
        CLOSED,
        HALF_OPEN,
        OPEN;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Why a store call failed. */
    public enum Failure {
        /** The client's command timeout fired ({@code redis.command_timeout}). */
        TIMEOUT,
        /** The store refused or the connection is down (fails at once while disconnected). */
        ERROR
    }

    private final int failureThreshold;
    private final long openForNanos;
    private final LongSupplier nanoTime;
    private final AtomicReference<State> state = new AtomicReference<>(State.CLOSED);
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicLong openedAt = new AtomicLong();
    private final AtomicLong trips = new AtomicLong();
    private final AtomicLong timeouts = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong shortCircuited = new AtomicLong();
    private final AtomicLong storeCalls = new AtomicLong();
    private final Counter timeoutCounter;
    private final Counter errorCounter;
    private volatile Runnable onClose = () -> {};
    private volatile String lastError = "";

    public StoreBreaker(int failureThreshold, Duration openFor, LongSupplier nanoTime, MeterRegistry registry) {
        if (failureThreshold < 1) {
            throw new IllegalArgumentException("failure threshold must be at least 1");
        }
        this.failureThreshold = failureThreshold;
        this.openForNanos = openFor.toNanos();
        this.nanoTime = nanoTime;
        Gauge.builder("meshguard_ratelimit_store_state", state, s -> s.get().ordinal())
                .description("Circuit breaker in front of the rate-limit store: 0 closed (global limits), 1 half-open "
                        + "(probing), 2 open (store unreachable: degraded or fail_closed)")
                .register(registry);
        this.timeoutCounter = errorCounter(registry, "timeout");
        this.errorCounter = errorCounter(registry, "error");
        FunctionCounter.builder("meshguard_ratelimit_store_breaker_trips_total", trips, AtomicLong::get)
                .description("Times the rate-limit store's circuit breaker opened")
                .register(registry);
    }

    private static Counter errorCounter(MeterRegistry registry, String kind) {
        return Counter.builder("meshguard_ratelimit_store_errors_total")
                .description(
                        "Rate-limit store calls that failed, by kind (timeout: redis.command_timeout fired; error: "
                                + "refused or disconnected)")
                .tag("kind", kind)
                .register(registry);
    }

    /** Runs after the breaker closes again (the limiter reconciles its outage counts then). */
    public void onClose(Runnable action) {
        this.onClose = action;
    }

    /**
     * Whether this decision may call the store now. Closed: yes. Open: no, until {@code openFor} has passed; then
     * exactly one caller becomes the half-open probe. Half-open: no (the probe is in flight).
     */
    public boolean tryCall() {
        State s = state.get();
        if (s == State.CLOSED) {
            storeCalls.incrementAndGet();
            return true;
        }
        if (s == State.OPEN
                && nanoTime.getAsLong() - openedAt.get() >= openForNanos
                && state.compareAndSet(State.OPEN, State.HALF_OPEN)) {
            transition(State.OPEN, State.HALF_OPEN, "probing the store");
            storeCalls.incrementAndGet();
            return true;
        }
        shortCircuited.incrementAndGet();
        return false;
    }

    public void onSuccess() {
        consecutiveFailures.set(0);
        State s = state.get();
        if (s != State.CLOSED && state.compareAndSet(s, State.CLOSED)) {
            transition(s, State.CLOSED, "store answers again");
            onClose.run();
        }
    }

    public void onFailure(Failure kind, String detail) {
        lastError = detail;
        switch (kind) {
            case TIMEOUT -> {
                timeouts.incrementAndGet();
                timeoutCounter.increment();
            }
            case ERROR -> {
                errors.incrementAndGet();
                errorCounter.increment();
            }
        }
        State s = state.get();
        if (s == State.HALF_OPEN) {
            open(State.HALF_OPEN, "probe failed: " + detail);
        } else if (s == State.CLOSED && consecutiveFailures.incrementAndGet() >= failureThreshold) {
            open(State.CLOSED, failureThreshold + " store calls failed in a row, last: " + detail);
        }
    }

    private void open(State from, String why) {
        openedAt.set(nanoTime.getAsLong());
        if (state.compareAndSet(from, State.OPEN)) {
            trips.incrementAndGet();
            consecutiveFailures.set(0);
            transition(from, State.OPEN, why);
        }
    }

    private void transition(State from, State to, String why) {
        var event = to == State.CLOSED ? LOG.atInfo() : LOG.atWarn();
        event.addKeyValue("event", "ratelimit_store_state")
                .addKeyValue("from", from.label())
                .addKeyValue("to", to.label())
                .addKeyValue("reason", why)
                .log("rate-limit store breaker {} -> {}: {}", from.label(), to.label(), why);
    }

    public State state() {
        return state.get();
    }

    /** How long, from now, until the next probe may run (zero unless open). */
    public Duration untilProbe() {
        if (state.get() != State.OPEN) {
            return Duration.ZERO;
        }
        return Duration.ofNanos(Math.max(0, openForNanos - (nanoTime.getAsLong() - openedAt.get())));
    }

    /** The breaker's accounting, for readiness, tests and the operator. */
    /**
     * @param storeCalls decisions (and probes) that called the store; each waited at most the command timeout
     * @param timeouts calls that got no answer within the command timeout
     * @param errors calls refused or failed at once (connection down)
     * @param shortCircuited decisions that did not call the store because the breaker was open or probing
     * @param trips times the breaker opened
     */
    public record Stats(
            State state,
            long storeCalls,
            long timeouts,
            long errors,
            long shortCircuited,
            long trips,
            String lastError) {}

    public Stats stats() {
        return new Stats(
                state.get(),
                storeCalls.get(),
                timeouts.get(),
                errors.get(),
                shortCircuited.get(),
                trips.get(),
                lastError);
    }

    int failureThreshold() {
        return failureThreshold;
    }
}
