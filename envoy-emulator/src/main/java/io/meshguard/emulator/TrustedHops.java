package io.meshguard.emulator;

import com.google.common.net.InetAddresses;
import java.util.Optional;

/**
 * Envoy's choice of the client address through {@code xff_num_trusted_hops} ({@code envoyproxy/envoy
 * source/common/http/utility.cc} {@code getLastAddressFromXFF}, called from {@code conn_manager_utility.cc}): the
 * entry {@code hops} places from the right of the request's {@code x-forwarded-for}, before Envoy appends its peer;
 * none when the chain is shorter or that entry is not a bare IP literal (Envoy then keeps the socket peer).
 */
final class TrustedHops {
    private TrustedHops() {}

    static Optional<String> client(Optional<String> xff, int hops) {
        if (hops <= 0 || xff.isEmpty()) {
            return Optional.empty();
        }
        String[] entries = xff.get().split(",", -1);
        if (entries.length < hops) {
            return Optional.empty();
        }
        String entry = entries[entries.length - hops].strip();
        return InetAddresses.isInetAddress(entry) ? Optional.of(entry) : Optional.empty();
    }
}
