package io.meshguard.authz.mesh;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who is on the other end of the connection, as the proxy vouches for it: the mTLS peer's principal (parsed when it is
 * a valid SPIFFE ID), the peer's address, and the client address through trusted hops.
 *
 * @param principal the raw {@code source.principal} ("" without mTLS)
 * @param spiffe the principal parsed strictly; empty when absent or malformed
 */
public record Caller(String principal, Optional<SpiffeId> spiffe, String address, Optional<String> remoteAddress) {
    /**
     * Peers are few (one principal per workload), so parses are remembered; the table is bounded and starts over when
     * full, so a stream of odd principals costs parsing, never memory.
     */
    private static final int PARSED_MAX = 4096;

    private static final ConcurrentHashMap<String, Optional<SpiffeId>> PARSED = new ConcurrentHashMap<>();

    public static Caller of(String principal, String address, Optional<String> remoteAddress) {
        return new Caller(
                principal, principal.isEmpty() ? Optional.empty() : parsed(principal), address, remoteAddress);
    }

    private static Optional<SpiffeId> parsed(String principal) {
        Optional<SpiffeId> id = PARSED.get(principal);
        if (id == null) {
            if (PARSED.size() >= PARSED_MAX) {
                PARSED.clear();
            }
            id = SpiffeId.parse(principal);
            PARSED.put(principal, id);
        }
        return id;
    }
}
