package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.extauthz.tools.CheckRequests;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * API products as docs/products.md describes them, on the install of docs/install.md, each side signed in through the
 * bank's Keycloak as policies/access.yaml binds it: the platform's automation (system admin) creates the tenants,
 * serves the provider's API in tenant {@code acme} from an API route naming the shipped {@code products} rule of
 * policies/authz.yaml and assigns the edge group to the cluster for acme; acme's pipeline (org-admin) publishes a
 * product on an auto plan; globex's pipeline (customer-admin) subscribes with an API key and calls the publish host
 * through the gateway (200), runs into the plan's daily quota (429); acme suspends the subscription, and every extauthz
 * replica (each called directly at its pod address, as the gateway calls it) refuses it within 2 s.
 */
@Tag("cluster")
class ProductJourneyTest extends BoxJourney {
    private static final String PRODUCT = "statements";
    private static final String PUBLISH = "statements-prod-central";
    private static final String HOST = "statements.prod.eu.api.bank.example";
    private static final String PROVIDER = "acme";
    private static final String CUSTOMER = "globex";
    private static BankPipeline bank;
    private static BankPipeline provider;
    private static BankPipeline customer;

    @BeforeAll
    static void signIn() throws Exception {
        bank = BankPipeline.signIn(box, idp);
        provider = BankPipeline.signIn(box, idp, BankIdentityProvider.PROVIDER_CLIENT, idp.tenantClientSecret());
        customer = BankPipeline.signIn(box, idp, BankIdentityProvider.SUBSCRIBER_CLIENT, idp.tenantClientSecret());
    }

