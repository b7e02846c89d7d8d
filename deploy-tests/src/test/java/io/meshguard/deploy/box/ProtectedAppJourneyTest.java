package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The bank's app in namespace {@code payments} labelled as manifests/istio/README.md step 4 says
 * ({@code meshguard.io/protected} and {@code meshguard.io/dlp}) and called inside the mesh, not through the gateway:
 * from another injected pod (the bank's client pod in {@code meshguard-xds-clients}) by the Service's name, through
 * the caller's sidecar with mTLS, into the app's sidecar, where the CUSTOM provider's ext_authz (the mesh config of
 * istiod-values.yaml) calls the real extauthz pod and the DLP EnvoyFilter's ext_proc the real DLP pod. No credential
 * is 401 from meshguard; a customer's token of the bank's IdP is 200 with the identity headers in, the token out and
 * the card masked, and extauthz's audit names the caller's workload as the Check's source principal. Attackers: a
 * caller without a sidecar is reset (STRICT) before any request, and a mesh pod that sends identity headers of its
 * own is refused as a forger.
 */
@Tag("cluster")
class ProtectedAppJourneyTest extends BoxJourney {
    private static final String URL = "http://" + ServiceDirectory.fqdn(BankApp.NAME, BankApp.NAMESPACE) + ":"
            + BankApp.PORT + "/accounts/v1/balances";
    private static BoxPod caller;
    private static BoxPod app;

    @BeforeAll
    static void bankApps() throws Exception {
        box.bankApps(); // the caller pod's sidecar is up
        caller = box.proxylessClientPod();
        app = box.pod("Deployment/" + BankApp.NAME);
    }

    @Test
    void inMesh_labelledApp_isCheckedAndScannedInItsOwnSidecar_identityIn_credentialOut_cardsMasked() throws Exception {
        // no credential: extauthz's 401, through the app's sidecar. 503 (status_on_error) while extauthz's first
        // answer takes longer than the provider's 1 s timeout on a loaded machine
        String noToken = inMesh("x-tenant-id:acme-corp");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (MeshHttpCall.status(noToken) == 503 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            noToken = inMesh("x-tenant-id:acme-corp");
        }
        assertThat(MeshHttpCall.status(noToken))
                .as("no credential: %s\napp's sidecar:\n%s", noToken, box.sidecarLog(app, 30))
                .isEqualTo(401);

        String requestId = UUID.randomUUID().toString();
        String allowed = inMesh(
                "authorization:Bearer " + idp.customerToken(), "x-tenant-id:acme-corp", "x-request-id:" + requestId);
        assertThat(MeshHttpCall.status(allowed))
                .as("%s\napp's sidecar:\n%s", allowed, box.sidecarLog(app, 30))
                .isEqualTo(200);
        String body = MeshHttpCall.body(allowed);
        JsonNode answer = MeshHttpCall.echoed(body);
        JsonNode received = answer.path("headers");
        assertThat(received.path("x-user-id").asText()).as(body).isNotEmpty();
        assertThat(received.path("x-tenant-id").asText()).as(body).isEqualTo("acme-corp");
        assertThat(received.path("x-auth-method").asText()).as(body).isEqualTo("jwt");
        assertThat(received.path("x-client-id").asText()).as(body).isEqualTo(BankIdentityProvider.CUSTOMER_CLIENT);
        assertThat(received.has("authorization"))
                .as("the credential is stripped: %s", body)
                .isFalse();
        // the app's sidecar, not a gateway, handed the request on: Envoy's XFCC names the caller's certificate
        assertThat(received.path("x-forwarded-client-cert").asText())
                .as(body)
                .contains("URI=" + BankApps.clientIdentity());
        assertThat(body)
                .as("the DLP EnvoyFilter's ext_proc masks the card")
                .doesNotContain(BankApp.CARD)
                .doesNotContain(BankApp.CARD.replace(" ", ""));
        assertThat(answer.path("statement").asText()).as(body).contains("6467");

        // extauthz's own record: the Check came from the app's sidecar, for the caller's mTLS identity
        JsonNode decision = BankPipeline.signIn(box, idp)
                .auditedDecision(requestId)
                .orElseThrow(() -> new AssertionError("no authz_decision for request " + requestId + " in the audit"));
        assertThat(decision.findValue("source_principal").asText())
                .as("%s", decision)
                .isEqualTo(BankApps.clientIdentity());
        assertThat(decision.toString())
                .as("the bank's rule for its app decided")
                .contains(BankApp.RULE);
    }

    @Test
    void attackers_aCallerWithoutSidecarIsReset_andAMeshPodForgingIdentityHeadersIsRefused() throws Exception {
        // a pod outside the mesh (the bank's PostgreSQL pod has no sidecar): STRICT refuses it before any request
        BoxPod outside = box.pods().stream()
                .filter(p -> p.namespace().equals(ExternalParts.NAMESPACE))
                .findFirst()
                .orElseThrow();
        String plaintext = box.runInPod(
                outside,
                Optional.empty(),
                MeshHttpCall.class,
                URL,
                "authorization:Bearer " + idp.customerToken(),
                "x-tenant-id:acme-corp");
        assertThat(plaintext).as("plaintext caller").contains("FAILED").doesNotContain("STATUS");
        assertThat(box.sidecarLog(app, 60)).contains("closed: STRICT");

        // a mesh pod that claims to be someone else next to a valid token: only the gateway's headers are believed
        String forged = inMesh(
                "authorization:Bearer " + idp.customerToken(), "x-tenant-id:acme-corp", "x-user-id:the-bank-ceo");
        assertThat(MeshHttpCall.status(forged)).as("%s", forged).isEqualTo(403);
        assertThat(forged).contains("forged_identity_header");
    }

    private static String inMesh(String... headers) throws InterruptedException {
        return MeshHttpCall.from(box, caller, Optional.of(BankApps.USER), URL, headers);
    }
}
