package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.meshguard.deploy.RenderedManifests;
import io.meshguard.testing.IntegrationTest;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The box's reading of what istiod makes of the shipped mesh config provider and DLP EnvoyFilter (no cluster
 * needed): the translation of {@code envoyExtAuthzGrpc} and the strictness that makes an unmodelled shape fail a pod.
 */
@IntegrationTest
class IstioExtensionsTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final String DLP_CLUSTER = "outbound|9002||meshguard-dlp.meshguard.svc.cluster.local";

    @Test
    void shippedProvider_translatesAsIstiodDoes_clusterAuthorityTimeoutFailClosed503() throws Exception {
        ExtAuthz c = extensions(IstioExtensions.meshConfig(), shippedFilter()).extAuthz("meshguard-extauthz");

        assertThat(c.getGrpcService().getEnvoyGrpc().getClusterName())
                .isEqualTo("outbound|9001||meshguard-extauthz.meshguard.svc.cluster.local");
        // generateGRPCConfig: Authority is the provider's hostname (istio/istio extauthz.go, 1.26 to 1.30)
        assertThat(c.getGrpcService().getEnvoyGrpc().getAuthority())
                .isEqualTo("meshguard-extauthz.meshguard.svc.cluster.local");
        assertThat(c.getGrpcService().getTimeout().getSeconds()).isEqualTo(1);
        assertThat(c.getFailureModeAllow()).isFalse();
        assertThat(c.getStatusOnError().getCodeValue()).isEqualTo(503);
        assertThat(c.getFilterEnabledMetadata().getFilter()).isEqualTo("envoy.filters.http.rbac");
    }

    @Test
    void provider_withoutTimeout_getsIstiosDefault600s_andAnUnmodelledFieldOrUnknownServiceFailsThePod()
            throws Exception {
        ObjectNode mesh = IstioExtensions.meshConfig().deepCopy();
        ObjectNode grpc = (ObjectNode) mesh.path("extensionProviders").get(0).path("envoyExtAuthzGrpc");
        grpc.remove("timeout");
        assertThat(extensions(mesh, shippedFilter())
                        .extAuthz("meshguard-extauthz")
                        .getGrpcService()
                        .getTimeout()
                        .getSeconds())
                .isEqualTo(600);

        grpc.putObject("includeRequestBodyInCheck").put("maxRequestBytes", 1024);
        assertThatThrownBy(() -> extensions(mesh, shippedFilter()).extAuthz("meshguard-extauthz"))
                .hasMessageContaining("includeRequestBodyInCheck is not modelled");
        grpc.remove("includeRequestBodyInCheck");

        grpc.put("service", "meshguard-authz.meshguard.svc.cluster.local");
        assertThatThrownBy(() -> extensions(mesh, shippedFilter()).extAuthz("meshguard-extauthz"))
                .hasMessageContaining("no such Service");
        assertThatThrownBy(() -> extensions(IstioExtensions.meshConfig(), shippedFilter())
                        .extAuthz("other"))
                .hasMessageContaining("defined 0 times");
    }

    @Test
    void shippedEnvoyFilter_givesTheDlpLabelledPodFullDuplexExtProc_andLeavesOthersAlone() throws Exception {
        IstioExtensions e = extensions(IstioExtensions.meshConfig(), shippedFilter());

        Optional<ExternalProcessor> dlp = e.extProc(pod(Map.of("meshguard.io/dlp", "true")), DLP_CLUSTER::equals);
        assertThat(dlp).isPresent();
        assertThat(dlp.get().getGrpcService().getEnvoyGrpc().getClusterName()).isEqualTo(DLP_CLUSTER);
        assertThat(dlp.get().getProcessingMode().getResponseBodyMode())
                .isEqualTo(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED);
        assertThat(dlp.get().getFailureModeAllow()).isFalse();
        assertThat(e.extProc(pod(Map.of("app", "api")), DLP_CLUSTER::equals)).isEmpty();
    }

    @Test
    void envoyFilter_unknownTypedConfigField_otherContext_orUnknownCluster_failThePod() throws Exception {
        ObjectNode typo = shippedFilter();
        typedConfig(typo).put("failure_mode_alow", true);
        assertThatThrownBy(() -> extensions(IstioExtensions.meshConfig(), typo)
                        .extProc(pod(Map.of("meshguard.io/dlp", "true")), DLP_CLUSTER::equals))
                .hasMessageContaining("failure_mode_alow");

        ObjectNode outbound = shippedFilter();
        ((ObjectNode) outbound.path("spec").path("configPatches").get(0).path("match"))
                .put("context", "SIDECAR_OUTBOUND");
        assertThatThrownBy(() -> extensions(IstioExtensions.meshConfig(), outbound)
                        .extProc(pod(Map.of("meshguard.io/dlp", "true")), DLP_CLUSTER::equals))
                .hasMessageContaining("SIDECAR_OUTBOUND");

        ObjectNode failOpen = shippedFilter();
        typedConfig(failOpen).put("failure_mode_allow", true);
        assertThatThrownBy(() -> extensions(IstioExtensions.meshConfig(), failOpen)
                        .extProc(pod(Map.of("meshguard.io/dlp", "true")), DLP_CLUSTER::equals))
                .hasMessageContaining("failure_mode_allow false");

        assertThatThrownBy(() -> extensions(IstioExtensions.meshConfig(), shippedFilter())
                        .extProc(pod(Map.of("meshguard.io/dlp", "true")), cluster -> false))
                .hasMessageContaining("no cluster " + DLP_CLUSTER);
    }

    private static ObjectNode typedConfig(ObjectNode filter) {
        return (ObjectNode) filter.path("spec")
                .path("configPatches")
                .get(0)
                .path("patch")
                .path("value")
                .path("typed_config");
    }

    static ObjectNode shippedFilter() throws Exception {
        return (ObjectNode) YAML.readTree(RenderedManifests.repoRoot()
                .resolve("manifests/istio/base/envoy-filter-ext-proc.yaml")
                .toFile());
    }

    static IstioExtensions extensions(JsonNode mesh, JsonNode filter) {
        return new IstioExtensions(
                mesh,
                List.of(filter),
                new ServiceDirectory(List.of(service("meshguard-extauthz"), service("meshguard-dlp")), List.of()));
    }

    private static Service service(String name) {
        return new ServiceBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace("meshguard")
                .endMetadata()
                .withNewSpec()
                .withSelector(Map.of("app.kubernetes.io/name", name))
                .endSpec()
                .build();
    }

    private static BoxPod pod(Map<String, String> labels) {
        return new BoxPod(
                "api-0",
                "payments",
                labels,
                Map.of(),
                "10.244.0.16",
                "none",
                new PodSpec(),
                "Deployment/api",
                Optional.empty());
    }
}
