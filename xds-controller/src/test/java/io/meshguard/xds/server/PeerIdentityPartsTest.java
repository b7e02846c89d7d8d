package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.contract.peer.ClientText;
import io.meshguard.contract.peer.SpiffeIdPattern;
import io.meshguard.contract.peer.XfccHeader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pieces of ADS peer identity: XFCC parsing, SPIFFE ID patterns, grants, and client text in logs. */
class PeerIdentityPartsTest {

    @Test
    void xfcc_soleUri_isTheIdentity_withQuotedSubjectHoldingSeparators() {
        String id = XfccHeader.soleSpiffeId(List.of(
                "By=spiffe://td/ns/a/sa/b;Hash=ab;Subject=\"CN=x,O=\\\"y;z\\\"\";URI=spiffe://td/ns/gw/sa/gw;DNS=gw"));
        assertThat(id).isEqualTo("spiffe://td/ns/gw/sa/gw");
    }

    @Test
    void xfcc_keysAreCaseInsensitive() {
        assertThat(XfccHeader.soleSpiffeId(List.of("uri=spiffe://td/ns/a/sa/b")))
                .isEqualTo("spiffe://td/ns/a/sa/b");
    }

    @Test
    void xfcc_refusesEveryAmbiguousShape() {
        for (List<String> bad : List.of(
                List.<String>of(),
                List.of("URI=spiffe://td/a", "URI=spiffe://td/b"),
                List.of("URI=spiffe://td/a,URI=spiffe://td/b"),
                List.of("URI=spiffe://td/a;URI=spiffe://td/b"),
                List.of("URI=https://td/a"),
                List.of("Hash=ab"),
                List.of("URI=\"spiffe://td/a"),
                List.of("garbage"),
                List.of("URI=spiffe://td/ns/*/sa/b"),
                List.of("URI=spiffe://td/ns/a\u001b[31m"),
                List.of("URI=spiffe://TD/ns/a/sa/b"),
                List.of("URI=spiffe://td"))) {
            assertThatThrownBy(() -> XfccHeader.soleSpiffeId(bad))
                    .as("%s", bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void spiffePattern_starIsOneWholeSegment_andTheTrustDomainIsLiteral() {
        SpiffeIdPattern p = new SpiffeIdPattern("spiffe://cluster.local/ns/*/sa/grpc-client");
        assertThat(p.matches("spiffe://cluster.local/ns/shop/sa/grpc-client")).isTrue();
        assertThat(p.matches("spiffe://cluster.local/ns/a/b/sa/grpc-client")).isFalse();
        assertThat(p.matches("spiffe://evil.local/ns/shop/sa/grpc-client")).isFalse();
        assertThat(p.matches("spiffe://cluster.local/ns/shop/sa/grpc-client/extra"))
                .isFalse();
        assertThat(p.matches("spiffe://cluster.local/ns//sa/grpc-client")).isFalse();
        assertThatThrownBy(() -> new SpiffeIdPattern("spiffe://*/ns/a/sa/b"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SpiffeIdPattern("spiffe://td/ns/a*/sa/b"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SpiffeIdPattern("cluster.local/ns/a/sa/b"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void grant_parsesGroupEqualsSpiffeId_andRefusesOtherShapes() {
        GroupGrant g = GroupGrant.parse("edge=spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway");
        assertThat(g.group()).isEqualTo("edge");
        assertThatThrownBy(() -> GroupGrant.parse("spiffe://cluster.local/ns/a/sa/b"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AdsPeerPolicy.of("xfcc", List.of("mesh-proxy.local"), List.of()))
                .hasMessageContaining("IP addresses");
    }

    @Test
    void policy_refusesTheEmptyGroup_andUngrantedGroups() {
        AdsPeerPolicy p = AdsPeerPolicy.of("xfcc", List.of("127.0.0.6"), List.of("edge=spiffe://td/ns/m/sa/gw"));
        assertThat(p.allows(new PeerIdentity("spiffe://td/ns/m/sa/gw"), "edge")).isTrue();
        assertThat(p.allows(new PeerIdentity("spiffe://td/ns/m/sa/gw"), "payments"))
                .isFalse();
        assertThat(p.allows(new PeerIdentity("spiffe://td/ns/m/sa/gw"), "")).isFalse();
        assertThat(p.allows(AdsPeerPolicy.LOCAL_PEER, "edge")).isFalse();
    }

    @Test
    void localDevelopmentOnANetwork_isASecondOptIn_refusedInKubernetesAndWithXfcc() {
        AdsPeerPolicy compose = AdsPeerPolicy.of("local-development", List.of(), List.of(), true, java.util.Map.of());
        compose.checkBind(new java.net.InetSocketAddress("0.0.0.0", 0));
        assertThat(compose.describe()).contains("UNPROTECTED");
        assertThat(compose.identify(new java.net.InetSocketAddress("172.18.0.5", 40000), List.of())
                        .peer())
                .contains(AdsPeerPolicy.LOCAL_PEER);
        assertThat(AdsPeerPolicy.localDevelopment()
                        .identify(new java.net.InetSocketAddress("172.18.0.5", 40000), List.of())
                        .peer())
                .isEmpty();
        assertThatThrownBy(() -> AdsPeerPolicy.of(
                        "local-development",
                        List.of(),
                        List.of(),
                        true,
                        java.util.Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1")))
                .hasMessageContaining("Kubernetes");
        assertThatThrownBy(() -> AdsPeerPolicy.of("xfcc", List.of("127.0.0.6"), List.of(), true, java.util.Map.of()))
                .hasMessageContaining("local-development only");
    }

    @Test
    void clientText_escapesNewlinesAnsiAndBidi_andTruncates() {
        assertThat(ClientText.escape("a\nb\r\u001b[2Jc\u0085d\u2028e\u202ef\\"))
                .isEqualTo("a\\u000ab\\u000d\\u001b[2Jc\\u0085d\\u2028e\\u202ef\\\\");
        String longText = "x".repeat(ClientText.MAX_CHARS + 10);
        assertThat(ClientText.escape(longText))
                .startsWith("x".repeat(ClientText.MAX_CHARS))
                .endsWith("...(10 more chars)");
        // a surrogate pair is not cut in half
        assertThat(ClientText.escape("ab\uD83D\uDE00", 3)).isEqualTo("ab...(2 more chars)");
    }
}
