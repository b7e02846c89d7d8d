package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The edge gateway as docs/install.md brings it up: the bank's automation signs in at its Keycloak as the client the
 * guide's realm block creates ({@code meshguard-automation}: client credentials, service account in
 * {@code meshguard-system-admins}; the shared admin token is refused once the issuer is set), puts the gateway
 * configuration through the admin API and publishes it with {@code meshguard xds publish}; the gateway pod (the Envoy
 * emulator fed over ADS from the manifests' bootstrap) becomes Ready and routes to the bank's application in namespace
 * {@code payments} (injected, STRICT mTLS): no credential is 401, a customer's token of the bank's IdP (realm
 * {@code retail} behind its TLS front, the shipped {@code bank-idp} issuer) is 200 with the identity headers the
 * shipped policy sets and without the token, and the card number in the application's answer is masked.
 */
@Tag("cluster")
class GatewayJourneyTest extends BoxJourney {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOST = "api.bank.example";

    @Test
    void automationPublishesTheEdge_theGatewayRoutesAndProtects_identityInCredentialOut_cardsMasked() throws Exception {
        BankPipeline bank = BankPipeline.signIn(box, idp);
        // with an issuer set and break-glass off, the shared admin token no longer opens the admin API
        String shared = box.secrets().value("meshguard-xds-admin-token", "token");
        assertThat(bank.call("GET", "/groups", null, shared).statusCode()).isEqualTo(401);

        bank.edgeAndBankApp();
        bank.api("accounts");
        bank.route("accounts-read", "accounts", "/balances", "accounts-read");
        bank.meshguard("xds", "publish", "--reason", "CHG-1001: accounts behind the edge");

        BoxPod gateway = box.pod(ClusterInABox.GATEWAY);
        InetSocketAddress edge = box.node().local(gateway.ip(), 8080);
        awaitReady(gateway);

        // protected: the accounts route wants a JWT of the bank's IdP. 404 until this publish reached the gateway
        // (another journey's publish may have made it Ready before); 503 while the gateway's first Check waits for its
        // connection to extauthz past the 2 s filter timeout (status_on_error, seen on a machine at load 27)
        EdgeClient.Answer noToken =
                EdgeClient.send(edge, "GET", HOST, "/accounts/v1/balances", Map.of("x-tenant-id", "acme-corp"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((noToken.status() == 404 || noToken.status() == 503) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            noToken = EdgeClient.send(edge, "GET", HOST, "/accounts/v1/balances", Map.of("x-tenant-id", "acme-corp"));
        }
        assertThat(noToken.status()).as("no credential: %s", noToken).isEqualTo(401);

        // a customer's token: identity headers in, the credential out, the card masked
        EdgeClient.Answer allowed = EdgeClient.send(
                edge,
                "GET",
                HOST,
                "/accounts/v1/balances",
                Map.of("Authorization", "Bearer " + idp.customerToken(), "x-tenant-id", "acme-corp"));
        assertThat(allowed.status()).as("%s", allowed).isEqualTo(200);
        JsonNode answer = JSON.readTree(allowed.body());
        JsonNode received = answer.path("headers");
        assertThat(received.path("x-tenant-id").asText()).as(allowed.body()).isEqualTo("acme-corp");
        assertThat(received.path("x-user-id").asText()).as(allowed.body()).isNotEmpty();
        assertThat(received.path("x-auth-method").asText()).as(allowed.body()).isEqualTo("jwt");
        assertThat(received.path("x-user-roles").asText()).as(allowed.body()).contains("customer");
        assertThat(received.path("x-client-id").asText())
                .as(allowed.body())
                .isEqualTo(BankIdentityProvider.CUSTOMER_CLIENT);
        assertThat(received.has("authorization"))
                .as("the credential is stripped: %s", allowed.body())
                .isFalse();
        assertThat(allowed.body())
                .as("the DLP server masks the card")
                .doesNotContain(BankApp.CARD)
                .doesNotContain(BankApp.CARD.replace(" ", ""));
        assertThat(answer.path("statement").asText()).as(allowed.body()).contains("6467");
    }

    /** The kubelet's view: the gateway's readiness probe (its /ready on the health port) until it answers 200. */
    private static void awaitReady(BoxPod gateway) throws Exception {
        InetSocketAddress health = box.node().local(gateway.ip(), 8081);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        EdgeClient.Answer last = null;
        while (System.nanoTime() < deadline) {
            last = EdgeClient.send(health, "GET", "localhost", "/ready", Map.of());
            if (last.status() == 200) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the gateway did not become Ready after the publish: " + last + "\n"
                + Kubelet.report(gateway, box.process(gateway), "gateway"));
    }
}