    @Test
    void aProviderPublishes_aCustomerSubscribesAndCalls_overQuotaIs429_andASuspensionIsDeniedOnEveryReplica()
            throws Exception {
        List<BoxPod> replicas = box.pods().stream()
                .filter(p -> p.owner().equals("StatefulSet/meshguard-extauthz"))
                .toList();
        assertThat(replicas)
                .as("extauthz replicas in the box (-Dmeshguard.box.replicas.meshguard-extauthz)")
                .hasSizeGreaterThanOrEqualTo(2);

        // the platform: both tenants, the provider's API served by the edge group (a product publish needs a
        // published draft), the group assigned to the cluster for the provider
        for (String tenant : List.of(PROVIDER, CUSTOMER)) {
            bank.ok("POST", "/v1/operator/tenants", "{\"id\": \"" + tenant + "\"}");
        }
        bank.edgeAndBankApp();
        // the group assigned to the cluster for the provider, and the bank app's namespace for its upstreams
        bank.assignEdge("central", "{\"region\": \"eu\"", PROVIDER);
        bank.bankAppUpstream("acme-statements", PROVIDER);
        bank.api(PRODUCT, PROVIDER);
        bank.route("statements-monthly", PRODUCT, "acme-statements", "/monthly", "products", PROVIDER);
        bank.meshguard("xds", "publish", "--reason", "CHG-1002: acme's statements API for its product");

        // the provider publishes its product with an auto plan of three calls a day
        provider.ok("POST", "/v1/provider/products", """
                {"id": "%s", "tenant": "%s", "name": "Statements", "visibility": "public",
                 "operations": [{"id": "monthly", "api": "%s", "method": "get", "path": "/monthly"}]}""".formatted(PRODUCT, PROVIDER, PRODUCT));
        provider.ok("POST", "/v1/provider/products/" + PRODUCT + "/state", "{\"state\": \"published\"}");
        provider.ok("POST", "/v1/provider/products/" + PRODUCT + "/plans", """
                {"name": "free", "approval": "auto", "auth_modes": ["apikey"],
                 "limits": {"quota": {"period": "day", "limit": 3}}}""");
        provider.ok("POST", "/v1/provider/plans/" + PRODUCT + "-free/state", "{\"state\": \"published\"}");
        provider.ok("POST", "/v1/provider/products/" + PRODUCT + "/product-publishes", """
                {"cluster": "central", "environment": "prod", "auth_mode": "apikey", "gateway_group": "edge"}""");
        JsonNode published = provider.ok(
                "POST",
                "/v1/provider/product-publishes/" + PUBLISH + "/state",
                "{\"state\": \"published\", \"reason\": \"CHG-1003: statements for partners\"}");
        assertThat(published.path("host").asText()).isEqualTo(HOST);

        // the customer: application, key, subscription on the auto plan, the key bound to it
        customer.ok(
                "POST",
                "/v1/customer/applications",
                "{\"id\": \"globex-web\", \"tenant\": \"" + CUSTOMER + "\", \"name\": \"Web\"}");
        String key = customer.ok("POST", "/apikeys", """
                {"name": "globex-web", "owner": "globex", "tenant": "%s", "reason": "products journey"}""".formatted(CUSTOMER))
                .path("key")
                .asText();
        JsonNode subscription = customer.ok("POST", "/v1/customer/subscriptions", """
                {"application": "globex-web", "product_publish": "%s", "plan": "%s-free"}""".formatted(PUBLISH, PRODUCT));
        assertThat(subscription.path("state").asText()).isEqualTo("active");
        customer.ok("POST", "/v1/customer/credentials", """
                {"kind": "apikey", "id": "%s", "application": "globex-web"}""".formatted(key.split("_")[1]));

        // the customer's application on the internet: TLS to the bank's ingress gateway (the chain checked against
        // the bank's CA, the certificate against the product's host), which hands the request to the edge
        InetSocketAddress door = box.ingressDoor();
        Map<String, String> headers = Map.of("x-api-key", key, "x-tenant-id", CUSTOMER);
        // 404 until the gateway has the publish host, 403 until the subscription state reached extauthz
        EdgeClient.Answer ok = EdgeClient.eventually(
                () -> EdgeClient.sendTls(door, "GET", HOST, "/statements/v1/monthly", headers), a -> a.status() == 200);
        assertThat(ok.body()).contains("/statements/v1/monthly");
        assertThat(ok.headers()).containsEntry("strict-transport-security", "max-age=31536000; includeSubDomains");
        // plain http to the product's host: only a redirect to https, the request never reaches the edge
        EdgeClient.Answer plain =
                EdgeClient.send(box.ingressPlainDoor(), "GET", HOST, "/statements/v1/monthly", headers);
        assertThat(plain.status()).as("%s", plain).isEqualTo(301);
        assertThat(plain.headers()).containsEntry("location", "https://" + HOST + "/statements/v1/monthly");

        // the plan's quota: three a day
        EdgeClient.Answer over = null;
        for (int i = 0; i < 5 && (over == null || over.status() != 429); i++) {
            over = EdgeClient.sendTls(door, "GET", HOST, "/statements/v1/monthly", headers);
        }
        assertThat(over.status()).as("over the plan's quota: %s", over).isEqualTo(429);
        InetSocketAddress edge = box.node().local(box.pod(ClusterInABox.GATEWAY).ip(), 8080);

        // every replica, called directly as the gateway calls it for this route: not suspended yet
        CheckRequest check = CheckRequests.of(
                "GET",
                HOST,
                "/statements/v1/monthly",
                Map.of("x-api-key", List.of(key), "x-tenant-id", List.of(CUSTOMER)),
                Map.of(
                        "meshguard.authz_profile",
                        "products",
                        "meshguard.product_publish",
                        PUBLISH,
                        "meshguard.product_operation",
                        "monthly"),
                CheckRequests.Encoding.HEADERS);
        List<ManagedChannel> channels = new ArrayList<>();
        try {
            for (BoxPod replica : replicas) {
                InetSocketAddress grpc = box.node().local(replica.ip(), 9001);
                channels.add(ManagedChannelBuilder.forAddress("127.0.0.1", grpc.getPort())
                        .usePlaintext()
                        .build());
            }
            for (int i = 0; i < channels.size(); i++) {
                assertThat(body(check(channels.get(i), check)))
                        .as(replicas.get(i).name())
                        .doesNotContain("subscription_suspended");
            }

            provider.ok(
                    "POST",
                    "/v1/provider/subscriptions/" + subscription.path("id").asText() + "/suspend",
                    "{\"reason\": \"unpaid invoice\"}");
            long suspended = System.nanoTime();
            List<String> denied = new ArrayList<>();
            for (int i = 0; i < channels.size(); i++) {
                CheckResponse last = check(channels.get(i), check);
                while (!body(last).contains("subscription_suspended")
                        && System.nanoTime() - suspended < TimeUnit.SECONDS.toNanos(2)) {
                    Thread.sleep(20);
                    last = check(channels.get(i), check);
                }
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - suspended);
                assertThat(body(last))
                        .as("%s %d ms after the suspension", replicas.get(i).name(), ms)
                        .contains("subscription_suspended");
                assertThat(last.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(403);
                denied.add(replicas.get(i).name() + " " + ms + " ms");
            }
            System.out.println("suspension denied on every extauthz replica: " + denied);
            EdgeClient.Answer through = EdgeClient.send(edge, "GET", HOST, "/statements/v1/monthly", headers);
            assertThat(through.status()).as("%s", through).isEqualTo(403);
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }

    private static CheckResponse check(ManagedChannel channel, CheckRequest request) {
        return AuthorizationGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(request);
    }

    private static String body(CheckResponse r) {
        return r.hasDeniedResponse() ? r.getDeniedResponse().getBody() : "allowed";
    }
}
