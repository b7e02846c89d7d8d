package io.meshguard.extauthz.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.request.CanonicalHost;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Every spelling of a host reaches the rule its canonical form reaches; what has no one spelling is refused. */
class CanonicalHostTest {

    @Test
    void spellingsOfOneHost_areOneHost() {
        for (String spelling : List.of(
                "admin.bank.example",
                "admin.bank.example.",
                "ADMIN.Bank.Example",
                "admin.bank.example:443",
                "Admin.Bank.Example.:8443",
                "admin%2ebank.example",
                "%61dmin.bank.example",
                "admin\u3002bank\u3002example")) {
            CanonicalHost h = CanonicalHost.parse(spelling);
            assertThat(h.problem()).as(spelling).isEmpty();
            assertThat(h.host()).as(spelling).isEqualTo("admin.bank.example");
        }
        assertThat(CanonicalHost.parse("bücher.example").host()).isEqualTo("xn--bcher-kva.example");
        assertThat(CanonicalHost.parse("b%C3%BCcher.example").host()).isEqualTo("xn--bcher-kva.example");
        assertThat(CanonicalHost.parse("[2001:DB8::1]:443").host()).isEqualTo("[2001:db8::1]");
    }

    /**
     * Also the published class "control characters in hosts reaching audit rows and logs" (Envoy GHSA-p222-xhp9-39rc /
     * CVE-2024-45808; Envoy Gateway GHSA-mf24-chxh-hmvj / CVE-2025-25294): such a host is refused, never recorded.
     */
    @Test
    void hostsWithoutOneSpelling_orWithControlCharacters_areRefused() {
        for (String bad : List.of(
                "admin.bank.example:x",
                "admin%2",
                "admin%zz.bank",
                "admin..bank.example",
                ".admin",
                "admin.bank.example..",
                "admin bank",
                "admin/bank",
                "%ff.example",
                "[::1",
                "a@b.example",
                "admin\r\nx-forged: 1.bank.example",
                "admin.bank.example\n",
                "admin\u0000.bank.example",
                "admin.bank\t.example",
                "admin%0d%0a.bank.example",
                "admin%00.bank.example",
                "admin.bank.example\u007f")) {
            assertThat(CanonicalHost.parse(bad).problem()).as(bad).isPresent();
        }
    }

    @Test
    void hostPinnedDenyRule_holdsForEverySpelling() {
        AuthzPipeline p = Fixtures.pipeline(Fixtures.parse("""
                deny:
                  - name: no-admin
                    match: {hosts: [admin.bank.example]}
                routes:
                  - {name: open, match: {path_prefix: /}, auth: none, header_contract: exempt}
                """), new SimpleMeterRegistry(), Optional.empty());
        try (p) {
            for (String spelling : List.of(
                    "admin.bank.example",
                    "admin.bank.example.",
                    "ADMIN.BANK.EXAMPLE",
                    "admin.bank.example.:443",
                    "admin%2Ebank.example")) {
                Decision d = p.decide(HttpRequestView.of(CheckRequests.of(
                        "GET", spelling, "/x", Map.of(), Map.of(), CheckRequests.Encoding.HEADERS, "", "10.0.0.1")));
                assertThat(d.reason()).as(spelling).isEqualTo(Reason.DENIED_BY_RULE);
            }
            Decision odd = p.decide(HttpRequestView.of(CheckRequests.of(
                    "GET",
                    "admin%zz.bank.example",
                    "/x",
                    Map.of(),
                    Map.of(),
                    CheckRequests.Encoding.HEADERS,
                    "",
                    "10.0.0.1")));
            assertThat(odd.reason()).isEqualTo(Reason.INVALID_PATH);
            assertThat(odd.body()).contains("invalid_host");
            assertThat(p.decide(HttpRequestView.of(CheckRequests.of(
                                    "GET",
                                    "www.bank.example",
                                    "/x",
                                    Map.of(),
                                    Map.of(),
                                    CheckRequests.Encoding.HEADERS,
                                    "",
                                    "10.0.0.1")))
                            .allowed())
                    .isTrue();
        }
    }
}
