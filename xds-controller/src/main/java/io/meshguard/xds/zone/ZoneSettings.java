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
 * @param minBackoff the first redial's wait after a stream that central answered ended; doubled per silent attempt
 * @param maxBackoff the cap of that wait (each wait is jittered, so zones do not redial in lockstep)
 * @param plaintext no TLS to central: loopback tests and local development only
 * @param replica which of the cluster's zone replicas this is (its pod name): each has its own credential, stream and
 *     row in the fleet; stable across restarts (a StatefulSet's pod name), because its credential is bound to it
 * @param centralCaFile the PEM certificates that alone are trusted for central's TLS (a bank's private CA in front of
 *     central); empty: the JDK's trust store
 */
public record ZoneSettings(
        String cluster,
        String central,
        Optional<String> registrationToken,
        Path stateDir,
        Duration echoInterval,
        Duration minBackoff,
        Duration maxBackoff,
        boolean plaintext,
        String replica,
        Optional<Path> centralCaFile) {

    /** Without a CA file of its own: the JDK's trust store decides central's certificate. */
    public ZoneSettings(
            String cluster,
            String central,
            Optional<String> registrationToken,
            Path stateDir,
            Duration echoInterval,
            Duration minBackoff,
            Duration maxBackoff,
            boolean plaintext,
            String replica) {
        this(
                cluster,
                central,
                registrationToken,
                stateDir,
                echoInterval,
                minBackoff,
                maxBackoff,
                plaintext,
                replica,
                Optional.empty());
    }

    /** The replica name of a zone started by a test or {@code meshguard demo} without one. */
    public static final String LOOPBACK_REPLICA = "zone-0";

    /** The redial backoff every zone uses (docs/operate/run-zones.md "Central away"): 100 ms to 2 s, jittered. */
    public static final Duration MIN_BACKOFF = Duration.ofMillis(100);

    public static final Duration MAX_BACKOFF = Duration.ofSeconds(2);

    /** For tests and {@code meshguard demo}: plaintext, the given echo interval, the production backoff. */
    public static ZoneSettings loopback(
            String cluster, String central, Optional<String> token, Path stateDir, Duration echoInterval) {
        return loopback(cluster, LOOPBACK_REPLICA, central, token, stateDir, echoInterval);
    }

    /** {@link #loopback(String, String, Optional, Path, Duration)} for one of several replicas of a cluster. */
    public static ZoneSettings loopback(
            String cluster,
            String replica,
            String central,
            Optional<String> token,
            Path stateDir,
            Duration echoInterval) {
        return new ZoneSettings(
                cluster, central, token, stateDir, echoInterval, MIN_BACKOFF, MAX_BACKOFF, true, replica);
    }
}
