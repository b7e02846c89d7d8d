package io.meshguard.contract.zone;

import java.time.Instant;
import java.util.Optional;

/**
 * One Envoy or proxyless client of a zone, as the zone's ADS server saw it.
 *
 * @param client what the node calls itself ({@code envoy}, {@code gRPC Java}, ...) and its version
 * @param revision the revision the node's ACKed versions belong to, empty when they match none the zone served
 * @param expected the revision the zone serves the node's group: a node whose {@code revision} differs has drifted
 * @param nack the last rejection's text, until the node accepts a later version
 */
public record NodeReport(
        String nodeId,
        String group,
        boolean connected,
        String client,
        Optional<Long> revision,
        Optional<Long> expected,
        Optional<String> nack,
        Instant lastSeen) {
    public NodeReport {
        revision = revision == null ? Optional.empty() : revision;
        expected = expected == null ? Optional.empty() : expected;
        nack = nack == null ? Optional.empty() : nack;
    }

    /** Whether the node runs something other than what its zone serves its group. */
    public boolean drifted() {
        return expected.isPresent() && !revision.equals(expected);
    }
}
