package io.meshguard.xds.zone;

import java.time.Duration;

/**
 * How central follows its zones.
 *
 * @param echoInterval how often zones echo; a stream without an echo for three intervals is stale (zones must be
 *     configured with the same interval or a shorter one)
 * @param tick how often each stream checks its credential, its liveness and what its zone should serve
 */
public record ZoneHubSettings(Duration echoInterval, Duration tick) {
    public static final ZoneHubSettings DEFAULTS = new ZoneHubSettings(Duration.ofSeconds(5), Duration.ofMillis(500));
    /** Echoes a stream may miss before central marks it stale. */
    public static final int MISSED_ECHOES = 3;

    public Duration staleAfter() {
        return echoInterval.multipliedBy(MISSED_ECHOES);
    }
}
