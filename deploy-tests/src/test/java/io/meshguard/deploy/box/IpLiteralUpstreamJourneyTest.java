package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A gateway route whose upstream is an IP literal (review R4-06): the bank's STRICT payments Service entered by its
 * ClusterIP. The edge gateway's requests leave through its own sidecar, which routes HTTP by Host: with the client's
 * Host ({@value #PUBLIC_HOST}, no Service) the sidecar sends them to Istio's PassthroughCluster in plaintext and the
 * STRICT backend resets them; with the upstream's {@code host} (docs/gateway-envoy-config.md §7.2.1) the gateway
 * sends the Service's FQDN, the sidecar routes it as that Service with mTLS, and the backend answers.
 *
 * <p>The journey's API names the host itself (the shipped {@code health} rule's {@code api.bank.example}) and leaves
 * the shared group {@code edge} as every journey puts it (no hostnames). A hostname an API names belongs to its
 * tenant, and a group's hostnames are served by every API of the group that names none, whoever's it is: giving
 * {@code edge} the hostname would serve other tenants' APIs of {@code edge} (acme's) on the host GatewayJourneyTest's
 * {@code accounts}, the default tenant's, names, which the controller rightly refuses (MG-HOST-004), and would move
 * every other journey's routes onto that host. This API is the default tenant's too, like {@code accounts}.
 */
@Tag("cluster")
class IpLiteralUpstreamJourneyTest {
    private static final String GROUP = "edge";
    private static final String PUBLIC_HOST = "api.bank.example";
    private static ClusterInABox box;

    @BeforeAll
    static void install() throws Exception {
        box = SharedBox.get();
    }

    @Test
    void gatewayRouteToAClusterIp_isResetByTheStrictBackendWithoutHost_andReachesItWithTheServiceHost()
            throws Exception {
        BoxPod payments = box.bankApps();
        BoxPod gateway = box.pod(ClusterInABox.GATEWAY);
        String clusterIp = box.address(gateway, BankApps.paymentsHost());
        OperatorSession rita = OperatorSession.signIn(box);
        rita.ok("PUT", "/groups/" + GROUP, """
                {"name": "edge", "environment": "prod", "region": "eu", "listener_port": 8080}""");
        String upstream = """
                {"name": "payments-by-ip", "protocol": "http1", "endpoints": [{"address": "%s", "port": %d}]%s}""";
        rita.ok("PUT", "/upstreams/payments-by-ip", upstream.formatted(clusterIp, BankApps.HTTP_PORT, ""));
        rita.ok("PUT", "/apis/bank-health", """
                {"name": "bank-health", "base_path": "/healthz", "default_version": "v1", "hostnames": ["%s"],
                 "versions": [{"version": "v1", "status": "active"}]}""".formatted(PUBLIC_HOST));
        rita.ok("PUT", "/routes/" + GROUP + "/bank-health", """
                {"name": "bank-health", "group": "edge", "api": "bank-health", "version": "v1",
                 "match": {"path_prefix": ""}, "destinations": [{"upstream": "payments-by-ip", "weight": 100}],
                 "authz_profile": "health", "dlp_profile": "default"}""");
        rita.publish("CHG-3001: payments health by its ClusterIP");

        // once the gateway serves the published group: not its not-yet-configured 503, a 404 of an older table, the
        // UH 503 of a route whose new cluster's endpoints are still on their way (a node asks for a new cluster's
        // EDS only after its CDS: Envoy's xDS protocol, "Eventual consistency considerations"), or ext_authz's
        // status_on_error 503 without a body while a Check times out on a loaded machine
        Answer reset = awaitGateway(
                gateway,
                r -> r.statusCode() != 404
                        && !r.body().startsWith("gateway emulator:")
                        && !r.body().startsWith("no healthy upstream")
                        && !(r.statusCode() == 503 && r.body().isEmpty()));
        // Envoy's local reply when the upstream resets the connection (503 UC), as the emulator answers it
        assertThat(reset.statusCode() + " " + reset.body())
                .as(
                        "no host; gateway's sidecar: %s; payments' sidecar: %s",
                        box.sidecarLog(gateway, 20), box.sidecarLog(payments, 20))
                .startsWith("503 upstream connect error or disconnect/reset before headers");
        assertThat(box.sidecarLog(gateway, 200))
                .as("the gateway's sidecar")
                .contains("Host " + PUBLIC_HOST + " -> PassthroughCluster (plaintext " + clusterIp + ":"
                        + BankApps.HTTP_PORT + ")");
        assertThat(box.sidecarLog(payments, 200))
                .as("the backend's sidecar")
                .contains("inbound " + BankApps.HTTP_PORT + " from /" + gateway.ip())
                .contains("STRICT");

        // the supported shape: the upstream names the backend Service's FQDN
        rita.ok(
                "PUT",
                "/upstreams/payments-by-ip",
                upstream.formatted(clusterIp, BankApps.HTTP_PORT, ", \"host\": \"" + BankApps.paymentsHost() + "\""));
        rita.publish("CHG-3002: payments health with the Service's host");
        Answer answered = awaitGateway(gateway, r -> r.statusCode() == 200);
        assertThat(answered.statusCode())
                .as("with host: %s; gateway's sidecar: %s", answered.body(), box.sidecarLog(gateway, 20))
                .isEqualTo(200);
        assertThat(answered.body()).contains("host=" + BankApps.paymentsHost());
        assertThat(box.sidecarLog(gateway, 200))
                .contains("Host " + BankApps.paymentsHost() + " -> " + payments.ip() + ":" + BankApps.HTTP_PORT
                        + " (mTLS)");
    }

    /** A response of the gateway's edge listener: status and body. */
    private record Answer(int statusCode, String body) {}

    /** GET /healthz (the API's base path) at the gateway's edge listener with the API's Host until {@code done} or 60 s. */
    private static Answer awaitGateway(BoxPod gateway, Predicate<Answer> done) throws Exception {
        int local = box.node().forward(gateway.ip(), 8080);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Answer last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = get(local);
                if (done.test(last)) {
                    return last;
                }
            } catch (java.io.IOException e) {
                // the edge listener is not there before the first publish
            }
            Thread.sleep(500);
        }
        if (last == null) {
            throw new AssertionError("the gateway's edge listener never answered");
        }
        return last;
    }

    /** One HTTP/1.1 request with the client's Host (which the JDK's HttpClient does not let a caller set). */
    private static Answer get(int port) throws java.io.IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream()
                    .write(("GET /healthz HTTP/1.1\r\nHost: " + PUBLIC_HOST + "\r\nConnection: close\r\n\r\n")
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String response = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int status = Integer.parseInt(response.substring(9, 12));
            int body = response.indexOf("\r\n\r\n");
            return new Answer(status, body < 0 ? "" : response.substring(body + 4));
        }
    }
}
