package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Review R5-06: ztunnel admits connections to protected ambient pods only from the waypoint's identity
 * ({@code cluster.local/ns/<ns>/sa/meshguard-waypoint}), so any workload running as that ServiceAccount reaches them
 * with no Check, no DLP and no log. The policies shipped in manifests/istio/admission must admit that identity only
 * on the chain istiod creates the waypoint by (its Deployment, the deployment controller's ReplicaSet, the replicaset
 * controller's Pod) and refuse every other way to a workload, a shell or a token of that account. Each request is
 * evaluated against every policy of the folder, as the API server would.
 */
class WaypointIdentityAdmissionTest {
    private static final AdmissionPolicies SHIPPED = AdmissionPolicies.shipped();

    private static final String WAYPOINT = "meshguard-waypoint";
    private static final String USER = "alice@bank.example";
    private static final List<String> USER_GROUPS = List.of("payments-developers", "system:authenticated");
    private static final String ISTIOD = "system:serviceaccount:istio-system:istiod";
    private static final String DEPLOYMENT_CONTROLLER = "system:serviceaccount:kube-system:deployment-controller";
    private static final String REPLICASET_CONTROLLER = "system:serviceaccount:kube-system:replicaset-controller";
    private static final String KUBELET = "system:node:worker-1";
    private static final List<String> NODE_GROUPS = List.of("system:nodes", "system:authenticated");

    private static AdmissionPolicies.Request create(
            String group, String resource, String username, List<String> groups, String yaml) {
        return new AdmissionPolicies.Request(
                "CREATE", group, resource, "", "", username, groups, AdmissionPolicies.fromYaml(yaml), null);
    }

    private static AdmissionPolicies.Request update(
            String group, String resource, String username, String oldYaml, String newYaml) {
        return new AdmissionPolicies.Request(
                        "UPDATE",
                        group,
                        resource,
                        "",
                        "",
                        username,
                        List.of("system:authenticated"),
                        AdmissionPolicies.fromYaml(newYaml),
                        null)
                .withOld(AdmissionPolicies.fromYaml(oldYaml));
    }

    private static boolean admitted(AdmissionPolicies.Request request) {
        return SHIPPED.refusals(request).isEmpty();
    }

    /** A pod spec running as {@code account}, spelled with the field {@code field}, indented by {@code indent}. */
    private static String podSpec(String indent, String field, String account, String image) {
        return indent + field + ": " + account + "\n" + indent + "containers:\n" + indent
                + "  - {name: istio-proxy, image: " + image + "}\n";
    }

    private static String podSpec(String indent, String account) {
        return podSpec(indent, "serviceAccountName", account, "docker.io/istio/proxyv2:1.30.0");
    }

    private static String pod(String name, String spec) {
        return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: payments\n"
                + "  labels: {gateway.networking.k8s.io/gateway-name: meshguard-waypoint}\n"
                + "  ownerReferences:\n    - {apiVersion: apps/v1, kind: ReplicaSet, name: meshguard-waypoint-6d4cf56db6,"
                + " controller: true, uid: 4f1c}\n"
                + "spec:\n" + spec;
    }

    /** A Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or ReplicationController with a pod template. */
    private static String templated(String kind, String name, String owner, String spec) {
        return "kind: " + kind + "\nmetadata:\n  name: " + name + "\n  namespace: payments\n" + owner
                + "spec:\n  replicas: 1\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n" + spec;
    }

    private static final String OWNED_BY_THE_GATEWAY = "  ownerReferences:\n"
            + "    - {apiVersion: gateway.networking.k8s.io/v1beta1, kind: Gateway, name: meshguard-waypoint, uid: 9a1e}\n";
    private static final String OWNED_BY_THE_DEPLOYMENT = "  ownerReferences:\n"
            + "    - {apiVersion: apps/v1, kind: Deployment, name: meshguard-waypoint, controller: true, uid: 77b0}\n";

    private static final String ISTIODS_DEPLOYMENT =
            templated("Deployment", WAYPOINT, OWNED_BY_THE_GATEWAY, podSpec("      ", WAYPOINT));
    private static final String ISTIODS_REPLICASET = templated(
            "ReplicaSet", "meshguard-waypoint-6d4cf56db6", OWNED_BY_THE_DEPLOYMENT, podSpec("      ", WAYPOINT));
    private static final String ISTIODS_POD = pod("meshguard-waypoint-6d4cf56db6-x2x7k", podSpec("  ", WAYPOINT));

    @Test
    void policy_failsClosed_andIsBoundToDeny() {
        var docs = YamlDocuments.read(RepoPaths.manifests().resolve("admission/waypoint-identity.yaml"));
        var policy = StrictKubernetesModels.parse(docs.get(0), AdmissionPolicy.Policy.class);
        var binding = StrictKubernetesModels.parse(docs.get(1), AdmissionPolicy.Binding.class);
        assertThat(policy.spec().failurePolicy()).isEqualTo("Fail");
        assertThat(binding.spec().policyName()).isEqualTo(policy.metadata().getName());
        assertThat(binding.spec().validationActions()).containsExactly("Deny");
    }

    @Test
    void theChainIstiodCreatesTheWaypointBy_isAdmitted() {
        assertThat(SHIPPED.refusals(create("apps", "deployments", ISTIOD, List.of(), ISTIODS_DEPLOYMENT)))
                .isEmpty();
        assertThat(admitted(update(
                        "apps",
                        "deployments",
                        ISTIOD,
                        ISTIODS_DEPLOYMENT,
                        ISTIODS_DEPLOYMENT.replace("proxyv2:1.30.0", "proxyv2:1.30.1"))))
                .isTrue();
        assertThat(admitted(create("apps", "replicasets", DEPLOYMENT_CONTROLLER, List.of(), ISTIODS_REPLICASET)))
                .isTrue();
        assertThat(admitted(update(
                        "apps",
                        "replicasets",
                        DEPLOYMENT_CONTROLLER,
                        ISTIODS_REPLICASET,
                        ISTIODS_REPLICASET.replace("replicas: 1", "replicas: 0"))))
                .isTrue();
        assertThat(admitted(create("", "pods", REPLICASET_CONTROLLER, List.of(), ISTIODS_POD)))
                .isTrue();
        // the kubelet's token for the pod it runs (projected istio-token volume)
        assertThat(admitted(tokenRequest(KUBELET, NODE_GROUPS, "Pod"))).isTrue();
    }

    @Test
    void podAsTheWaypointAccount_notCreatedByTheReplicaSetController_isRefused_inEverySpelling() {
        for (String field : List.of("serviceAccountName", "serviceAccount")) {
            String spec = podSpec("  ", field, WAYPOINT, "registry.example/curl:8");
            for (String who : List.of(USER, ISTIOD, DEPLOYMENT_CONTROLLER, "system:serviceaccount:ci:deployer")) {
                assertThat(admitted(create("", "pods", who, USER_GROUPS, pod("debug", spec))))
                        .as("%s by %s", field, who)
                        .isFalse();
            }
        }
        // kubectl debug --copy-to: a copy of the waypoint's own pod, by a user
        assertThat(admitted(create("", "pods", USER, USER_GROUPS, ISTIODS_POD))).isFalse();
    }

    @Test
    void everyOtherWorkloadKind_runningAsTheWaypointAccount_isRefused_whoeverCreatesIt() {
        String template = podSpec("      ", WAYPOINT);
        List<AdmissionPolicies.Request> requests = List.of(
                create("apps", "deployments", USER, USER_GROUPS, ISTIODS_DEPLOYMENT),
                create("apps", "replicasets", USER, USER_GROUPS, ISTIODS_REPLICASET),
                create("apps", "statefulsets", USER, USER_GROUPS, templated("StatefulSet", "s", "", template)),
                create("apps", "daemonsets", USER, USER_GROUPS, templated("DaemonSet", "d", "", template)),
                create("batch", "jobs", USER, USER_GROUPS, templated("Job", "j", "", template)),
                create(
                        "",
                        "replicationcontrollers",
                        USER,
                        USER_GROUPS,
                        templated("ReplicationController", "r", "", template)),
                create("batch", "cronjobs", USER, USER_GROUPS, cronJob(podSpec("          ", WAYPOINT))),
                create(
                        "batch",
                        "cronjobs",
                        USER,
                        USER_GROUPS,
                        cronJob(podSpec("          ", "serviceAccount", WAYPOINT, "curl"))),
                // istiod's identity creates no other kind, and no Deployment but the waypoint's own
                create("batch", "jobs", ISTIOD, List.of(), templated("Job", "j", "", template)),
                create("apps", "statefulsets", ISTIOD, List.of(), templated("StatefulSet", "s", "", template)),
                create("apps", "deployments", ISTIOD, List.of(), templated("Deployment", "other-gw", "", template)),
                create("apps", "deployments", ISTIOD, List.of(), templated("Deployment", WAYPOINT, "", template)),
                // another Gateway that took the waypoint's Deployment name (gateway.istio.io/name-override)
                create(
                        "apps",
                        "deployments",
                        ISTIOD,
                        List.of(),
                        templated(
                                "Deployment",
                                WAYPOINT,
                                OWNED_BY_THE_GATEWAY.replace("name: meshguard-waypoint", "name: team-gw"),
                                template)),
                // the deployment controller makes ReplicaSets only for the waypoint's Deployment
                create(
                        "apps",
                        "replicasets",
                        DEPLOYMENT_CONTROLLER,
                        List.of(),
                        templated(
                                "ReplicaSet", "api-5b9", OWNED_BY_THE_DEPLOYMENT.replace(WAYPOINT, "api"), template)));
        for (AdmissionPolicies.Request r : requests) {
            assertThat(admitted(r))
                    .as("%s by %s: %s", r.resource(), r.username(), r.object())
                    .isFalse();
        }
    }

    @Test
    void changingTheWaypointsPodTemplate_byAnyoneButItsChain_isRefused() {
        String otherImage = ISTIODS_DEPLOYMENT.replace("docker.io/istio/proxyv2:1.30.0", "registry.example/shell:1");
        assertThat(admitted(update("apps", "deployments", USER, ISTIODS_DEPLOYMENT, otherImage)))
                .isFalse();
        // kubectl rollout restart edits the template's annotations: the pod template is istiod's alone
        String restarted = ISTIODS_DEPLOYMENT.replace(
                "      labels: {app: x}\n",
                "      labels: {app: x}\n      annotations: {kubectl.kubernetes.io/restartedAt: \"2026-11-28\"}\n");
        assertThat(admitted(update("apps", "deployments", USER, ISTIODS_DEPLOYMENT, restarted)))
                .isFalse();
        assertThat(admitted(update(
                        "apps",
                        "replicasets",
                        USER,
                        ISTIODS_REPLICASET,
                        ISTIODS_REPLICASET.replace("docker.io/istio/proxyv2:1.30.0", "registry.example/shell:1"))))
                .isFalse();
        // a running pod's image is mutable: kubectl set image on the waypoint's pod
        assertThat(admitted(update("", "pods", USER, ISTIODS_POD, ISTIODS_POD.replace("proxyv2:1.30.0", "shell:1"))))
                .isFalse();
        // a Deployment of another account switched to the waypoint's
        String api = templated("Deployment", "api", "", podSpec("      ", "api"));
        assertThat(admitted(update(
                        "apps",
                        "deployments",
                        USER,
                        api,
                        api.replace("serviceAccountName: api", "serviceAccountName: " + WAYPOINT))))
                .isFalse();
    }

    @Test
    void metadataOnlyChangesToTheWaypointsObjects_areAdmitted() {
        // the garbage collector orphaning, kubectl label: the pod spec stays istiod's
        String relabelled = ISTIODS_POD.replace(
                "gateway-name: meshguard-waypoint}", "gateway-name: meshguard-waypoint," + " team: payments}");
        assertThat(admitted(update("", "pods", USER, ISTIODS_POD, relabelled))).isTrue();
        String orphaned = ISTIODS_REPLICASET.replace(OWNED_BY_THE_DEPLOYMENT, "");
        assertThat(admitted(update(
                        "apps",
                        "replicasets",
                        "system:serviceaccount:kube-system:generic-garbage-collector",
                        ISTIODS_REPLICASET,
                        orphaned)))
                .isTrue();
    }

    @Test
    void ephemeralContainerOnAPodOfTheWaypointAccount_isRefused() {
        String withDebug =
                ISTIODS_POD + "  ephemeralContainers:\n    - {name: debugger, image: busybox, targetContainerName:"
                        + " istio-proxy}\n";
        var request = new AdmissionPolicies.Request(
                        "UPDATE",
                        "",
                        "pods",
                        "ephemeralcontainers",
                        "meshguard-waypoint-6d4cf56db6-x2x7k",
                        USER,
                        USER_GROUPS,
                        AdmissionPolicies.fromYaml(withDebug),
                        null)
                .withOld(AdmissionPolicies.fromYaml(ISTIODS_POD));
        assertThat(admitted(request)).isFalse();
        // the same on an application pod is not this policy's business
        String api = pod("api-0", podSpec("  ", "api"));
        assertThat(admitted(new AdmissionPolicies.Request(
                                "UPDATE",
                                "",
                                "pods",
                                "ephemeralcontainers",
                                "api-0",
                                USER,
                                USER_GROUPS,
                                AdmissionPolicies.fromYaml(api + "  ephemeralContainers:\n    - {name: d, image: b}\n"),
                                null)
                        .withOld(AdmissionPolicies.fromYaml(api))))
                .isTrue();
    }

    private static AdmissionPolicies.Request connect(String subResource, String podName) {
        return new AdmissionPolicies.Request(
                "CONNECT",
                "",
                "pods",
                subResource,
                podName,
                USER,
                USER_GROUPS,
                AdmissionPolicies.fromYaml("kind: PodExecOptions\ncontainer: istio-proxy\ncommand: [sh]\n"),
                null);
    }

    @Test
    void execOrAttachIntoTheWaypointsPods_isRefused() {
        for (String sub : List.of("exec", "attach")) {
            assertThat(admitted(connect(sub, "meshguard-waypoint-6d4cf56db6-x2x7k")))
                    .as(sub)
                    .isFalse();
            assertThat(admitted(connect(sub, "api-7c9d-abcde"))).as(sub).isTrue();
        }
    }

    private static AdmissionPolicies.Request tokenRequest(String username, List<String> groups, String boundKind) {
        String bound = boundKind.isEmpty()
                ? ""
                : "  boundObjectRef: {apiVersion: v1, kind: " + boundKind
                        + ", name: meshguard-waypoint-6d4cf56db6-x2x7k}\n";
        return new AdmissionPolicies.Request(
                "CREATE",
                "",
                "serviceaccounts",
                "token",
                WAYPOINT,
                username,
                groups,
                AdmissionPolicies.fromYaml(
                        "kind: TokenRequest\nmetadata: {name: meshguard-waypoint}\nspec:\n  audiences: [istio-ca]\n"
                                + bound),
                null);
    }

    @Test
    void tokenForTheWaypointAccount_forAnyoneButTheKubeletOfItsPod_isRefused() {
        // kubectl create token meshguard-waypoint --audience istio-ca: istiod signs a workload certificate for it
        assertThat(admitted(tokenRequest(USER, USER_GROUPS, ""))).isFalse();
        assertThat(admitted(tokenRequest(USER, USER_GROUPS, "Pod"))).isFalse();
        assertThat(admitted(tokenRequest(ISTIOD, List.of(), ""))).isFalse();
        assertThat(admitted(tokenRequest(KUBELET, NODE_GROUPS, "Secret"))).isFalse();
        assertThat(admitted(tokenRequest(KUBELET, NODE_GROUPS, ""))).isFalse();
        // a name that merely looks like a node's, without the nodes group
        assertThat(admitted(tokenRequest("system:node:evil", USER_GROUPS, "Pod")))
                .isFalse();
        // tokens of other accounts are not this policy's business
        var other = tokenRequest(USER, USER_GROUPS, "");
        assertThat(admitted(new AdmissionPolicies.Request(
                        "CREATE", "", "serviceaccounts", "token", "api", USER, USER_GROUPS, other.object(), null)))
                .isTrue();
    }

    @Test
    void legacyTokenSecretForTheWaypointAccount_isRefused() {
        String secret =
                "kind: Secret\nmetadata:\n  name: wp-token\n  annotations: {kubernetes.io/service-account.name: %s}\n"
                        + "type: kubernetes.io/service-account-token\n";
        assertThat(admitted(create("", "secrets", USER, USER_GROUPS, secret.formatted(WAYPOINT))))
                .isFalse();
        assertThat(admitted(create("", "secrets", USER, USER_GROUPS, secret.formatted("api"))))
                .isTrue();
        assertThat(admitted(
                        create("", "secrets", USER, USER_GROUPS, "kind: Secret\nmetadata: {name: db}\ntype: Opaque\n")))
                .isTrue();
    }

    private static String gateway(String name, String annotations, String infrastructure) {
        return "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: " + name + "\n"
                + annotations
                + "spec:\n  gatewayClassName: istio-waypoint\n" + infrastructure
                + "  listeners:\n    - {name: mesh, port: 15008, protocol: HBONE}\n";
    }

    @Test
    void gatewayThatMakesIstiodRunSomethingElseAsTheWaypointAccount_isRefused() {
        for (String annotation : List.of("gateway.istio.io/service-account", "gateway.istio.io/name-override")) {
            assertThat(admitted(create(
                            "gateway.networking.k8s.io",
                            "gateways",
                            USER,
                            USER_GROUPS,
                            gateway("team-gw", "  annotations: {" + annotation + ": meshguard-waypoint}\n", ""))))
                    .as(annotation)
                    .isFalse();
        }
        // a parametersRef overlay (a ConfigMap of the namespace) would let its author rewrite the waypoint's pod
        assertThat(
                        admitted(
                                create(
                                        "gateway.networking.k8s.io",
                                        "gateways",
                                        USER,
                                        USER_GROUPS,
                                        gateway(
                                                WAYPOINT,
                                                "",
                                                "  infrastructure:\n    parametersRef: {group: \"\", kind: ConfigMap, name: overlay}\n"))))
                .isFalse();
        // an image of one's choosing, run as the waypoint
        String shell = "  annotations: {sidecar.istio.io/proxyImage: registry.example/shell:1}\n";
        assertThat(admitted(create(
                        "gateway.networking.k8s.io", "gateways", USER, USER_GROUPS, gateway(WAYPOINT, shell, ""))))
                .isFalse();
        // other Gateways may pick their image and overlay: they run as their own account
        String overlay = "  infrastructure:\n    parametersRef: {group: \"\", kind: ConfigMap, name: overlay}\n";
        assertThat(admitted(create(
                        "gateway.networking.k8s.io",
                        "gateways",
                        USER,
                        USER_GROUPS,
                        gateway("team-gw", shell, overlay))))
                .isTrue();
        assertThat(admitted(
                        create("gateway.networking.k8s.io", "gateways", USER, USER_GROUPS, gateway("team-gw", "", ""))))
                .isTrue();
    }

    @Test
    void theShippedWaypointGateway_isAdmitted() throws Exception {
        String kit = Files.readString(RepoPaths.manifests().resolve("ambient/kit/waypoint.yaml"));
        assertThat(admitted(create("gateway.networking.k8s.io", "gateways", USER, USER_GROUPS, kit)))
                .isTrue();
    }

    @Test
    void otherServiceAccounts_areUntouched() {
        for (String account : List.of("api", "default", "meshguard-waypoint-ops", "waypoint")) {
            String template = podSpec("      ", account);
            assertThat(admitted(create("", "pods", USER, USER_GROUPS, pod("api-0", podSpec("  ", account)))))
                    .as(account)
                    .isTrue();
            assertThat(admitted(create(
                            "apps", "deployments", USER, USER_GROUPS, templated("Deployment", "api", "", template))))
                    .as(account)
                    .isTrue();
            assertThat(admitted(create("batch", "jobs", USER, USER_GROUPS, templated("Job", "j", "", template))))
                    .as(account)
                    .isTrue();
            assertThat(admitted(
                            create("batch", "cronjobs", USER, USER_GROUPS, cronJob(podSpec("          ", account)))))
                    .as(account)
                    .isTrue();
        }
    }

    private static String cronJob(String spec) {
        return "kind: CronJob\nmetadata: {name: nightly}\nspec:\n  schedule: \"0 2 * * *\"\n  jobTemplate:\n    spec:\n"
                + "      template:\n        spec:\n" + spec;
    }
}
