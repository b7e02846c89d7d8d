package io.meshguard.authz.ratelimit;

/**
 * The generic cell rate algorithm in integer microseconds, the same arithmetic as the store script ({@code GcraScript}
 * in extauthz-server): a limit is a "theoretical arrival time" (TAT); a request costs one emission interval; it fits
 * when the TAT it would leave is at most one bucket ({@code burst} intervals) ahead of now. A refused request changes
 * nothing, so rejected requests are never counted. Pure, so the local limiter and a plan change's replay
 * ({@code PlanReplay}) step the same arithmetic.
 */
public final class Gcra {
    private Gcra() {}

    /**
     * @param allowed whether one more request fits
     * @param newTat the TAT to store when the whole request is admitted
     * @param retryAfter when refused: microseconds until it would fit
     * @param available requests that fit now, before this one
     * @param reset microseconds until the bucket is full again (after this request when it fits)
     */
    public record Step(boolean allowed, long newTat, long retryAfter, long available, long reset) {
        /** Requests that still fit once this one is admitted. */
        public long remaining() {
            return Math.max(0, available - 1);
        }
    }

    public static Step step(long tat, long now, long emission, long capacity) {
        long base = Math.max(tat, now);
        long newTat = base + emission;
        long ahead = newTat - now;
        long available = Math.max(0, (capacity - (base - now)) / emission);
        if (ahead > capacity) {
            return new Step(false, tat, ahead - capacity, available, base - now);
        }
        return new Step(true, newTat, 0, available, ahead);
    }
}
