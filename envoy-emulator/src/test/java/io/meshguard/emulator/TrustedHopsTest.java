package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The emulator picks the client through trusted hops as Envoy's getLastAddressFromXFF does, before its append. */
class TrustedHopsTest {
    @Test
    void oneTrustedHop_isTheEntryTheLoadBalancerWrote_notWhatTheClientPrepended() {
        assertThat(TrustedHops.client(Optional.of("6.6.6.6, 203.0.113.7"), 1)).contains("203.0.113.7");
        assertThat(TrustedHops.client(Optional.of("6.6.6.6, 203.0.113.7, 10.0.0.2"), 2))
                .contains("203.0.113.7");
    }

    @Test
    void noHops_shortChains_andNonLiterals_keepTheSocketPeer() {
        assertThat(TrustedHops.client(Optional.of("203.0.113.7"), 0)).isEmpty();
        assertThat(TrustedHops.client(Optional.of("203.0.113.7"), 2)).isEmpty();
        assertThat(TrustedHops.client(Optional.of("203.0.113.7:80"), 1)).isEmpty();
        assertThat(TrustedHops.client(Optional.of("[2001:db8::1]"), 1)).isEmpty();
        assertThat(TrustedHops.client(Optional.empty(), 1)).isEmpty();
    }
}
