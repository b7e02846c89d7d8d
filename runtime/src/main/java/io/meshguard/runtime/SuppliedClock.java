package io.meshguard.runtime;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.function.Supplier;

/**
 * A UTC clock whose time is told from outside: a replay runs the code at each recorded decision's time, a soak at its
 * emulated time, a test at the time it moved to. Code under it reads the clock as it reads the system's.
 */
public class SuppliedClock extends Clock {
    private final Supplier<Instant> now;

    public SuppliedClock(Supplier<Instant> now) {
        this.now = now;
    }

    @Override
    public final Instant instant() {
        return now.get();
    }

    @Override
    public final ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public final Clock withZone(ZoneId zone) {
        return this;
    }
}
