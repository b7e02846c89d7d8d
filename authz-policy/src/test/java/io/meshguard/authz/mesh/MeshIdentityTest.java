package io.meshguard.authz.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MeshIdentityTest {
    @Test
    void spiffeId_istioShape_yieldsTrustDomainNamespaceAndServiceAccount() {
        SpiffeId id =
                SpiffeId.parse("spiffe://cluster.local/ns/payments/sa/payouts").orElseThrow();
        assertThat(id.id()).isEqualTo("cluster.local/ns/payments/sa/payouts");
        assertThat(id.trustDomain()).isEqualTo("cluster.local");
        assertThat(id.namespace()).contains("payments");
        assertThat(id.serviceAccount()).contains("payouts");
        assertThat(id.uri()).isEqualTo("spiffe://cluster.local/ns/payments/sa/payouts");
    }

    @Test
    void spiffeId_otherPathShape_isValidButHasNoNamespace() {
        SpiffeId id = SpiffeId.parse("spiffe://example.org/workload/billing").orElseThrow();
        assertThat(id.namespace()).isEmpty();
        assertThat(id.serviceAccount()).isEmpty();
        assertThat(SpiffeId.parse("spiffe://td/ns/a/sa/b/extra").orElseThrow().namespace())
                .isEmpty();
    }

    @Test
    void spiffeId_everyMalformedSpelling_isRefused() {
        List<String> malformed = List.of(
                "",
                "cluster.local/ns/a/sa/b",
                "SPIFFE://cluster.local/ns/a/sa/b",
                "https://cluster.local/ns/a/sa/b",
                "spiffe://",
                "spiffe://cluster.local",
                "spiffe://cluster.local/",
                "spiffe:///ns/a/sa/b",
                "spiffe://Cluster.Local/ns/a/sa/b",
                "spiffe://cluster.local:443/ns/a/sa/b",
                "spiffe://user@cluster.local/ns/a",
                "spiffe://cluster.local/ns/a/../b/sa/c",
                "spiffe://cluster.local/ns/./a/sa/b",
                "spiffe://cluster.local/ns//a/sa/b",
                "spiffe://cluster.local/ns/a/sa/b/",
                "spiffe://cluster.local/ns/a%2Fb/sa/c",
                "spiffe://cluster.local/ns/a/sa/b?x=1",
                "spiffe://cluster.local/ns/a/sa/b#f",
                "spiffe://cluster.local/ns/a b/sa/c",
                "spiffe://cluster.local/ns/a\u0000/sa/b",
                "spiffe://cluster.local/ns/\u00e4/sa/b",
                "spiffe://" + "a".repeat(256) + "/x",
                "spiffe://td/" + "x/".repeat(1100) + "y");
        for (String m : malformed) {
            assertThat(SpiffeId.parse(m)).as(m).isEmpty();
        }
    }

    @Test
    void namePattern_istioForms() {
        assertThat(NamePattern.parse("cluster.local/ns/a/sa/b").orElseThrow().matches("cluster.local/ns/a/sa/b"))
                .isTrue();
        assertThat(NamePattern.parse("cluster.local/ns/a/*").orElseThrow().matches("cluster.local/ns/a/sa/x"))
                .isTrue();
        assertThat(NamePattern.parse("cluster.local/ns/a/*").orElseThrow().matches("cluster.local/ns/ab/sa/x"))
                .isFalse();
        assertThat(NamePattern.parse("*/sa/payouts").orElseThrow().matches("td/ns/x/sa/payouts"))
                .isTrue();
        assertThat(NamePattern.parse("*").orElseThrow().matches("anything")).isTrue();
        assertThat(NamePattern.parse("*").orElseThrow().matches("")).isFalse();
        assertThat(NamePattern.parse("a*b")).isEmpty();
        assertThat(NamePattern.parse("**")).isEmpty();
        assertThat(NamePattern.parse("*a*")).isEmpty();
        assertThat(NamePattern.parse("")).isEmpty();
    }

    @Test
    void ipBlock_v4AndV6_prefixesAndSingleAddresses() {
        IpBlock v4 = IpBlock.parse("10.1.0.0/16").orElseThrow();
        assertThat(v4.contains(IpBlock.address("10.1.255.3").orElseThrow())).isTrue();
        assertThat(v4.contains(IpBlock.address("10.2.0.1").orElseThrow())).isFalse();
        assertThat(IpBlock.parse("192.168.1.7")
                        .orElseThrow()
                        .contains(IpBlock.address("192.168.1.7").orElseThrow()))
                .isTrue();
        assertThat(IpBlock.parse("10.0.0.0/9")
                        .orElseThrow()
                        .contains(IpBlock.address("10.127.0.1").orElseThrow()))
                .isTrue();
        assertThat(IpBlock.parse("10.0.0.0/9")
                        .orElseThrow()
                        .contains(IpBlock.address("10.128.0.1").orElseThrow()))
                .isFalse();
        IpBlock v6 = IpBlock.parse("2001:db8::/32").orElseThrow();
        assertThat(v6.contains(IpBlock.address("2001:db8:1::5").orElseThrow())).isTrue();
        assertThat(v6.contains(IpBlock.address("[2001:db8::1]").orElseThrow())).isTrue();
        assertThat(v6.contains(IpBlock.address("10.1.0.1").orElseThrow())).isFalse();
        // an IPv4-mapped IPv6 address is the IPv4 address
        assertThat(v4.contains(IpBlock.address("::ffff:10.1.2.3").orElseThrow()))
                .isTrue();
    }

    @Test
    void ipBlock_neverResolvesNames_andRefusesMalformedBlocks() {
        for (String bad : List.of(
                "localhost",
                "example.com",
                "10.0.0.0/33",
                "10.0.0.0/",
                "10.0.0/8",
                "10.0.0.0/-1",
                "::/129",
                "fe80::1%eth0",
                "10.0.0.256",
                "1.2.3.4/8/8",
                "")) {
            assertThat(IpBlock.parse(bad)).as(bad).isEmpty();
        }
    }

    private static SourceRule rule(
            List<NamePattern> principals,
            List<NamePattern> notPrincipals,
            List<NamePattern> namespaces,
            List<NamePattern> notNamespaces,
            List<String> sas,
            List<IpBlock> ips,
            List<IpBlock> notRemote) {
        return new SourceRule(
                principals,
                notPrincipals,
                List.of(),
                List.of(),
                namespaces,
                notNamespaces,
                sas,
                List.of(),
                ips,
                List.of(),
                List.of(),
                notRemote,
                1);
    }

    private static NamePattern p(String s) {
        return NamePattern.parse(s).orElseThrow();
    }

    private static Caller caller(String principal, String address, String remote) {
        return Caller.of(principal, address, Optional.ofNullable(remote));
    }

    @Test
    void sourceRule_fieldsAreAnded_entriesOred_notFormsExclude() {
        SourceRule r = rule(
                List.of(),
                List.of(),
                List.of(p("payments"), p("risk")),
                List.of(),
                List.of(),
                List.of(IpBlock.parse("10.0.0.0/8").orElseThrow()),
                List.of());
        assertThat(r.matches(caller("spiffe://cluster.local/ns/payments/sa/a", "10.1.1.1", null), false))
                .isTrue();
        assertThat(r.matches(caller("spiffe://cluster.local/ns/risk/sa/a", "10.1.1.1", null), false))
                .isTrue();
        assertThat(r.matches(caller("spiffe://cluster.local/ns/payments/sa/a", "192.168.1.1", null), false))
                .isFalse();
        assertThat(r.matches(caller("spiffe://cluster.local/ns/shop/sa/a", "10.1.1.1", null), false))
                .isFalse();
        SourceRule not = rule(
                List.of(p("cluster.local/*")),
                List.of(p("cluster.local/ns/payments/sa/batch")),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of());
        assertThat(not.matches(caller("spiffe://cluster.local/ns/payments/sa/api", "", null), false))
                .isTrue();
        assertThat(not.matches(caller("spiffe://cluster.local/ns/payments/sa/batch", "", null), false))
                .isFalse();
        assertThat(not.matches(caller("spiffe://other.td/ns/payments/sa/api", "", null), false))
                .isFalse();
    }

    @Test
    void sourceRule_unknownIdentity_neverHelpsTheCaller() {
        SourceRule notNs =
                rule(List.of(), List.of(), List.of(), List.of(p("trusted")), List.of(), List.of(), List.of());
        Caller plaintext = caller("", "10.0.0.1", null);
        Caller malformed = caller("spiffe://cluster.local/ns/x/../trusted/sa/a", "10.0.0.1", null);
        Caller dnsSan = caller("payments.bank.example", "10.0.0.1", null);
        for (Caller c : List.of(plaintext, malformed, dnsSan)) {
            // on a route: a not_ field needs a known identity to hold
            assertThat(notNs.matches(c, false)).as(c.principal()).isFalse();
            // in a deny rule: "deny unless namespace trusted" denies the caller who cannot prove it
            assertThat(notNs.matches(c, true)).as(c.principal()).isTrue();
        }
        SourceRule ns =
                rule(List.of(), List.of(), List.of(p("quarantine")), List.of(), List.of(), List.of(), List.of());
        assertThat(ns.matches(plaintext, true)).isFalse();
        SourceRule sa = rule(List.of(), List.of(), List.of(), List.of(), List.of("payments/api"), List.of(), List.of());
        assertThat(sa.matches(caller("spiffe://td/workload/payments/api", "", null), false))
                .isFalse();
        assertThat(sa.matches(caller("spiffe://td/ns/payments/sa/api", "", null), false))
                .isTrue();
        SourceRule notRemote = rule(
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(IpBlock.parse("10.0.0.0/8").orElseThrow()));
        assertThat(notRemote.matches(caller("", "10.0.0.1", null), false)).isFalse();
        assertThat(notRemote.matches(caller("", "10.0.0.1", null), true)).isTrue();
        assertThat(notRemote.matches(caller("", "10.0.0.1", "203.0.113.1"), false))
                .isTrue();
    }
    /**
     * Published class "principals and SPIFFE ids with {@code .}, {@code *}, {@code +}, NUL, CR/LF": Istio embedded
     * principal and namespace patterns in a regex unescaped, so {@code .} matched any character (istio/istio#59992,
     * fixed in 1.29.3/1.28.7); Envoy's SAN matcher cut names at an embedded NUL (GHSA-rwjg-c3h2-f57p /
     * CVE-2025-66220). Here a pattern is a literal with at most one leading or trailing star, and a principal with a
     * control byte is no identity at all: it matches no allow and is caught by every deny that needs one.
     */
    @Test
    void principalPatterns_regexMetacharactersAreLiteral_andControlBytesAreNoIdentity() {
        SourceRule dotted = rule(
                List.of(p("cluster.local/ns/pay.ments/sa/api")),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of());
        assertThat(dotted.matches(caller("spiffe://cluster.local/ns/pay.ments/sa/api", "", null), false))
                .isTrue();
        assertThat(dotted.matches(caller("spiffe://cluster.local/ns/payXments/sa/api", "", null), false))
                .isFalse();
        assertThat(dotted.matches(caller("spiffe://clusterXlocal/ns/pay.ments/sa/api", "", null), false))
                .isFalse();
        SourceRule suffix =
                rule(List.of(p("*/sa/pay+outs")), List.of(), List.of(), List.of(), List.of(), List.of(), List.of());
        // '+' is outside a SPIFFE path's characters: such a principal is no identity, and the '+' no quantifier
        assertThat(caller("spiffe://td/ns/a/sa/pay+outs", "", null).spiffe()).isEmpty();
        assertThat(suffix.matches(caller("spiffe://td/ns/a/sa/pay+outs", "", null), false))
                .isFalse();
        assertThat(suffix.matches(caller("spiffe://td/ns/a/sa/payyyouts", "", null), false))
                .isFalse();
        assertThat(suffix.matches(caller("spiffe://td/ns/a/sa/paouts", "", null), false))
                .isFalse();
        SourceRule ns = rule(List.of(), List.of(), List.of(p("a.b")), List.of(), List.of(), List.of(), List.of());
        assertThat(ns.matches(caller("spiffe://td/ns/aXb/sa/x", "", null), false))
                .isFalse();
        // a star inside a pattern is refused at load, never read as a wildcard or a literal
        assertThat(NamePattern.parse("cluster.local/ns/*/sa/api")).isEmpty();
        assertThat(NamePattern.parse("cluster.local/ns/a.*b")).isEmpty();

        SourceRule allowPayments = rule(
                List.of(p("cluster.local/ns/payments/*")),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of());
        SourceRule denyUnlessPayments = rule(
                List.of(),
                List.of(p("cluster.local/ns/payments/*")),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of());
        for (String control : List.of("\u0000", "\r", "\n", "\r\n", "\t", "\u007f")) {
            for (String principal : List.of(
                    "spiffe://cluster.local/ns/payments/sa/api" + control,
                    "spiffe://cluster.local/ns/payments/sa/api" + control + "x",
                    "spiffe://cluster.local/ns/payments" + control + "/sa/api")) {
                Caller c = caller(principal, "", null);
                assertThat(c.spiffe())
                        .as("%s", principal.chars().boxed().toList())
                        .isEmpty();
                assertThat(allowPayments.matches(c, false)).isFalse();
                assertThat(denyUnlessPayments.matches(c, true)).isTrue();
            }
        }
    }
}
