package io.meshguard.testing;

import io.meshguard.runtime.SuppliedClock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A UTC clock the test moves by hand, so expiry, windows and grace periods are decided by the code's clock and never
 * by waiting. Servers read it from their own threads while the test moves it, hence the atomic reference.
 */
public final class MovableClock extends SuppliedClock {
    private final AtomicReference<Instant> now;

    public MovableClock(Instant start) {
        this(new AtomicReference<>(start));
    }

    private MovableClock(AtomicReference<Instant> now) {
        super(now::get);
        this.now = now;
    }

    /** Puts the clock at {@code at}, forwards or backwards. */
    public void set(Instant at) {
        now.set(at);
    }

    /** Moves the clock forward by {@code by}. */
    public void advance(Duration by) {
        now.updateAndGet(at -> at.plus(by));
    }
}
