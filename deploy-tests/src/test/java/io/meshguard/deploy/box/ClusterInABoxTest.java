package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * meshguard as docs/install.md installs it, in the cluster in a box: every pod from the rendered manifests, and the
 * journeys a bank's first day takes through them. Runs only with {@code -Pcluster} (deploy-tests/README.md).
 */
@Tag("cluster")
class ClusterInABoxTest {
    private static ClusterInABox box;
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void install() throws Exception {
        box = SharedBox.get();
    }

    @Test
    void install_everyPodOfTheManifests_becomesReady() {
        assertThat(box.failures())
                .as(
                        "pods that did not become Ready (timeline: %s; not modelled: %s)",
                        box.timeline(), box.notModelled())
                .isEmpty();
    }

    @Test
    void gateway_beforeTheFirstPublish_isNotReadyAndNamesTheConfigItWaitsFor() {
        // docs/install.md section 4: the gateway's rollout completes with the first publish of its group; until then
        // its /ready names what the controller has not delivered (a publish journey is not modelled yet)
        assertThat(box.awaitingFirstPublish())
                .as("timeline: %s", box.timeline())
                .containsOnlyKeys(ClusterInABox.GATEWAY);
        assertThat(box.awaitingFirstPublish().get(ClusterInABox.GATEWAY)).contains("missing");
    }

    @Test
    void extauthz_followsTheControllersSubscriptionState() throws Exception {
        BoxPod extauthz = box.pod("StatefulSet/meshguard-extauthz");
        HttpResponse<String> ready = get(extauthz, 9101, "/readyz");
        assertThat(ready.body())
                .as(
                        "extauthz /readyz (%s): product routes need subscription state from the controller (R4-01)",
                        box.dropped(extauthz))
                .contains("following meshguard-xds");
    }

    @Test
    void networkPolicies_letExtauthzReachTheControllersAdsPort() {
        BoxPod extauthz = box.pod("StatefulSet/meshguard-extauthz");
        assertThat(box.reaches(extauthz, "meshguard-xds.meshguard.svc.cluster.local", 18000))
                .as(
                        "extauthz -> meshguard-xds:18000, the subscription-state stream (R4-01; dropped: %s)",
                        box.dropped(extauthz))
                .isTrue();
    }

    @Test
    void istio_controllersSidecarAdmitsExtauthzOnItsAdsPort() {
        BoxPod xds = box.pod("Deployment/meshguard-xds");
        BoxPod extauthz = box.pod("StatefulSet/meshguard-extauthz");
        IstioAuthorization.Decision decision = box.sidecarDecision(xds, 18000, extauthz);
        assertThat(decision.allowed())
                .as("meshguard-xds's sidecar, extauthz on 18000 (R4-01): %s", decision.reason())
                .isTrue();
    }

    @Test
    void networkPolicies_keepTheDlpServerFromRedis() {
        BoxPod dlp = box.pod("StatefulSet/meshguard-dlp");
        BoxPod extauthz = box.pod("StatefulSet/meshguard-extauthz");
        assertThat(box.reaches(extauthz, "redis.bank-data.svc.cluster.local", 6379))
                .as("extauthz -> redis")
                .isTrue();
        assertThat(box.reaches(dlp, "redis.bank-data.svc.cluster.local", 6379))
                .as("dlp -> redis: the dlp NetworkPolicy allows egress to 5432 only")
                .isFalse();
    }

    @Test
    void istio_strictMtls_resetsAPlaintextCallerAndAdmitsAMeshPeer() {
        BoxPod postgres = box.pod("external/postgres");
        // the gateway's network namespace: its Envoy is not modelled, curl stands in for its ext_authz call
        BoxPod gateway = box.pod("Deployment/meshguard-gateway");
        String host = "meshguard-extauthz.meshguard.svc.cluster.local";
        String method = "grpc.health.v1.Health/Check";
        assertThat(box.grpcCall(postgres, host, 9001, method))
                .as("a caller without a sidecar (bank-data)")
                .contains("grpc-status: 14")
                .contains("STRICT");
        assertThat(box.grpcCall(gateway, host, 9001, method))
                .as("the gateway pod, with its sidecar's identity")
                .contains("HTTP/2 200")
                .doesNotContain("grpc-status: 14")
                .doesNotContain("grpc-status: 7");
    }

