package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicyAction;
import io.fabric8.istio.api.security.v1.AuthorizationPolicy;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.xds.XdsSettings;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The access-log receiver has a port of its own on the DLP pod, and only proxies may reach it: the ext_proc port
 * admits every mesh identity (any protected sidecar opens DLP streams), so a receiver on it took audit rows from any
 * workload that could speak gRPC. The manifests set {@code audit.als.port}, expose it on the Service, point the mesh
 * provider and the gateway's access log at it, and admit on it only the proxy identities {@code audit.als.senders}
 * names; the NetworkPolicies still let those proxies connect.
 */
class AccessLogPortManifestTest {
    private final Manifests manifests = Manifests.sources();

    private int alsPort() {
        Workload dlp = manifests.workload("meshguard-dlp");
        return Integer.parseInt(SubscriptionStateFlowManifestTest.env(dlp, AuditConfig.ALS_PORT.envVar())
                .orElseThrow(() -> new AssertionError("meshguard-dlp sets no " + AuditConfig.ALS_PORT.envVar()
                        + ": the receiver is served on the ext_proc port every mesh identity may call")));
    }

    @Test
    void dlp_servesAccessLogsOnAPortOfItsOwn_exposedByItsService_andNamedByTheProviderAndTheGateway() throws Exception {
        int als = alsPort();
        Workload dlp = manifests.workload("meshguard-dlp");
        int extProc = Integer.parseInt(SubscriptionStateFlowManifestTest.env(dlp, "MESHGUARD_GRPC_PORT")
                .orElseThrow());
        assertThat(als).isNotEqualTo(extProc);
        List<ContainerPort> ports =
                dlp.template().getSpec().getContainers().getFirst().getPorts();
        ContainerPort container = ports.stream()
                .filter(p -> p.getContainerPort() == als)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no container port " + als));
        Service service = manifests.service("meshguard-dlp");
        ServicePort servicePort = service.getSpec().getPorts().stream()
                .filter(p -> container.getName().equals(p.getTargetPort().getStrVal()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("the Service does not expose " + container.getName()));
        assertThat(servicePort.getName()).startsWith("grpc-");

        IstiodValues.HttpGrpcAccessLog provider = IstiodValues.read(
                        RepoPaths.manifests().resolve("mesh/istiod-values.yaml"))
                .provider("meshguard-als")
                .orElseThrow()
                .envoyHttpAls()
                .orElseThrow();
        assertThat(provider.port()).as("meshguard-als provider port").isEqualTo(servicePort.getPort());
        assertThat(SubscriptionStateFlowManifestTest.env(
                        manifests.workload("meshguard-xds"), XdsSettings.ACCESS_LOG_TARGET.envVar()))
                .as("the gateway's access log")
                .contains("meshguard-dlp.meshguard.svc.cluster.local:" + servicePort.getPort());
    }

    @Test
    void alsPort_admitsProxiesOnly_extProcPortStillAdmitsEveryMeshIdentity() {
        int als = alsPort();
        List<AuthorizationPolicy> allow = manifests
                .models("AuthorizationPolicy", AuthorizationPolicy.class)
                .filter(p -> p.getSpec().getAction() == AuthorizationPolicyAction.ALLOW)
                .filter(p -> "meshguard-dlp"
                        .equals(p.getSpec().getSelector().getMatchLabels().get("app.kubernetes.io/name")))
                .toList();
        Map<String, Boolean> expected = Map.of(
                "cluster.local/ns/meshguard/sa/meshguard-gateway", true,
                "cluster.local/ns/shop/sa/meshguard-waypoint", true,
                "cluster.local/ns/payments/sa/payments-api", true,
                "cluster.local/ns/evil/sa/default", false,
                "cluster.local/ns/meshguard/sa/meshguard-extauthz", false,
                "cluster.local/ns/payments-evil/sa/x", false);
        expected.forEach((principal, admitted) -> assertThat(admits(allow, principal, als))
                .as("%s on the access-log port %d", principal, als)
                .isEqualTo(admitted));
        assertThat(admits(allow, "cluster.local/ns/evil/sa/default", 9002))
                .as("ext_proc: every protected sidecar")
                .isTrue();
    }

    @Test
    void alsPolicy_admitsEverySenderTheReceiverTakesRowsFrom() {
        int als = alsPort();
        List<AuthorizationPolicy> allow = manifests
                .models("AuthorizationPolicy", AuthorizationPolicy.class)
                .filter(p -> p.getSpec().getAction() == AuthorizationPolicyAction.ALLOW)
                .toList();
        String senders = SubscriptionStateFlowManifestTest.env(
                        manifests.workload("meshguard-dlp"), AuditConfig.ALS_SENDERS.envVar())
                .orElseThrow();
        for (String entry : senders.split(",")) {
            // one concrete identity per entry: '*' as one path segment
            String principal = entry.substring(entry.indexOf("spiffe://") + "spiffe://".length())
                    .replace("*", "some-name");
            assertThat(admits(allow, principal, als)).as(entry).isTrue();
        }
    }

    @Test
    void networkPolicies_letTheGatewayAndAnAppNamespaceReachTheAccessLogPort() {
        int als = alsPort();
        NetworkPolicyFlows flows = NetworkPolicyFlows.of(manifests);
        Workload dlp = manifests.workload("meshguard-dlp");
        NetworkPolicyFlows.Pod dlpPod = new NetworkPolicyFlows.Pod(
                dlp.metadata().getNamespace(), dlp.template().getMetadata().getLabels());
        Workload gateway = manifests.workload("meshguard-gateway");
        assertThat(flows.admits(
                        new NetworkPolicyFlows.Pod(
                                gateway.metadata().getNamespace(),
                                gateway.template().getMetadata().getLabels()),
                        dlpPod,
                        als))
                .as("gateway -> dlp:%d", als)
                .isTrue();
        assertThat(flows.admits(new NetworkPolicyFlows.Pod("payments", Map.of("app", "payments-api")), dlpPod, als))
                .as("an application sidecar -> dlp:%d", als)
                .isTrue();
    }

    /**
     * Whether the union of {@code allow} admits {@code principal} on {@code port}, with Istio's principal matching:
     * exact, {@code *}, or one leading or trailing {@code *} (a prefix or suffix match).
     */
    private static boolean admits(List<AuthorizationPolicy> allow, String principal, int port) {
        return allow.stream()
                .flatMap(p -> p.getSpec().getRules().stream())
                .anyMatch(rule -> rule.getFrom().stream()
                                .anyMatch(f ->
                                        Optional.ofNullable(f.getSource().getPrincipals()).orElse(List.of()).stream()
                                                .anyMatch(p -> istioMatch(p, principal)))
                        && rule.getTo().stream()
                                .anyMatch(t -> t.getOperation().getPorts().contains(String.valueOf(port))));
    }

    private static boolean istioMatch(String pattern, String value) {
        if (pattern.equals("*")) {
            return true;
        }
        if (pattern.startsWith("*")) {
            return value.endsWith(pattern.substring(1));
        }
        if (pattern.endsWith("*")) {
            return value.startsWith(pattern.substring(0, pattern.length() - 1));
        }
        return pattern.equals(value);
    }
}
