package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.istio.api.security.v1.PeerAuthentication;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Service;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.server.PeerIdentity;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the controller's ADS identity check needs from the deployment: the sidecar writes XFCC itself
 * ({@code SANITIZE_SET}), only mTLS reaches the pod, the ADS port is HTTP-aware (a TCP port carries no headers), and
 * the gateway's own SPIFFE ID is granted the group its bootstrap names.
 */
class AdsPeerIdentityManifestTest {
    private final Manifests manifests = Manifests.sources();

    private Container xds() {
        return manifests
                .workload("meshguard-xds")
                .template()
                .getSpec()
                .getContainers()
                .getFirst();
    }

    private String env(String name) {
        return xds().getEnv().stream()
                .filter(e -> e.getName().equals(name))
                .map(EnvVar::getValue)
                .findFirst()
                .orElseThrow(() -> new AssertionError("meshguard-xds does not set " + name));
    }

    @Test
    void controllerSidecar_setsXfccItself_withSanitizeSet() throws Exception {
        String config = manifests
                .workload("meshguard-xds")
                .template()
                .getMetadata()
                .getAnnotations()
                .get("proxy.istio.io/config");
        JsonNode proxyConfig = new ObjectMapper().readTree(config);
        assertThat(proxyConfig.path("proxyHeaders").path("forwardedClientCert").asText())
                .isEqualTo("SANITIZE_SET");
        assertThat(env(XdsSettings.ADS_PEER_IDENTITY.envVar())).isEqualTo("xfcc");
    }

    @Test
    void adsPort_isHttpAware_soTheSidecarCanWriteHeaders() {
        Service svc = manifests.service("meshguard-xds");
        assertThat(svc.getSpec().getPorts())
                .filteredOn(p -> p.getPort() == 18000)
                .singleElement()
                .satisfies(p -> assertThat(p.getAppProtocol()).isEqualTo("grpc"));
    }

    @Test
    void namespace_acceptsOnlyMutualTls() {
        PeerAuthentication pa = manifests.model("PeerAuthentication", "default", PeerAuthentication.class);
        assertThat(pa.getMetadata().getNamespace()).isEqualTo("meshguard");
        assertThat(pa.getSpec().getMtls().getMode().toString()).isEqualTo("STRICT");
    }

    @Test
    void gatewayIdentity_isGrantedTheGroupItsBootstrapNames_andNothingElseIs() throws Exception {
        String sa = manifests.workload("meshguard-gateway").template().getSpec().getServiceAccountName();
        String bootstrap = Files.readString(RepoPaths.manifests().resolve("base/envoy/bootstrap.yaml"));
        String group = bootstrap
                .lines()
                .filter(l -> l.strip().startsWith("cluster:"))
                .findFirst()
                .orElseThrow()
                .split(":", 2)[1]
                .strip();
        AdsPeerPolicy policy = AdsPeerPolicy.of(
                env(XdsSettings.ADS_PEER_IDENTITY.envVar()),
                AdsPeerPolicy.ISTIO_INBOUND_SOURCES,
                List.of(env(XdsSettings.ADS_GROUP_IDENTITIES.envVar()).split(",")));
        PeerIdentity gateway = new PeerIdentity("spiffe://cluster.local/ns/meshguard/sa/" + sa);
        assertThat(policy.allows(gateway, group)).isTrue();
        assertThat(policy.allows(new PeerIdentity("spiffe://cluster.local/ns/meshguard/sa/meshguard-dlp"), group))
                .isFalse();
        assertThat(policy.allows(new PeerIdentity("spiffe://cluster.local/ns/shop/sa/" + sa), group))
                .isFalse();
    }
}
