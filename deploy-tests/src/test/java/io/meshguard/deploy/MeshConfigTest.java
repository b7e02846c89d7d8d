package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicyAction;
import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicyProvider;
import io.fabric8.istio.api.security.v1.AuthorizationPolicy;
import io.fabric8.istio.api.telemetry.v1.Telemetry;
import io.fabric8.kubernetes.api.model.Service;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.runtime.config.ConfigKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The mesh config step: strict shape, fail-closed ext_authz with a real timeout, providers that resolve. */
class MeshConfigTest {
    private static final Path VALUES = RepoPaths.manifests().resolve("mesh/istiod-values.yaml");

    private static IstiodValues values() throws Exception {
        return IstiodValues.read(VALUES);
    }

    @Test
    void istiodValues_withMisspelledProviderField_areRejected() {
        assertThatThrownBy(() -> IstiodValues.parse("""
                meshConfig:
                  extensionProviders:
                    - name: x
                      envoyExtAuthzGrpc: {service: s, port: 1, failOpne: false}
                """))
                .isInstanceOf(UnrecognizedPropertyException.class)
                .hasMessageContaining("failOpne");
    }

    @Test
    void sidecars_decodeAndMergeSlashesBeforeAnyFilter() throws Exception {
        // One spelling of the path for extauthz, DLP and the application (docs/gateway-envoy-config.md).
        assertThat(values().meshConfig().pathNormalization()).hasValueSatisfying(p -> assertThat(p.normalization())
                .isEqualTo(IstiodValues.Normalization.DECODE_AND_MERGE_SLASHES));
    }

    @Test
    void istiodValues_withUnknownNormalization_areRejected() {
        assertThatThrownBy(() -> IstiodValues.parse("""
                meshConfig:
                  pathNormalization: {normalization: DECODE_SLASHES}
                  extensionProviders: []
                """)).hasMessageContaining("DECODE_SLASHES");
    }

    @Test
    void helmUpgradeSteps_pinTheInstalledChart() throws Exception {
        // Without --version helm upgrade takes the newest chart (review item A6).
        for (Path doc : List.of(VALUES, RepoPaths.manifests().resolve("README.md"))) {
            List<String> upgrades = java.nio.file.Files.readString(doc)
                    .lines()
                    .filter(l -> l.contains("helm upgrade istiod"))
                    .toList();
            assertThat(upgrades).as("%s", doc).isNotEmpty().allSatisfy(l -> assertThat(l)
                    .contains("--version \"$ISTIOD_CHART\""));
        }
    }

    @Test
    void extAuthzProvider_failsClosedWithAnExplicitShortTimeout() throws Exception {
        IstiodValues.ExtAuthzGrpc authz = values().provider("meshguard-extauthz")
                .orElseThrow()
                .envoyExtAuthzGrpc()
                .orElseThrow();
        assertThat(authz.failOpen()).as("failOpen must be written, and false").contains(false);
        // Istio's default is 600 s: a hung server would hold every request for ten minutes.
        Duration timeout = ProtoDurations.parse(authz.timeout().orElseThrow());
        assertThat(timeout).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(5));
        assertThat(authz.statusOnError())
                .hasValueSatisfying(s -> assertThat(Integer.parseInt(s)).isBetween(400, 599));
        assertThat(authz.includeRequestBodyInCheck())
                .as("bodies go to DLP, not to authz")
                .isEmpty();
    }

    @Test
    void providers_pointAtMeshguardServicesOnTheirGrpcPorts() throws Exception {
        Manifests manifests = Manifests.sources();
        IstiodValues.ExtAuthzGrpc authz = values().provider("meshguard-extauthz")
                .orElseThrow()
                .envoyExtAuthzGrpc()
                .orElseThrow();
        assertGrpcServicePort(manifests, authz.service(), authz.port());
        IstiodValues.HttpGrpcAccessLog als =
                values().provider("meshguard-als").orElseThrow().envoyHttpAls().orElseThrow();
        assertGrpcServicePort(manifests, als.service(), als.port());
    }

    static void assertGrpcServicePort(Manifests manifests, String host, int port) {
        String[] parts = host.split("\\.");
        assertThat(host).as("provider host").endsWith(".svc.cluster.local");
        Service service = manifests.service(parts[0]);
        assertThat(service.getMetadata().getNamespace()).isEqualTo(parts[1]);
        assertThat(service.getSpec().getPorts())
                .as("%s exposes gRPC port %d", host, port)
                .anySatisfy(p -> {
                    assertThat(p.getPort()).isEqualTo(port);
                    assertThat(p.getName()).startsWith("grpc-");
                });
    }

    @Test
    void customAuthorizationPolicy_usesTheExtAuthzProvider() throws Exception {
        List<AuthorizationPolicy> custom = Manifests.sources()
                .models("AuthorizationPolicy", AuthorizationPolicy.class)
                .filter(p -> p.getSpec().getAction() == AuthorizationPolicyAction.CUSTOM)
                .toList();
        assertThat(custom).hasSize(1);
        AuthorizationPolicy policy = custom.getFirst();
        String provider = ((AuthorizationPolicyProvider) policy.getSpec().getActionDetail())
                .getProvider()
                .getName();
        assertThat(values().provider(provider))
                .hasValueSatisfying(p -> assertThat(p.envoyExtAuthzGrpc()).isPresent());
        // In the root namespace with a selector, so it reaches labelled workloads in every namespace.
        assertThat(policy.getMetadata().getNamespace()).isEqualTo("istio-system");
        assertThat(policy.getSpec().getSelector().getMatchLabels()).containsEntry("meshguard.io/protected", "true");
    }

    @Test
    void telemetry_usesTheAccessLogProvider() throws Exception {
        IstiodValues values = values();
        List<Telemetry> telemetry =
                Manifests.sources().models("Telemetry", Telemetry.class).toList();
        assertThat(telemetry).isNotEmpty();
        for (Telemetry t : telemetry) {
            t.getSpec().getAccessLogging().forEach(logging -> logging.getProviders()
                    .forEach(p -> assertThat(values.provider(p.getName()))
                            .as("provider %s", p.getName())
                            .hasValueSatisfying(
                                    found -> assertThat(found.envoyHttpAls()).isPresent())));
        }
    }

    @Test
    void accessLogProvider_logsEveryHeaderTheAuditReceiverReads() throws Exception {
        IstiodValues.HttpGrpcAccessLog als =
                values().provider("meshguard-als").orElseThrow().envoyHttpAls().orElseThrow();
        // Envoy sends only the headers listed here; a header the receiver maps to an audit column but Envoy does
        // not log leaves that column empty in every api_call row.
        List<String> requestHeaders = List.of(
                        AuditConfig.ALS_REQUEST_ID_HEADER,
                        AuditConfig.ALS_TRACEPARENT_HEADER,
                        AuditConfig.ALS_TENANT_HEADER,
                        AuditConfig.ALS_SUBJECT_HEADER,
                        AuditConfig.ALS_CLIENT_ID_HEADER,
                        AuditConfig.ALS_SOURCE_HEADER,
                        AuditConfig.ALS_CALLER_TYPE_HEADER)
                .stream()
                .map(ConfigKey::defaultValue)
                .toList();
        assertThat(als.additionalRequestHeadersToLog().orElse(List.of())).containsAll(requestHeaders);
        assertThat(als.additionalResponseHeadersToLog().orElse(List.of()))
                .contains(AuditConfig.ALS_CONTENT_TYPE_HEADER.defaultValue());
    }
}
