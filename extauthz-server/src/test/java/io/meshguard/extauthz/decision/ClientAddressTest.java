package io.meshguard.extauthz.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.tools.CheckRequests;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which address an anonymous caller is limited by: counted from the right of x-forwarded-for, as Envoy does. */
class ClientAddressTest {
    private static HttpRequestView view(CheckRequests.Encoding encoding, String... headers) {
        return HttpRequestView.of(CheckRequests.of("POST", "h", "/login",
                Fixtures.headers(headers), Map.of(), encoding, "", "10.0.0.5"));
    }

    @Test
    void noTrustedHops_usesThePeer_ignoringWhatTheClientWrote() {
        assertThat(ClientAddress.of(view(CheckRequests.Encoding.HEADERS, "x-forwarded-for", "1.2.3.4"), 0)).isEqualTo("10.0.0.5");
    }

    @Test
    void trustedHops_countFromTheRight() {
        HttpRequestView v = view(CheckRequests.Encoding.HEADERS, "x-forwarded-for", "6.6.6.6, 203.0.113.9, 198.51.100.7");
        assertThat(ClientAddress.of(v, 1)).isEqualTo("198.51.100.7");
        assertThat(ClientAddress.of(v, 2)).isEqualTo("203.0.113.9");
        assertThat(ClientAddress.of(v, 3)).isEqualTo("6.6.6.6");
    }

    @Test
    void repeatedHeaderLines_areOneChainInOrder() {
        HttpRequestView v = view(CheckRequests.Encoding.HEADER_MAP, "x-forwarded-for", "6.6.6.6, 203.0.113.9",
                "x-forwarded-for", "2001:db8::1");
        assertThat(ClientAddress.of(v, 1)).isEqualTo("2001:db8::1");
        assertThat(ClientAddress.of(v, 2)).isEqualTo("203.0.113.9");
    }

    @Test
    void aChainShorterThanTheTrustedHops_orGarbage_fallsBackToThePeer() {
        assertThat(ClientAddress.of(view(CheckRequests.Encoding.HEADERS, "x-forwarded-for", "203.0.113.9"), 2)).isEqualTo("10.0.0.5");
        assertThat(ClientAddress.of(view(CheckRequests.Encoding.HEADERS), 1)).isEqualTo("10.0.0.5");
        assertThat(ClientAddress.of(view(CheckRequests.Encoding.HEADERS, "x-forwarded-for", "1.2.3.4, not-an-ip"), 1))
                .isEqualTo("10.0.0.5");
        assertThat(ClientAddress.of(view(CheckRequests.Encoding.HEADERS, "x-forwarded-for", "1.2.3.4, "), 1)).isEqualTo("10.0.0.5");
    }
}
