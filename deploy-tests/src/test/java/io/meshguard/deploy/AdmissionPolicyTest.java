package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review item B1: labelled pods without a sidecar, or in ambient mode, get no ext_authz, no DLP and no STRICT.
 * The ValidatingAdmissionPolicy in manifests/istio/admission refuses them; its CEL expressions are evaluated here
 * with a CEL runtime on pods as the API server sees them after Istio's injector ran (Kubernetes evaluates
 * {@code object} as the pod; it adds its own library functions, which these expressions do not use).
 */
class AdmissionPolicyTest {
    private static AdmissionPolicy.Policy policy;

    @BeforeAll
    static void read() {
        List<SourcedDocument> docs =
                YamlDocuments.read(RepoPaths.manifests().resolve("admission/require-sidecar.yaml"));
        assertThat(ManifestChecks.problems(docs)).isEmpty();
        policy = StrictKubernetesModels.parse(docs.get(0), AdmissionPolicy.Policy.class);
        AdmissionPolicy.Binding binding = StrictKubernetesModels.parse(docs.get(1), AdmissionPolicy.Binding.class);
        assertThat(binding.spec().policyName()).isEqualTo(policy.metadata().getName());
        assertThat(binding.spec().validationActions()).containsExactly("Deny");
    }

    private static boolean eval(String expression, String podYaml, String namespaceYaml) {
        return (Boolean) AdmissionPolicies.eval(
                expression,
                Map.of(
                        "object",
                        AdmissionPolicies.asCelValue(AdmissionPolicies.fromYaml(podYaml)),
                        "namespaceObject",
                        AdmissionPolicies.asCelValue(AdmissionPolicies.fromYaml(namespaceYaml))));
    }

    /** A sidecar-mode namespace as the API server hands it to CEL ({@code namespaceObject}). */
    private static final String PLAIN_NAMESPACE =
            "metadata:\n  name: payments\n  labels: {kubernetes.io/metadata.name: payments, istio-injection: enabled}\n";

    /** Whether the API server admits the pod: not matched, or matched and every validation true. */
    private static boolean admitted(String podYaml) throws Exception {
        return admitted(podYaml, PLAIN_NAMESPACE);
    }

    private static boolean admitted(String podYaml, String namespaceYaml) throws Exception {
        for (AdmissionPolicy.NamedExpression condition : policy.spec().matchConditions()) {
            if (!eval(condition.expression(), podYaml, namespaceYaml)) {
                return true;
            }
        }
        for (AdmissionPolicy.Validation v : policy.spec().validations()) {
            if (!eval(v.expression(), podYaml, namespaceYaml)) {
                return false;
            }
        }
        return true;
    }

    private static String pod(String labels, String containers, String initContainers) {
        return "metadata:\n  name: api-0\n" + labels + "spec:\n  containers:\n" + containers + initContainers;
    }

    private static final String APP = "    - {name: app, image: payments/api:1}\n";
    private static final String SIDECAR = "    - {name: istio-proxy, image: docker.io/istio/proxyv2:1.27.2}\n";
    private static final String NATIVE_SIDECAR = "  initContainers:\n    - {name: istio-init, image: x}\n"
            + "    - {name: istio-proxy, image: docker.io/istio/proxyv2:1.27.2, restartPolicy: Always}\n";

    @Test
    void policy_matchesPodCreationAndUpdateOnly() {
        assertThat(policy.spec().failurePolicy()).isEqualTo("Fail");
        assertThat(policy.spec().matchConstraints().resourceRules())
                .singleElement()
                .satisfies(r -> {
                    assertThat(r.resources()).containsExactly("pods");
                    assertThat(r.operations()).containsExactlyInAnyOrder("CREATE", "UPDATE");
                });
    }

    @Test
    void protectedPodWithASidecar_isAdmitted_asContainerOrNativeSidecar() throws Exception {
        String labels = "  labels: {meshguard.io/protected: \"true\", meshguard.io/dlp: \"true\"}\n";
        assertThat(admitted(pod(labels, APP + SIDECAR, ""))).isTrue();
        assertThat(admitted(pod(labels, APP, NATIVE_SIDECAR))).isTrue();
    }

    @Test
    void protectedOrDlpPodWithoutASidecar_isRefused() throws Exception {
        assertThat(admitted(pod("  labels: {meshguard.io/protected: \"true\"}\n", APP, "")))
                .isFalse();
        assertThat(admitted(pod("  labels: {meshguard.io/dlp: \"true\", app: api}\n", APP, "")))
                .isFalse();
        // istio-init alone (the sidecar opted out after init) is not a sidecar
        assertThat(admitted(pod(
                        "  labels: {meshguard.io/protected: \"true\"}\n",
                        APP,
                        "  initContainers:\n    - {name: istio-init, image: x}\n")))
                .isFalse();
    }

    @Test
    void podsThatDoNotAskForMeshguard_areAdmittedWithoutASidecar() throws Exception {
        assertThat(admitted(pod("", APP, ""))).isTrue();
        assertThat(admitted(pod("  labels: {app: api}\n", APP, ""))).isTrue();
        assertThat(admitted(pod("  labels: {meshguard.io/protected: \"false\"}\n", APP, "")))
                .isTrue();
    }

    private static final String PROTECTED = "  labels: {meshguard.io/protected: \"true\"}\n";
    private static final String APP_ON_8080 = "    - name: app\n      image: payments/api:1\n"
            + "      ports: [{containerPort: 8080}, {containerPort: 9090}]\n";

    private static String annotated(String annotations, String containers) {
        return "metadata:\n  name: api-0\n" + PROTECTED + "  annotations:\n" + annotations + "spec:\n  containers:\n"
                + containers + SIDECAR;
    }

