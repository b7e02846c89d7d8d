package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicyAction;
import io.fabric8.istio.api.security.v1.AuthorizationPolicy;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Service;
import io.meshguard.extauthz.subscription.SubscriptionStateSettings;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.server.PeerIdentity;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Review 4, R4-01: extauthz follows the controller's subscription state (product routes), and every layer between
 * the two pods lets that stream through: the setting names the controller's ADS Service port, the Kubernetes
 * NetworkPolicies admit the connection on both ends, Istio's ALLOW policy on the controller admits extauthz's
 * principal on that port, and the controller's ADS grants give extauthz's identity the group its stream names.
 */
class SubscriptionStateFlowManifestTest {
    /** The group extauthz's subscription-state stream names in its node ({@code SubscriptionStateClient}). */
    private static final String EXTAUTHZ_GROUP = "meshguard-extauthz";

    private final Manifests manifests = Manifests.sources();

    static Optional<String> env(Workload workload, String name) {
        Container c = workload.template().getSpec().getContainers().getFirst();
        return Optional.ofNullable(c.getEnv()).orElse(List.of()).stream()
                .filter(e -> e.getName().equals(name))
                .map(EnvVar::getValue)
                .findFirst();
    }

    private String controller() {
        return env(manifests.workload("meshguard-extauthz"), SubscriptionStateSettings.CONTROLLER.envVar())
                .orElseThrow(() -> new AssertionError("meshguard-extauthz sets no "
                        + SubscriptionStateSettings.CONTROLLER.envVar() + ": product routes answer 503"));
    }

    private int controllerPort() {
        return Integer.parseInt(controller().split(":")[1]);
    }

    private static NetworkPolicyFlows.Pod pod(Workload w) {
        return new NetworkPolicyFlows.Pod(
                w.metadata().getNamespace(), w.template().getMetadata().getLabels());
    }

    private String principal(Workload w) {
        return "cluster.local/ns/" + w.metadata().getNamespace() + "/sa/"
                + w.template().getSpec().getServiceAccountName();
    }

    @Test
    void extauthz_followsTheControllersAdsServicePort() {
        String[] hostPort = controller().split(":");
        assertThat(hostPort[0]).isEqualTo("meshguard-xds.meshguard.svc.cluster.local");
        MeshConfigTest.assertGrpcServicePort(manifests, hostPort[0], Integer.parseInt(hostPort[1]));
        Service xds = manifests.service("meshguard-xds");
        assertThat(xds.getSpec().getPorts())
                .filteredOn(p -> p.getPort() == controllerPort())
                .singleElement()
                .satisfies(p -> assertThat(p.getTargetPort().getStrVal()).isEqualTo("grpc-ads"));
    }

    @Test
    void networkPolicies_admitExtauthzToTheControllersAdsPort_onBothEnds() {
        NetworkPolicyFlows flows = NetworkPolicyFlows.of(manifests);
        Workload extauthz = manifests.workload("meshguard-extauthz");
        Workload xds = manifests.workload("meshguard-xds");
        assertThat(flows.admits(pod(extauthz), pod(xds), 18000))
                .as("extauthz -> xds:18000")
                .isTrue();
        // and the flow the rules were written for still stands, while an unrelated pod stays out
        assertThat(flows.admits(pod(manifests.workload("meshguard-gateway")), pod(xds), 18000))
                .isTrue();
        assertThat(flows.admits(pod(manifests.workload("meshguard-dlp")), pod(xds), 18000))
                .isFalse();
    }

    @Test
    void controllersAllowPolicy_admitsExtauthzsPrincipalOnTheAdsPort() {
        String extauthz = principal(manifests.workload("meshguard-extauthz"));
        String dlp = principal(manifests.workload("meshguard-dlp"));
        List<AuthorizationPolicy> allow = manifests
                .models("AuthorizationPolicy", AuthorizationPolicy.class)
                .filter(p -> p.getSpec().getAction() == AuthorizationPolicyAction.ALLOW)
                .filter(p -> "meshguard-xds"
                        .equals(p.getSpec().getSelector().getMatchLabels().get("app.kubernetes.io/name")))
                .toList();
        assertThat(allowsPrincipalOnPort(allow, extauthz, controllerPort()))
                .as(extauthz)
                .isTrue();
        assertThat(allowsPrincipalOnPort(allow, dlp, controllerPort())).as(dlp).isFalse();
    }

    private static boolean allowsPrincipalOnPort(List<AuthorizationPolicy> allow, String principal, int port) {
        return allow.stream()
                .flatMap(p -> p.getSpec().getRules().stream())
                .anyMatch(rule -> rule.getFrom().stream()
                                .anyMatch(f ->
                                        Optional.ofNullable(f.getSource().getPrincipals()).orElse(List.of()).stream()
                                                .anyMatch(p -> p.equals(principal) || p.equals("*")))
                        && rule.getTo().stream()
                                .anyMatch(t -> t.getOperation().getPorts().contains(String.valueOf(port))));
    }

    @Test
    void adsGrants_giveExtauthzsIdentityItsGroup_andOnlyThatIdentity() {
        Workload xds = manifests.workload("meshguard-xds");
        AdsPeerPolicy policy = AdsPeerPolicy.of(
                env(xds, XdsSettings.ADS_PEER_IDENTITY.envVar()).orElseThrow(),
                AdsPeerPolicy.ISTIO_INBOUND_SOURCES,
                List.of(env(xds, XdsSettings.ADS_GROUP_IDENTITIES.envVar())
                        .orElseThrow()
                        .split(",")));
        assertThat(policy.allows(
                        new PeerIdentity("spiffe://" + principal(manifests.workload("meshguard-extauthz"))),
                        EXTAUTHZ_GROUP))
                .isTrue();
        assertThat(policy.allows(
                        new PeerIdentity("spiffe://" + principal(manifests.workload("meshguard-gateway"))),
                        EXTAUTHZ_GROUP))
                .as("the gateway reads no subscription state")
                .isFalse();
    }
}
