package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.meshguard.deploy.AdmissionPolicies;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The ambient namespace's key is the waypoint's identity: ztunnel lets {@code cluster.local/ns/loans/sa/meshguard-waypoint}
 * reach the protected app and no one else, and Kubernetes lets whoever may create pods in {@code loans} name that
 * ServiceAccount. Without manifests/istio/admission/waypoint-identity.yaml such a pod reaches the app with no Check,
 * no DLP and no log; with it in force, as manifests/istio/ambient/README.md step 1 installs it, the pod is refused at
 * creation and never runs, and the waypoint's own pod, created on istiod's chain, is still admitted.
 */
@Tag("cluster")
class WaypointIdentityJourneyTest extends BoxJourney {
    /** The namespace's deploy pipeline: may create pods in {@code loans}, as an application team's CI can. */
    private static final String DEPLOYER = "system:serviceaccount:" + AmbientNamespace.NAMESPACE + ":ci-deployer";

    private static final List<String> DEPLOYER_GROUPS = List.of(
            "system:serviceaccounts", "system:serviceaccounts:" + AmbientNamespace.NAMESPACE, "system:authenticated");
    private static final String REPLICASET_CONTROLLER = "system:serviceaccount:kube-system:replicaset-controller";
    private static final String REFUSAL = "only the ambient waypoint istiod deploys may run as the ServiceAccount";

    @Test
    void podAsTheWaypointAccount_withoutTheAdmissionPolicy_reachesTheAppWithNoCheck() throws Exception {
        AmbientNamespace ambient = box.ambient();
        box.waypointIdentityBinding(false);
        Optional<BoxPod> impostor = Optional.empty();
        try {
            impostor = Optional.of(box.createPod(
                    DEPLOYER,
                    DEPLOYER_GROUPS,
                    AmbientNamespace.NAMESPACE,
                    "ledger-debug",
                    spec("serviceAccountName", ambient.waypointName())));
            BoxPod pod = impostor.get();
            // istiod signs a certificate for the pod's token: it speaks HBONE as the waypoint, ztunnel or not
            Shell.run(List.of("ip", "netns", "exec", pod.netns(), "nft", "-f", "-"), ambient.ownHboneTable());
            String direct = MeshHttpCall.from(box, pod, Optional.empty(), hboneUrl(ambient));
            assertThat(MeshHttpCall.status(direct))
                    .as(
                            "no credential, no waypoint: the app answers what the waypoint's Check would refuse (%s)"
                                    + "\nztunnel at the app:\n%s",
                            direct, box.ztunnelDecisions())
                    .isEqualTo(200);
            assertThat(box.ztunnelDecisions())
                    .as("ztunnel admits it for its identity alone")
                    .containsPattern(pod.name() + ".*: mTLS allowed")
                    .containsPattern(ambient.client().name() + ".*: mTLS refused");
        } finally {
            if (impostor.isPresent()) {
                box.deletePod(impostor.get());
            }
            box.waypointIdentityBinding(true);
        }
    }

    @Test
    void podAsTheWaypointAccount_fromTheNamespacesDeployer_isRefusedAtCreation_inEverySpelling_andNeverRuns()
            throws Exception {
        AmbientNamespace ambient = box.ambient();
        for (String field : List.of("serviceAccountName", "serviceAccount")) {
            assertThatThrownBy(() -> box.createPod(
                            DEPLOYER,
                            DEPLOYER_GROUPS,
                            AmbientNamespace.NAMESPACE,
                            "ledger-debug",
                            spec(field, ambient.waypointName())))
                    .as(field)
                    .isInstanceOf(ClusterInABox.AdmissionRefused.class)
                    .hasMessageContaining(REFUSAL);
        }
        assertThat(box.pods()).noneMatch(p -> p.name().equals("ledger-debug"));
        assertThat(box.ztunnelDecisions()).doesNotContain("ledger-debug");

        // the same deployer's pod under its own account is admitted: the policy is about the identity, not the team
        BoxPod own = box.createPod(
                DEPLOYER,
                DEPLOYER_GROUPS,
                AmbientNamespace.NAMESPACE,
                "ledger-tools",
                spec("serviceAccountName", "tools"));
        try {
            Shell.run(List.of("ip", "netns", "exec", own.netns(), "nft", "-f", "-"), ambient.ownHboneTable());
            String direct = MeshHttpCall.from(box, own, Optional.empty(), hboneUrl(ambient));
            assertThat(direct)
                    .as("its own identity does not reach the app past the waypoint: %s", direct)
                    .contains("FAILED")
                    .doesNotContain("STATUS");
        } finally {
            box.deletePod(own);
        }

        // the waypoint's pod as the replicaset controller creates it from istiod's Deployment: admitted
        Pod waypoint = new PodBuilder()
                .withNewMetadata()
                .withName(ambient.waypoint().name())
                .withNamespace(AmbientNamespace.NAMESPACE)
                .withLabels(Map.of("gateway.networking.k8s.io/gateway-name", ambient.waypointName()))
                .withOwnerReferences(new OwnerReferenceBuilder()
                        .withApiVersion("apps/v1")
                        .withKind("ReplicaSet")
                        .withName(ambient.waypointName() + "-6d4cf56db6")
                        .withController(true)
                        .withUid("4f1c")
                        .build())
                .endMetadata()
                .withSpec(ambient.waypoint().spec())
                .build();
        assertThat(box.admission()
                        .orElseThrow()
                        .refusals(new AdmissionPolicies.Request(
                                "CREATE",
                                "",
                                "pods",
                                "",
                                waypoint.getMetadata().getName(),
                                REPLICASET_CONTROLLER,
                                List.of("system:serviceaccounts", "system:serviceaccounts:kube-system"),
                                AdmissionPolicies.fromModel(waypoint),
                                null)))
                .as("the waypoint's own pod")
                .isEmpty();
    }

    private static PodSpec spec(String accountField, String account) {
        PodSpec spec = new PodSpec();
        if (accountField.equals("serviceAccount")) {
            spec.setServiceAccount(account);
        } else {
            spec.setServiceAccountName(account);
        }
        spec.setContainers(List.of(new ContainerBuilder()
                .withName("debug")
                .withImage("registry.example/curl:8")
                .build()));
        return spec;
    }

    /** The app pod's HBONE port, which its terminate rule hands to the app's own port. */
    private static String hboneUrl(AmbientNamespace ambient) {
        return "http://" + ambient.app().ip() + ":" + AmbientNamespace.HBONE_PORT + "/loans/v1/schedule";
    }
}