    /** R3-07: a sidecar that never sees inbound traffic enforces nothing; Istio's capture annotations must not allow that. */
    @Test
    void protectedPodWhoseSidecarSeesNoInboundTraffic_isRefused_inEverySpelling() throws Exception {
        for (String mode : List.of("NONE", "none", " None ")) {
            assertThat(admitted(annotated("    sidecar.istio.io/interceptionMode: \"" + mode + "\"\n", APP_ON_8080)))
                    .as("interceptionMode %s", mode)
                    .isFalse();
        }
        for (String include : List.of("", "8080", "9090", "8080,9090", " ")) {
            assertThat(admitted(annotated(
                            "    traffic.sidecar.istio.io/includeInboundPorts: \"" + include + "\"\n", APP_ON_8080)))
                    .as("includeInboundPorts '%s'", include)
                    .isFalse();
        }
        for (String exclude : List.of("8080", "15020,8080", "15020, 8080 ", "9090,15021")) {
            assertThat(admitted(annotated(
                            "    traffic.sidecar.istio.io/excludeInboundPorts: \"" + exclude + "\"\n", APP_ON_8080)))
                    .as("excludeInboundPorts '%s'", exclude)
                    .isFalse();
        }
        // without a declared port nothing proves the exclusion misses the application's port
        assertThat(admitted(annotated("    traffic.sidecar.istio.io/excludeInboundPorts: \"7070\"\n", APP)))
                .isFalse();
    }

    @Test
    void protectedPodWithCaptureAnnotationsThatKeepItsPortsCaptured_isAdmitted() throws Exception {
        assertThat(admitted(annotated("    sidecar.istio.io/interceptionMode: REDIRECT\n", APP_ON_8080)))
                .isTrue();
        assertThat(admitted(annotated("    sidecar.istio.io/interceptionMode: TPROXY\n", APP_ON_8080)))
                .isTrue();
        assertThat(admitted(annotated("    traffic.sidecar.istio.io/includeInboundPorts: \"*\"\n", APP_ON_8080)))
                .isTrue();
        // 80800 and 18080 merely contain the digits of 8080
        assertThat(admitted(annotated(
                        "    traffic.sidecar.istio.io/excludeInboundPorts: \"80800,18080,7070\"\n", APP_ON_8080)))
                .isTrue();
        assertThat(admitted(annotated("    traffic.sidecar.istio.io/excludeInboundPorts: \"\"\n", APP)))
                .isTrue();
        assertThat(admitted(annotated("    prometheus.io/scrape: \"true\"\n", APP)))
                .isTrue();
    }

    @Test
    void unprotectedPod_mayOptOutOfInboundCapture() throws Exception {
        assertThat(admitted("metadata:\n  name: batch-0\n  annotations:\n    sidecar.istio.io/interceptionMode: NONE\n"
                        + "spec:\n  containers:\n" + APP + SIDECAR))
                .isTrue();
    }

    private static String namespace(String labels) {
        return "metadata:\n  name: payments\n  labels: {kubernetes.io/metadata.name: payments" + labels + "}\n";
    }

    private static final String AMBIENT_BEHIND_WAYPOINT =
            namespace(", istio.io/dataplane-mode: ambient, istio.io/use-waypoint: meshguard-waypoint");

    @Test
    void protectedPodWithoutASidecar_inAnAmbientNamespaceBehindMeshguardsWaypoint_isAdmitted() throws Exception {
        String labels = "  labels: {meshguard.io/protected: \"true\", meshguard.io/dlp: \"true\"}\n";
        assertThat(admitted(pod(labels, APP, ""), AMBIENT_BEHIND_WAYPOINT)).isTrue();
        // the pod may repeat what its namespace says
        assertThat(admitted(
                        pod(
                                "  labels: {meshguard.io/protected: \"true\", istio.io/dataplane-mode: ambient,"
                                        + " istio.io/use-waypoint: meshguard-waypoint}\n",
                                APP,
                                ""),
                        AMBIENT_BEHIND_WAYPOINT))
                .isTrue();
    }

    @Test
    void protectedPodInAnAmbientNamespace_withoutMeshguardsWaypoint_isRefused() throws Exception {
        String labels = "  labels: {meshguard.io/protected: \"true\"}\n";
        // ambient with no waypoint: ztunnel drops the CUSTOM policy, nothing checks the requests
        assertThat(admitted(pod(labels, APP, ""), namespace(", istio.io/dataplane-mode: ambient")))
                .isFalse();
        assertThat(admitted(
                        pod(labels, APP, ""),
                        namespace(", istio.io/dataplane-mode: ambient, istio.io/use-waypoint: none")))
                .isFalse();
        // a waypoint that is not meshguard's carries none of its policies
        assertThat(admitted(
                        pod(labels, APP, ""),
                        namespace(", istio.io/dataplane-mode: ambient, istio.io/use-waypoint: team-waypoint")))
                .isFalse();
        // a waypoint label without ambient: no ztunnel redirection, no waypoint
        assertThat(admitted(pod(labels, APP, ""), namespace(", istio.io/use-waypoint: meshguard-waypoint")))
                .isFalse();
    }

    @Test
    void protectedPodThatLeavesTheNamespacesWaypoint_isRefused() throws Exception {
        for (String own : List.of(
                "istio.io/dataplane-mode: none", "istio.io/use-waypoint: none", "istio.io/use-waypoint: other")) {
            assertThat(admitted(
                            pod("  labels: {meshguard.io/protected: \"true\", " + own + "}\n", APP, ""),
                            AMBIENT_BEHIND_WAYPOINT))
                    .as(own)
                    .isFalse();
        }
    }
}
