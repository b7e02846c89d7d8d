package io.meshguard.extauthz.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.decision.ClientAddress;
import io.meshguard.authz.policy.MeshSettings;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.EdgeEnvoy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Who the client is, per kind of proxy: at the edge Envoy's verdict ({@code x-envoy-external-address}, modelled by
 * {@link EdgeEnvoy} after {@code conn_manager_utility.cc}), at a sidecar the mTLS peer, unless the peer is a trusted
 * gateway handing on its own verdict.
 */
class ClientAddressTest {
    private static final String GATEWAY = "spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway";
    private static final MeshSettings MESH =
            new MeshSettings(Set.of("cluster.local/ns/meshguard/sa/meshguard-gateway"), 0);
    private static final String LB = "10.0.0.5";

    /** A Check from the edge gateway whose Envoy trusts {@code hops} proxies, for what the client sent. */
    private static HttpRequestView edge(int hops, String peer, CheckRequests.Encoding encoding, String... sent) {
        EdgeEnvoy envoy = new EdgeEnvoy(hops);
        return HttpRequestView.of(CheckRequests.of(
                "POST",
                "h",
                "/login",
                envoy.headers(Fixtures.headers(sent), peer),
                envoy.contextExtensions(Map.of(RouteContract.AuthzContext.AUTHZ_PROFILE, "login")),
                encoding,
                "",
                peer));
    }

    private static HttpRequestView sidecar(String principal, String peer, String... sent) {
        return HttpRequestView.of(CheckRequests.of(
                "GET",
                "h",
                "/v1/x",
                Fixtures.headers(sent),
                Map.of(),
                CheckRequests.Encoding.HEADER_MAP,
                principal,
                peer));
    }

    @Test
    void edge_behindOneLoadBalancer_theClientIsTheAddressTheLbWrote_notTheLb() {
        // the LB appended the client it saw; the client also forged entries on the left
        HttpRequestView v = edge(1, LB, CheckRequests.Encoding.HEADERS, "x-forwarded-for", "1.1.1.1, 203.0.113.7");
        assertThat(ClientAddress.of(v, MESH)).contains("203.0.113.7");
        // the Check's XFF ends with the appended peer: counting it again would have given the LB
        assertThat(v.all("x-forwarded-for")).containsExactly("1.1.1.1, 203.0.113.7,10.0.0.5");
    }

    @Test
    void edge_withoutTrustedHops_theClientIsThePeer_whateverItWroteInXff() {
        assertThat(ClientAddress.of(
                        edge(0, "198.51.100.9", CheckRequests.Encoding.HEADERS, "x-forwarded-for", "203.0.113.7"),
                        MESH))
                .contains("198.51.100.9");
    }

    /** Published class "client-sent x-envoy-* headers" (Envoy GHSA-ffhv-fvxq-r6mf / CVE-2024-45806). */
    @Test
    void clientSentEnvoyExternalAddress_atTheEdge_isOverwrittenByEnvoy() {
        assertThat(ClientAddress.of(
                        edge(
                                1,
                                LB,
                                CheckRequests.Encoding.HEADER_MAP,
                                "x-forwarded-for",
                                "203.0.113.7",
                                "x-envoy-external-address",
                                "6.6.6.6"),
                        MESH))
                .contains("203.0.113.7");
    }

    @Test
    void edge_repeatedXffLines_areOneChain_andIpv6IsAnAddress() {
        assertThat(ClientAddress.of(
                        edge(
                                1,
                                LB,
                                CheckRequests.Encoding.HEADER_MAP,
                                "x-forwarded-for",
                                "6.6.6.6",
                                "x-forwarded-for",
                                " 2001:db8::1 "),
                        MESH))
                .contains("2001:db8::1");
        assertThat(ClientAddress.of(
                        edge(
                                2,
                                LB,
                                CheckRequests.Encoding.HEADER_MAP,
                                "x-forwarded-for",
                                "6.6.6.6, 203.0.113.9",
                                "x-forwarded-for",
                                "198.51.100.7"),
                        MESH))
                .contains("203.0.113.9");
    }

    @Test
    void edge_garbageOrPortsOrBracketsOrShortChainAtTheTrustedPosition_isThePeer() {
        for (String xff : List.of("not-an-ip", "203.0.113.7:443", "[2001:db8::1]", "", "1.2.3.4, ")) {
            assertThat(ClientAddress.of(edge(1, LB, CheckRequests.Encoding.HEADERS, "x-forwarded-for", xff), MESH))
                    .as(xff)
                    .contains(LB);
        }
        assertThat(ClientAddress.of(
                        edge(2, LB, CheckRequests.Encoding.HEADERS, "x-forwarded-for", "203.0.113.7"), MESH))
                .contains(LB);
    }

    @Test
    void edge_loopbackPeer_isInternal_andAClientSentExternalAddressIsNotBelieved() {
        assertThat(ClientAddress.of(
                        edge(0, "127.0.0.1", CheckRequests.Encoding.HEADERS, "x-envoy-external-address", "6.6.6.6"),
                        MESH))
                .contains("127.0.0.1");
    }

    /** Published class "client-sent x-envoy-* headers" at the sidecar hop (GHSA-ffhv-fvxq-r6mf / CVE-2024-45806). */
    @Test
    void clientSentEnvoyHeaders_atTheSidecar_xffExternalAddressAndVerdictIgnored_thePeerIsTheClient() {
        HttpRequestView v = sidecar(
                "spiffe://cluster.local/ns/shop/sa/web",
                "10.8.0.12",
                "x-forwarded-for",
                "203.0.113.7",
                "x-envoy-external-address",
                "203.0.113.7",
                ClientAddress.HEADER,
                "203.0.113.7");
        assertThat(ClientAddress.of(v, MESH)).contains("10.8.0.12");
    }

    @Test
    void sidecar_fromTheTrustedGateway_takesTheGatewaysVerdict() {
        assertThat(ClientAddress.of(
                        sidecar(
                                GATEWAY,
                                "10.8.0.2",
                                "x-forwarded-for",
                                "1.1.1.1, 203.0.113.7, 10.0.0.5",
                                ClientAddress.HEADER,
                                "203.0.113.7"),
                        MESH))
                .contains("203.0.113.7");
    }

    @Test
    void sidecar_fromTheTrustedGateway_withoutOneClearVerdict_isTheGatewaysAddress() {
        assertThat(ClientAddress.of(sidecar(GATEWAY, "10.8.0.2"), MESH)).contains("10.8.0.2");
        assertThat(ClientAddress.of(
                        sidecar(
                                GATEWAY,
                                "10.8.0.2",
                                ClientAddress.HEADER,
                                "1.1.1.1",
                                ClientAddress.HEADER,
                                "203.0.113.7"),
                        MESH))
                .contains("10.8.0.2");
        assertThat(ClientAddress.of(sidecar(GATEWAY, "10.8.0.2", ClientAddress.HEADER, "evil"), MESH))
                .contains("10.8.0.2");
    }
}
