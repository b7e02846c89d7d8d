package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.meshguard.extauthz.tools.CheckRequests;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * A product published into a zone's cluster through central's catalogue, as docs/products.md describes it and
 * ProductJourneyTest does it for central: the platform's automation (system admin) creates the tenants, serves
 * {@value #PROVIDER}'s API {@value #API} in group {@code edge} (a route naming the shipped {@code products} rule) and
 * lets {@value #PROVIDER} publish into the zone's cluster; {@value #PROVIDER}'s pipeline publishes product
 * {@value #PRODUCT} with two auto plans ({@code free}: three calls a day; {@code partner}: a thousand) and a publish
 * naming the zone's cluster; {@value #CUSTOMER}'s pipeline creates three applications, each with an API key bound to
 * it: {@code web} subscribed on {@code free}, {@code batch} on {@code partner}, {@code trial} without a subscription.
 *
 * @param publish the product publish's id (its cluster is the zone's)
 * @param host the publish host, as the catalogue named it
 */
record ZoneProduct(
        BankPipeline provider,
        String publish,
        String host,
        String webSubscription,
        String webKey,
        String batchKey,
        String trialKey) {
    static final String PROVIDER = "acme";
    static final String CUSTOMER = "globex";
    static final String API = "rates";
    static final String PRODUCT = "rates";
    static final String OPERATION = "daily";
    static final String PATH = "/rates/v1/daily";

    static ZoneProduct publish(ClusterInABox box, BankIdentityProvider idp, String cluster, String region)
            throws Exception {
        BankPipeline bank = BankPipeline.signIn(box, idp);
        BankPipeline provider =
                BankPipeline.signIn(box, idp, BankIdentityProvider.PROVIDER_CLIENT, idp.tenantClientSecret());
        BankPipeline customer =
                BankPipeline.signIn(box, idp, BankIdentityProvider.SUBSCRIBER_CLIENT, idp.tenantClientSecret());

        // the platform: tenants (idempotent), the provider's API served by edge, edge in the zone's cluster for it
        for (String tenant : List.of(PROVIDER, CUSTOMER)) {
            bank.ok("POST", "/v1/operator/tenants", "{\"id\": \"" + tenant + "\"}");
        }
        // every cluster serving edge assigns the provider the bank app's namespace before its upstream names it
        bank.assignEdge("central", "{\"region\": \"eu\"", PROVIDER);
        bank.assignEdge(cluster, "{\"region\": \"%s\", \"provider\": \"aws\"".formatted(region), PROVIDER);
        bank.bankAppUpstream("acme-rates", PROVIDER);
        bank.api(API, PROVIDER);
        bank.route("rates-daily", API, "acme-rates", "/" + OPERATION, "products", PROVIDER);
        bank.meshguard("xds", "publish", "--reason", "CHG-4200: acme's rates API for its product in Seoul");

        provider.ok("POST", "/v1/provider/products", """
                {"id": "%s", "tenant": "%s", "name": "FX rates", "visibility": "public",
                 "operations": [{"id": "%s", "api": "%s", "method": "get", "path": "/%s"}]}""".formatted(PRODUCT, PROVIDER, OPERATION, API, OPERATION));
        provider.ok("POST", "/v1/provider/products/" + PRODUCT + "/state", "{\"state\": \"published\"}");
        for (Map.Entry<String, Integer> plan :
                Map.of("free", 3, "partner", 1000).entrySet()) {
            provider.ok("POST", "/v1/provider/products/" + PRODUCT + "/plans", """
                    {"name": "%s", "approval": "auto", "auth_modes": ["apikey"],
                     "limits": {"quota": {"period": "day", "limit": %d}}}""".formatted(
                            plan.getKey(), plan.getValue()));
            provider.ok(
                    "POST",
                    "/v1/provider/plans/" + PRODUCT + "-" + plan.getKey() + "/state",
                    "{\"state\": \"published\"}");
        }
        String publish = provider.ok(
                        "POST", "/v1/provider/products/" + PRODUCT + "/product-publishes", """
                {"cluster": "%s", "environment": "prod", "auth_mode": "apikey", "gateway_group": "edge"}""".formatted(cluster))
                .path("id")
                .asText();
        JsonNode published = provider.ok(
                "POST",
                "/v1/provider/product-publishes/" + publish + "/state",
                "{\"state\": \"published\", \"reason\": \"CHG-4201: rates for partners in Seoul\"}");
        String host = published.path("host").asText();
        assertThat(host).isEqualTo(PRODUCT + ".prod." + region + ".api.bank.example");

        String web = application(customer, "globex-seoul-web");
        String batch = application(customer, "globex-seoul-batch");
        String trial = application(customer, "globex-seoul-trial");
        String webSubscription = subscribe(customer, "globex-seoul-web", publish, "free");
        subscribe(customer, "globex-seoul-batch", publish, "partner");
        return new ZoneProduct(provider, publish, host, webSubscription, web, batch, trial);
    }

    /** An application of the customer with an API key bound to it; the key. */
    private static String application(BankPipeline customer, String id) throws Exception {
        customer.ok(
                "POST",
                "/v1/customer/applications",
                "{\"id\": \"" + id + "\", \"tenant\": \"" + CUSTOMER + "\", \"name\": \"" + id + "\"}");
        String key = customer.ok("POST", "/apikeys", """
                {"name": "%s", "owner": "%s", "tenant": "%s", "reason": "zone journey"}""".formatted(id, CUSTOMER, CUSTOMER))
                .path("key")
                .asText();
        customer.ok("POST", "/v1/customer/credentials", """
                {"kind": "apikey", "id": "%s", "application": "%s"}""".formatted(key.split("_")[1], id));
        return key;
    }

    private static String subscribe(BankPipeline customer, String application, String publish, String plan)
            throws Exception {
        JsonNode s =
                customer.ok("POST", "/v1/customer/subscriptions", """
                {"application": "%s", "product_publish": "%s", "plan": "%s-%s"}""".formatted(application, publish, PRODUCT, plan));
        assertThat(s.path("state").asText()).as("an auto plan's subscription").isEqualTo("active");
        return s.path("id").asText();
    }

    /** The customer's call with {@code key} through a gateway's edge port. */
    EdgeClient.Answer call(InetSocketAddress edge, String key) throws Exception {
        return EdgeClient.send(edge, "GET", host, PATH, Map.of("x-api-key", key, "x-tenant-id", CUSTOMER));
    }

    /** The Check a gateway sends extauthz for this call (the product route's context extensions). */
    CheckRequest check(String key) {
        return CheckRequests.of(
                "GET",
                host,
                PATH,
                Map.of("x-api-key", List.of(key), "x-tenant-id", List.of(CUSTOMER)),
                Map.of(
                        "meshguard.authz_profile",
                        "products",
                        "meshguard.product_publish",
                        publish,
                        "meshguard.product_operation",
                        OPERATION),
                CheckRequests.Encoding.HEADERS);
    }

    /** The provider suspends the web application's subscription (an unpaid invoice). */
    void suspendWeb() throws Exception {
        provider.ok(
                "POST",
                "/v1/provider/subscriptions/" + webSubscription + "/suspend",
                "{\"reason\": \"unpaid invoice\"}");
    }
}
