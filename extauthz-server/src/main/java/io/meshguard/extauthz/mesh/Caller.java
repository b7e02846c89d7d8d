package io.meshguard.extauthz.mesh;

import java.util.Optional;

/**
 * Who is on the other end of the connection, as the proxy vouches for it: the mTLS peer's principal (parsed when it is
 * a valid SPIFFE ID), the peer's address, and the client address through trusted hops.
 *
 * @param principal the raw {@code source.principal} ("" without mTLS)
 * @param spiffe the principal parsed strictly; empty when absent or malformed
 */
public record Caller(String principal, Optional<SpiffeId> spiffe, String address, Optional<String> remoteAddress) {
    public static Caller of(String principal, String address, Optional<String> remoteAddress) {
        return new Caller(principal, principal.isEmpty() ? Optional.empty() : SpiffeId.parse(principal), address, remoteAddress);
    }
}
