package io.meshguard.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DlpAuthorityTest {

    @Test
    void backendName_roundTripsThroughTheAuthorityEnvoyGatewayBuilds() {
        String backend = RouteContract.DlpAuthority.backendName("cards", "edge");
        assertThat(backend).isEqualTo("dlp-profile.cards.edge");
        // Envoy Gateway v1.9.0: "<backendRef name>.<policy namespace>", ":<port>" when the ref has one
        assertThat(RouteContract.DlpAuthority.profileOf(backend + ".meshguard")).contains("cards");
        assertThat(RouteContract.DlpAuthority.profileOf(backend + ".meshguard:9002"))
                .contains("cards");
    }

    @Test
    void profileOf_anyOtherAuthority_namesNoProfile() {
        for (String other : new String[] {
            "meshguard-dlp.meshguard:9002", // the plain Service: choose by host, path, content type
            "meshguard-dlp",
            "outbound|9002||meshguard-dlp.meshguard.svc.cluster.local",
            "dlp-profile.cards.edge", // no namespace: not what Envoy Gateway sends
            "dlp-profile.cards.edge.meshguard.svc",
            "dlp-profile..edge.meshguard",
            "dlp-profile.Cards_x.edge.meshguard",
            "x.dlp-profile.cards.edge",
            ""
        }) {
            assertThat(RouteContract.DlpAuthority.profileOf(other)).as(other).isEmpty();
        }
        assertThat(RouteContract.DlpAuthority.profileOf(null)).isEmpty();
    }

    @Test
    void backendName_refusesWhatADnsLabelCannotCarry() {
        assertThat(RouteContract.DlpAuthority.carries("pci-strict")).isTrue();
        assertThat(RouteContract.DlpAuthority.carries("pci_strict")).isFalse();
        assertThat(RouteContract.DlpAuthority.carries("a.b")).isFalse();
        assertThatThrownBy(() -> RouteContract.DlpAuthority.backendName("pci_strict", "edge"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pci_strict");
    }
}
