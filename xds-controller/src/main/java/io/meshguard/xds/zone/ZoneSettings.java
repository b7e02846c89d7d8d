package io.meshguard.xds.zone;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * A zone controller's settings.
 *
 * @param cluster the cluster id it was registered for
 * @param central where central's zone port listens ({@code host:port}); the zone dials out, nothing dials in
 * @param registrationToken the one-time token, needed only until the first credential is stored
 * @param stateDir where the last applied revisions and the credential are kept
 * @param echoInterval how often the zone echoes (no longer than central's)
 * @param plaintext no TLS to central: loopback tests and local development only
 */
public record ZoneSettings(String cluster, String central, Optional<String> registrationToken, Path stateDir,
        Duration echoInterval, Duration minBackoff, Duration maxBackoff, boolean plaintext) {

    /** For tests and {@code meshguard demo}: plaintext, the given echo interval, backoff from 100 ms to 2 s. */
    public static ZoneSettings loopback(String cluster, String central, Optional<String> token, Path stateDir,
            Duration echoInterval) {
        return new ZoneSettings(cluster, central, token, stateDir, echoInterval, Duration.ofMillis(100),
                Duration.ofSeconds(2), true);
    }
}
