package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.testing.IntegrationTest;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * overlays/bank, as {@code kubectl kustomize} renders it: the admin plane and the products reachable only through the
 * bank's Istio ingress gateway, over TLS with certificates from the named Secrets, plain HTTP only as a redirect, HSTS
 * on every answer, every host copied from the one setting it belongs to, and browsers kept on one replica.
 */
@IntegrationTest
class BankOverlayTest {
    private static final String INGRESS = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";
    private static List<SourcedDocument> docs;

    @BeforeAll
    static void render() throws Exception {
        assumeTrue(Kustomize.available(), "kubectl is not on the PATH: overlays/bank not rendered");
        RepoPaths.assumePolicyFiles();
        docs = YamlDocuments.parse(
                "kubectl kustomize manifests/istio/overlays/bank",
                Kustomize.render(RepoPaths.manifests().resolve("overlays/bank")));
    }

    private static JsonNode find(String kind, String name) {
        return docs.stream()
                .filter(d -> d.kind().equals(kind) && d.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("overlays/bank renders no " + kind + " " + name))
                .node();
    }

    private static String setting(String key) {
        return find("ConfigMap", "meshguard-admin-plane").path("data").path(key).asText();
    }

    @Test
    void gateways_terminateTlsFromTheNamedSecrets_andPlainHttpOnlyRedirects() {
        for (String[] g :
                new String[][] {{"meshguard-admin", "meshguard-admin-tls"}, {"meshguard-edge", "meshguard-edge-tls"}}) {
            JsonNode servers = find("Gateway", g[0]).path("spec").path("servers");
            assertThat(servers).hasSize(2);
            for (JsonNode server : servers) {
                if (server.path("port").path("protocol").asText().equals("HTTPS")) {
                    assertThat(server.path("port").path("number").asInt()).isEqualTo(443);
                    assertThat(server.path("tls").path("mode").asText()).isEqualTo("SIMPLE");
                    assertThat(server.path("tls").path("credentialName").asText())
                            .isEqualTo(g[1]);
                } else {
                    assertThat(server.path("port").path("protocol").asText()).isEqualTo("HTTP");
                    assertThat(server.path("tls").path("httpsRedirect").asBoolean())
                            .as("%s: plain HTTP only redirects", g[0])
                            .isTrue();
                }
            }
        }
    }

    @Test
    void hosts_comeFromTheSettings_consolePublicUrlAndCatalogDomain() {
        String adminHost = URI.create(setting("console.public_url")).getHost();
        assertThat(adminHost).isNotBlank();
        String products = "*.api." + setting("catalog.domain");
        for (JsonNode server : find("Gateway", "meshguard-admin").path("spec").path("servers")) {
            assertThat(server.path("hosts").get(0).asText()).isEqualTo(adminHost);
        }
        for (JsonNode server : find("Gateway", "meshguard-edge").path("spec").path("servers")) {
            assertThat(server.path("hosts").get(0).asText()).isEqualTo(products);
        }
        assertThat(find("VirtualService", "meshguard-admin")
                        .path("spec")
                        .path("hosts")
                        .get(0)
                        .asText())
                .isEqualTo(adminHost);
        assertThat(find("VirtualService", "meshguard-edge")
                        .path("spec")
                        .path("hosts")
                        .get(0)
                        .asText())
                .isEqualTo(products);
    }

    @Test
    void everyAnswer_carriesHsts_andTheAdminRouteEndsAtTheControllersAdminPort() {
        for (String vs : List.of("meshguard-admin", "meshguard-edge")) {
            for (JsonNode route : find("VirtualService", vs).path("spec").path("http")) {
                assertThat(route.path("headers")
                                .path("response")
                                .path("set")
                                .path("Strict-Transport-Security")
                                .asText())
                        .as(vs)
                        .startsWith("max-age=31536000");
            }
        }
        JsonNode destination = find("VirtualService", "meshguard-admin")
                .path("spec")
                .path("http")
                .get(0)
                .path("route")
                .get(0)
                .path("destination");
        assertThat(destination.path("host").asText()).isEqualTo("meshguard-xds.meshguard.svc.cluster.local");
        assertThat(destination.path("port").path("number").asInt()).isEqualTo(9103);
    }

    @Test
    void browsers_stayOnOneReplica_byACookieTheIngressSets_whileAdsKeepsItsSourceIpHash() {
        JsonNode policy = find("DestinationRule", "meshguard-xds").path("spec").path("trafficPolicy");
        assertThat(policy.path("loadBalancer")
                        .path("consistentHash")
                        .path("useSourceIp")
                        .asBoolean())
                .isTrue();
        JsonNode admin = policy.path("portLevelSettings").get(0);
        assertThat(admin.path("port").path("number").asInt()).isEqualTo(9103);
        JsonNode cookie = admin.path("loadBalancer").path("consistentHash").path("httpCookie");
        assertThat(cookie.path("name").asText()).isNotBlank();
        assertThat(cookie.has("ttl"))
                .as("a ttl makes the gateway set the cookie when absent")
                .isTrue();
    }

    @Test
    void adminPort_andEdgePort_admitOnlyTheIngressGateway() {
        int adminRules = 0;
        for (JsonNode rule : find("AuthorizationPolicy", "meshguard-xds-callers")
                .path("spec")
                .path("rules")) {
            if (!rule.path("to").toString().contains("\"9103\"")) {
                continue;
            }
            adminRules++;
            assertThat(rule.path("from")).hasSize(1);
            JsonNode source = rule.path("from").get(0).path("source");
            assertThat(source.path("principals")).hasSize(1);
            assertThat(source.path("principals").get(0).asText()).isEqualTo(INGRESS);
            assertThat(source.has("namespaces")).isFalse();
        }
        assertThat(adminRules).isEqualTo(1);
        assertThat(find("AuthorizationPolicy", "meshguard-gateway-callers").toString())
                .contains(INGRESS)
                .contains("\"8080\"");
        assertThat(find("Service", "meshguard-gateway")
                        .path("spec")
                        .path("type")
                        .asText())
                .isEqualTo("ClusterIP");
        assertThat(docs)
                .allSatisfy(
                        d -> assertThat(d.node().toString()).as(d.describe()).doesNotContain("meshguard-ops"));
    }
}
