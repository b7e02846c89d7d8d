package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A bank's proxyless grpc-java client (review R4-04), set up as docs/proxyless-clients.md says: in namespace
 * {@code meshguard-xds-clients} with its sidecar, its identity granted the group, its bootstrap naming the
 * controller's ADS Service. Its ADS stream and its calls both leave through its sidecar, which routes the calls by
 * {@code :authority} (the xds target): a public hostname names no Service, goes to Istio's PassthroughCluster in
 * plaintext and the STRICT backend resets it; the backend Service's FQDN as hostname is routed as that Service
 * with the client's mTLS identity.
 */
@Tag("cluster")
class ProxylessClientJourneyTest {
    private static final String PUBLIC_HOST = "payments.grpc.bank.example";
    private static final String METHOD = "bank.Payments/Whoami";
    private static ClusterInABox box;

    @BeforeAll
    static void install() throws Exception {
        box = SharedBox.get();
    }

    @Test
    void proxylessCall_reachesTheStrictBackendThroughItsSidecar_onlyWhenItsHostnameIsTheServiceFqdn() throws Exception {
        BoxPod payments = box.bankApps();
        BoxPod client = box.proxylessClientPod();
        String fqdn = BankApps.paymentsHost();
        OperatorSession rita = OperatorSession.signIn(box);
        rita.ok("PUT", "/groups/" + BankApps.PROXYLESS_GROUP, """
                {"name": "%s", "environment": "prod", "region": "eu", "hostnames": ["%s", "%s"],
                 "proxyless_authz": "off"}""".formatted(
                        BankApps.PROXYLESS_GROUP, PUBLIC_HOST, fqdn));
        rita.ok("PUT", "/upstreams/payments-grpc", """
                {"name": "payments-grpc", "protocol": "grpc", "endpoints": [{"address": "%s", "port": %d}]}""".formatted(fqdn, BankApps.GRPC_PORT));
        rita.ok("PUT", "/apis/payments-grpc", """
                {"name": "payments-grpc", "base_path": "", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}""");
        rita.ok("PUT", "/routes/" + BankApps.PROXYLESS_GROUP + "/payments-grpc", """
                {"name": "payments-grpc", "group": "%s", "api": "payments-grpc", "version": "v1",
                 "match": {"path_prefix": "/bank.Payments/"},
                 "destinations": [{"upstream": "payments-grpc", "weight": 100}], "authz_profile": "payments-read"}""".formatted(
                        BankApps.PROXYLESS_GROUP)); // with proxyless_authz off the backend authorizes its callers
        rita.publish("CHG-3101: payments for proxyless clients");

        // docs/proxyless-clients.md §2, grpc-java's bootstrap: the controller's Service, through the client's sidecar
        String bootstrap = """
                {"xds_servers": [{"server_uri": "meshguard-xds.meshguard.svc.cluster.local:18000",
                   "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3", "trusted_xds_server"]}],
                 "node": {"id": "orders-client-0", "cluster": "%s", "metadata": {"meshguard.group": "%s"},
                   "locality": {"region": "eu-west-1", "zone": "eu-west-1a"}}}""".formatted(BankApps.PROXYLESS_GROUP, BankApps.PROXYLESS_GROUP);

        String publicName = box.proxylessCall(bootstrap, PUBLIC_HOST, METHOD);
        assertThat(publicName)
                .as("xds:///%s (client's sidecar: %s)", PUBLIC_HOST, box.sidecarLog(client, 20))
                .contains("FAILED Status{code=UNAVAILABLE")
                .contains("STRICT");
        assertThat(box.sidecarLog(client, 200)).contains("Host " + PUBLIC_HOST + " -> PassthroughCluster");

        String serviceName = box.proxylessCall(bootstrap, fqdn, METHOD);
        assertThat(serviceName)
                .as(
                        "xds:///%s (client's sidecar: %s; backend's sidecar: %s)",
                        fqdn, box.sidecarLog(client, 20), box.sidecarLog(payments, 20))
                .contains("OK payments answered " + METHOD + " authority=" + fqdn);
        assertThat(box.sidecarLog(client, 200))
                .contains("Host " + fqdn + " -> " + payments.ip() + ":" + BankApps.GRPC_PORT + " (mTLS)");
    }
}