    @Test
    void istio_outboundSidecar_sendsAnUnknownHostInPlaintext_whichStrictResets() {
        // R4-11: the gateway pod's own sidecar routes its outbound gRPC by :authority among the mesh's Services
        BoxPod gateway = box.pod(ClusterInABox.GATEWAY);
        String host = "meshguard-extauthz.meshguard.svc.cluster.local";
        String method = "grpc.health.v1.Health/Check";
        assertThat(box.grpcCall(gateway, host, 9001, method, java.util.Optional.of("api.bank.example")))
                .as("an authority no Service has (gateway's sidecar: %s)", box.sidecarLog(gateway, 10))
                .contains("grpc-status: 14")
                .contains("STRICT");
        assertThat(box.sidecarLog(gateway, 200)).contains("Host api.bank.example -> PassthroughCluster");
        assertThat(box.grpcCall(gateway, host, 9001, method, java.util.Optional.of(host)))
                .as("the Service's name: routed as the Service, with mTLS")
                .contains("HTTP/2 200")
                .doesNotContain("grpc-status: 14")
                .doesNotContain("grpc-status: 7");
    }

    @Test
    void networkPolicies_letTheControllerReachTheBanksIssuer() throws Exception {
        // admin.oidc.issuer: the console's discovery, JWKS and token calls leave the controller's pod on 443
        box.identityProvider();
        BoxPod xds = box.pod("Deployment/meshguard-xds");
        assertThat(box.reaches(
                        xds,
                        ServiceDirectory.fqdn(ExternalParts.KEYCLOAK, ExternalParts.IDP_NAMESPACE),
                        ExternalParts.KEYCLOAK_PORT))
                .as("meshguard-xds -> the issuer's host on 443 (dropped: %s)", box.dropped(xds))
                .isTrue();
    }

    @Test
    void console_approvalsPage_answersTheSignedInOperator() throws Exception {
        // with sign-in set up as docs/install.md says, an operator signs in through the bank's Keycloak
        BankIdentityProvider idp = box.identityProvider();
        try (PersonsBrowser arne = PersonsBrowser.start(idp.names(box.ingressDoor()))) {
            arne.signIn(BankIdentityProvider.CONSOLE_ORIGIN, idp.approver(), "/console/approvals");
            assertThat(arne.driver.findElement(By.tagName("main")).getText())
                    .as(arne.page())
                    .doesNotContain("runs without the catalogue")
                    .contains("Approvals");
        }
    }

    @Test
    void console_withSignInSetUp_sendsPeopleToTheIssuer_andTheSharedAdminTokenNoLongerSignsIn() throws Exception {
        box.identityProvider();
        BoxPod xds = box.pod("Deployment/meshguard-xds");
        String adminToken = box.secrets().value("meshguard-xds-admin-token", "token");
        HttpResponse<String> signIn = get(xds, 9103, "/console/signin");
        assertThat(signIn.statusCode()).as(signIn.body()).isIn(302, 303);
        assertThat(signIn.headers().firstValue("Location").orElse(""))
                .startsWith(ExternalParts.issuer(BankIdentityProvider.REALM) + "/protocol/openid-connect/auth");
        // one shared identity cannot do four eyes: with an issuer (and admin.break_glass off) the token is refused
        HttpResponse<String> token = HTTP.send(
                HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + box.node().forward(xds.ip(), 9103) + "/groups"))
                        .header("Authorization", "Bearer " + adminToken)
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(token.statusCode()).as(token.body()).isEqualTo(401);
    }

    private static HttpResponse<String> get(BoxPod pod, int port, String path) throws Exception {
        int local = box.node().forward(pod.ip(), port);
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + local + path))
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
