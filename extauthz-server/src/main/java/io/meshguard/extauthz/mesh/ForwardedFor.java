package io.meshguard.extauthz.mesh;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The client's address as seen through trusted proxy hops. The chain is the {@code x-forwarded-for} entries followed
 * by the connection's own peer address ({@code attributes.source.address}); with {@code N} trusted hops the client is
 * the entry {@code N} places from the right (0: the peer itself, XFF ignored). Entries left of that are written by
 * whoever called the first trusted proxy and are never believed. Same model as Envoy's {@code xff_num_trusted_hops}
 * ({@code envoyproxy/envoy: source/common/http/utility.cc}, {@code getLastAddressFromXFF}) and Istio's
 * {@code numTrustedProxies}. A chain shorter than that means no proxy stood in between, and the peer's own address is
 * the client's (as in Envoy, which then keeps the connection's address). An entry that is not an IP literal gives no
 * address: route rules on it do not match, deny rules on it do.
 */
public final class ForwardedFor {
    private ForwardedFor() {}

    public static Optional<String> clientAddress(List<String> xffHeaderValues, String peerAddress, int trustedHops) {
        if (trustedHops == 0) {
            return peerAddress.isEmpty() ? Optional.empty() : Optional.of(peerAddress);
        }
        List<String> chain = new ArrayList<>();
        for (String value : xffHeaderValues) {
            for (String entry : value.split(",", -1)) {
                chain.add(entry.trim());
            }
        }
        chain.add(peerAddress);
        int index = chain.size() - 1 - trustedHops;
        if (index < 0) {
            return peerAddress.isEmpty() ? Optional.empty() : Optional.of(peerAddress);
        }
        String client = chain.get(index);
        return IpBlock.address(client).isPresent() ? Optional.of(client) : Optional.empty();
    }
}
