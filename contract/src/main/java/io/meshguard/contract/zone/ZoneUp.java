package io.meshguard.contract.zone;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A message from a zone to central: exactly one of its parts is present.
 *
 * @param version {@link ZoneWire#VERSION} of the sender
 * @param hello the first message of every stream: who the zone is and what it already holds
 * @param echo sent every echo interval: what the zone applied and what its nodes run
 */
public record ZoneUp(int version, Optional<Hello> hello, Optional<Echo> echo) {
    public ZoneUp {
        hello = hello == null ? Optional.empty() : hello;
        echo = echo == null ? Optional.empty() : echo;
    }

    public static ZoneUp of(Hello hello) {
        return new ZoneUp(ZoneWire.VERSION, Optional.of(hello), Optional.empty());
    }

    public static ZoneUp of(Echo echo) {
        return new ZoneUp(ZoneWire.VERSION, Optional.empty(), Optional.of(echo));
    }

    /**
     * Opens a stream. A zone presents its credential, or, the first time, its registration token (never both).
     *
     * @param held the revision the zone holds per gateway group: central sends only newer ones (resume)
     * @param replica which of the cluster's zone replicas this is (its pod name): a cluster may run several, each with
     *     its own credential lineage and stream; empty from a zone older than replicas (one per cluster)
     */
    public record Hello(
            String cluster,
            Optional<String> registrationToken,
            Optional<String> credential,
            Map<String, Long> held,
            String zoneVersion,
            String replica) {
        public Hello {
            Objects.requireNonNull(cluster, "cluster");
            registrationToken = registrationToken == null ? Optional.empty() : registrationToken;
            credential = credential == null ? Optional.empty() : credential;
            held = held == null ? Map.of() : Map.copyOf(held);
            zoneVersion = zoneVersion == null ? "" : zoneVersion;
            replica = replica == null ? "" : replica;
        }

        /** The hello of a zone that names no replica (a cluster's only one). */
        public Hello(
                String cluster,
                Optional<String> registrationToken,
                Optional<String> credential,
                Map<String, Long> held,
                String zoneVersion) {
            this(cluster, registrationToken, credential, held, zoneVersion, "");
        }
    }
}
