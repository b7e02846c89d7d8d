package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicyProvider;
import io.fabric8.istio.api.networking.v1alpha3.EnvoyFilter;
import io.fabric8.istio.api.security.v1.AuthorizationPolicy;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

/** The strict parser itself: what it accepts and, above all, what it refuses. */
class StrictKubernetesModelsTest {
    /** The document is refused with a ManifestException (the caller checks what the message names). */
    private static AbstractThrowableAssert<?, ? extends Throwable> assertRejected(String yaml) {
        return assertThatThrownBy(() -> StrictKubernetesModels.parse(doc(yaml))).isInstanceOf(ManifestException.class);
    }

    private static SourcedDocument doc(String yaml) {
        return YamlDocuments.parse("inline.yaml", yaml).getFirst();
    }

    @Test
    void deployment_withKnownFields_parsesIntoTypedModel() {
        Object model = StrictKubernetesModels.parse(doc("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: a, namespace: b}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: a}}
                  template:
                    metadata: {labels: {app: a}}
                    spec:
                      containers: [{name: a, image: a, ports: [{name: grpc, containerPort: 9001}]}]
                """));
        assertThat(model).isInstanceOf(Deployment.class);
        assertThat(((Deployment) model).getSpec().getReplicas()).isEqualTo(2);
    }

    @Test
    void deployment_withMisspelledField_isRejectedWithItsPath() {
        assertRejected("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: a}
                spec:
                  replica: 2
                """).hasMessageContaining("Deployment/a").hasMessageContaining("\"replica\"");
    }

    @Test
    void deployment_withUnknownFieldDeepInContainer_isRejected() {
        assertRejected("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: a}
                spec:
                  template:
                    spec:
                      containers:
                        - name: a
                          securityContext: {readOnlyRootFileSystem: true}
                """).hasMessageContaining("readOnlyRootFileSystem");
    }

    @Test
    void deployment_withWrongValueType_isRejected() {
        assertRejected("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: a}
                spec:
                  replicas: many
                """).hasMessageContaining("replicas");
    }

    @Test
    void authorizationPolicy_withMisspelledRules_isRejected() {
        assertRejected("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: p}
                spec:
                  action: CUSTOM
                  provider: {name: x}
                  rule: [{}]
                """).hasMessageContaining("unknown field /spec/rule");
    }

    @Test
    void authorizationPolicy_withUnknownAction_isRejected() {
        assertRejected("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: p}
                spec:
                  action: CUSTOMX
                """).hasMessageContaining("CUSTOMX");
    }

    @Test
    void authorizationPolicy_custom_parsesWithProvider() {
        AuthorizationPolicy policy = (AuthorizationPolicy) StrictKubernetesModels.parse(doc("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: p, namespace: istio-system}
                spec:
                  action: CUSTOM
                  provider: {name: meshguard-extauthz}
                  rules: [{}]
                """));
        assertThat(policy.getSpec().getAction().name()).isEqualTo("CUSTOM");
        assertThat(policy.getSpec().getActionDetail())
                .isInstanceOfSatisfying(
                        AuthorizationPolicyProvider.class,
                        detail -> assertThat(detail.getProvider().getName()).isEqualTo("meshguard-extauthz"));
    }

    @Test
    void envoyFilter_withListenerMatch_parsesAndKeepsPatchValueOpen() {
        EnvoyFilter filter = (EnvoyFilter) StrictKubernetesModels.parse(doc("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: f}
                spec:
                  configPatches:
                    - applyTo: HTTP_FILTER
                      match:
                        context: SIDECAR_INBOUND
                        listener:
                          filterChain:
                            filter:
                              name: envoy.filters.network.http_connection_manager
                      patch:
                        operation: INSERT_BEFORE
                        value: {name: x, typed_config: {"@type": "t"}}
                """));
        assertThat(filter.getSpec().getConfigPatches()).hasSize(1);
        assertThat(filter.getSpec().getConfigPatches().getFirst().getPatch().getValue())
                .isNotNull();
    }

    @Test
    void envoyFilter_withMisspelledMatchField_isRejected() {
        assertRejected("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: f}
                spec:
                  configPatches:
                    - applyTo: HTTP_FILTER
                      match:
                        context: SIDECAR_INBOUND
                        listener:
                          filterChian: {}
                      patch: {operation: MERGE}
                """).hasMessageContaining("filterChian");
    }

    @Test
    void unknownKind_isRejectedByName() {
        assertRejected("""
                apiVersion: networking.istio.io/v1
                kind: VirtualServiceX
                metadata: {name: v}
                """).hasMessageContaining("no typed model").hasMessageContaining("VirtualServiceX");
    }
}
