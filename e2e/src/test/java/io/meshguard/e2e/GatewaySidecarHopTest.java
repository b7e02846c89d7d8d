package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.EnvoyVersion;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.emulator.Sidecar;
import io.meshguard.emulator.UpstreamServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Who the client is across the gateway hop, through two emulated Envoys and the stack as {@code up} wires
 * it — client → edge gateway (its HCM as the controller emits it) → the workload's Istio sidecar (the emulator's
 * {@link Sidecar}: no XFF append, the mTLS peer in the Check) → the workload; and a mesh pod calling the sidecar
 * directly. The fixture policy denies {@code 203.0.113.0/24} ({@code sanctioned-networks}) before any route, so a
 * decision on the wrong address shows as a wrong status.
 */
@IntegrationTest
class GatewaySidecarHopTest {
    /** A database of the class's own on the run's shared server (nothing here stops PostgreSQL). */
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String GATEWAY_ID = "spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway";
    static final String HOST = "api.bank.example";
    static final int LISTENER_PORT = 8080;

    static E2eStack stack;
    static UpstreamServer workload;
    static Sidecar sidecar;
    static Gateway gateway;
    static int podPort;
    static int sanctionedPodPort;

    @BeforeAll
    static void start() throws Exception {
        // the fixture set with countable limits: the free tier refills once a day (5/s refills while a test counts),
        // payments-monthly holds two requests and then blocks
        // inside the stack's data directory, which the stack deletes when it closes
        java.nio.file.Path dataDir = Files.createTempDirectory("meshguard-e2e-hop");
        java.nio.file.Path policies = io.meshguard.testing.FixturePolicies.copyTo(dataDir.resolve("policies"));
        java.nio.file.Path authz = policies.resolve("authz.yaml");
        String text = Files.readString(authz);
        String edited = text.replace(
                        "free: {requests_per_second: 5, burst: 10}", "free: {requests_per_second: 0.0000116, burst: 3}")
                .replace(
                        "limits: {free: 1000, premium: 100000, enterprise: unlimited}\n    on_exceed: allow_and_flag",
                        "limits: {free: 2, premium: 100000, enterprise: unlimited}\n    on_exceed: block");
        assertThat(edited).isNotEqualTo(text).contains("burst: 3").contains("free: 2,");
        Files.writeString(authz, edited);
        stack = E2eStack.start(PG, dataDir, policies);
        workload = UpstreamServer.json("accounts", 0, "{\"upstream\":\"{upstream}\"}");
        sidecar = new Sidecar(
                "spiffe://cluster.local/ns/bank/sa/accounts",
                stack.extauthzTarget(),
                workload.port(),
                E2eStack.TIMEOUT_SCALE,
                EnvoyVersion.SIDECAR_1_36);
        // `up` publishes its sample for group local (deploy/local's node.cluster): this config replaces it
        // the gateway pod reaches the workload through mTLS: the sidecar's listener for the gateway's identity
        int fromGateway = sidecar.listen(new Sidecar.Peer(GATEWAY_ID, "10.8.0.4"));
        podPort = sidecar.listen(new Sidecar.Peer("spiffe://cluster.local/ns/shop/sa/cart", "10.8.1.9"));
        sanctionedPodPort = sidecar.listen(new Sidecar.Peer("spiffe://cluster.local/ns/shop/sa/batch", "203.0.113.5"));
        gateway = stack.publish("""
                groups:
                  - {name: local, environment: test, region: local, hostnames: [api.bank.example], listener_port: 8080,
                     proxyless_authz: off}
                upstreams:
                  - {name: hop-accounts, protocol: http1, endpoints: [{address: 127.0.0.1, port: %1$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %1$d, reason: "e2e sidecar on this machine"}]}
                apis:
                  - name: bank
                    base_path: ""
                    hostnames: [api.bank.example]
                    default_version: v1
                    versions:
                      - {version: v1, status: active}
                routes:
                  - {name: hop-accounts, group: local, api: bank, version: v1, match: {path_prefix: /v1/accounts, methods: [GET]},
                     destinations: [{upstream: hop-accounts, weight: 100}], authz_profile: accounts-read, dlp_profile: default}
                  - {name: hop-payments, group: local, api: bank, version: v1, match: {path_exact: /v1/payments, methods: [POST]},
                     destinations: [{upstream: hop-accounts, weight: 100}], authz_profile: payments-create, dlp_profile: default}
                """.formatted(fromGateway), "local", LISTENER_PORT);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {sidecar, workload, stack}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    @BeforeEach
    void clear() {
        sidecar.clear();
        workload.clear();
    }

    private static String token(String tenant) throws Exception {
        return "Bearer " + stack.token("alice", tenant, List.of("customer"), List.of("accounts:read"));
    }

    /** What a pod's plain HTTP/1.1 request got back: status and body. */
    record Answer(int status, String body) {}

    /** A GET from a mesh pod straight to the sidecar's listener for that pod (Host: the bank's API host). */
    private static Answer fromPod(int port, String tenant, String... headers) throws Exception {
        StringBuilder head = new StringBuilder("GET /v1/accounts/7 HTTP/1.1\r\nhost: " + HOST + "\r\nauthorization: "
                + token(tenant) + "\r\nx-tenant-id: " + tenant + "\r\nconnection: close\r\n");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(120_000);
            socket.getOutputStream()
                    .write(head.append("\r\n").toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            String response =
                    new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int status = Integer.parseInt(response.substring(9, 12));
            int bodyAt = response.indexOf("\r\n\r\n");
            return new Answer(status, bodyAt < 0 ? "" : response.substring(bodyAt + 4));
        }
    }

    @Test
    void clientThroughGatewayToSidecar_sidecarDecidesOnTheGatewaysVerdict_notOnForgedHeaders() throws Exception {
        // the client forges every header that names a client address; the gateway's HCM overwrites
        // x-envoy-external-address, its allow overwrites x-meshguard-client-address, and the sidecar takes the latter
        // from the gateway's principal only
        Exchange exchange = gateway.send(DownstreamRequest.get(
                HOST,
                "/v1/accounts/7",
                "authorization",
                token("t-hop"),
                "x-tenant-id",
                "t-hop",
                "x-forwarded-for",
                "203.0.113.77",
                "x-envoy-external-address",
                "203.0.113.77",
                "x-meshguard-client-address",
                "203.0.113.77"));
        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(200);
        assertThat(workload.received()).hasSize(1);
        Sidecar.Handled hop = sidecar.handled().getFirst();
        var http = hop.check().getAttributes().getRequest().getHttp();
        assertThat(hop.check().getAttributes().getSource().getPrincipal()).isEqualTo(GATEWAY_ID);
        assertThat(http.getHeadersOrDefault("x-meshguard-client-address", "")).isEqualTo(Gateway.EXTERNAL_CLIENT);
        assertThat(http.getHeadersOrDefault("x-envoy-external-address", "")).isEqualTo(Gateway.EXTERNAL_CLIENT);
        // Envoy appended the socket peer once, at the gateway; the sidecar appended nothing
        assertThat(http.getHeadersOrDefault("x-forwarded-for", ""))
                .isEqualTo("203.0.113.77," + Gateway.EXTERNAL_CLIENT);
    }

    @Test
    void sanctionedClient_isDeniedAtTheGateway_andNeverReachesTheSidecar() throws Exception {
        try (Gateway sanctioned = new Gateway(
                stack.ads(),
                new io.meshguard.emulator.EnvoyNode("e2e-envoy-1", "local", java.util.Map.of()),
                LISTENER_PORT,
                1,
                E2eStack.TIMEOUT_SCALE,
                "203.0.113.77")) {
            Exchange exchange = sanctioned.send(DownstreamRequest.get(
                    HOST,
                    "/v1/accounts/7",
                    "authorization",
                    token("t-hop2"),
                    "x-tenant-id",
                    "t-hop2",
                    "x-forwarded-for",
                    "198.51.100.5"));
            assertThat(exchange.status()).as(exchange.describe()).isEqualTo(403);
            assertThat(exchange.body()).contains("sanctioned-networks");
        }
        assertThat(sidecar.handled()).isEmpty();
    }

    @Test
    void podWithAForgedChain_isDecidedOnItsMtlsPeerAddress() throws Exception {
        // a pod forging a sanctioned address in every client header: believed, the deny rule would fire
        Answer forged = fromPod(
                podPort,
                "t-pod",
                "x-forwarded-for",
                "203.0.113.77",
                "x-envoy-external-address",
                "203.0.113.77",
                "x-meshguard-client-address",
                "203.0.113.77");
        assertThat(forged.status()).as(forged.body()).isEqualTo(200);
        // a pod whose own address is sanctioned, claiming a clean one: denied on its peer address
        Answer sanctioned = fromPod(
                sanctionedPodPort,
                "t-pod2",
                "x-forwarded-for",
                "10.1.1.1",
                "x-envoy-external-address",
                "10.1.1.1",
                "x-meshguard-client-address",
                "10.1.1.1");
        assertThat(sanctioned.status()).as(sanctioned.body()).isEqualTo(403);
        assertThat(sanctioned.body()).contains("sanctioned-networks");
        assertThat(workload.received()).hasSize(1);
    }

    @Test
    void routeRateLimit_isAppliedOnceAcrossTheHop() throws Exception {
        // accounts-read is decided at the gateway and again at the sidecar; the tenant's bucket holds three requests.
        // Counted at both hops, the second request would already be refused at the sidecar.
        List<Integer> statuses = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            statuses.add(gateway.send(DownstreamRequest.get(
                            HOST, "/v1/accounts/7", "authorization", token("t-rl"), "x-tenant-id", "t-rl"))
                    .status());
        }
        assertThat(statuses).containsExactly(200, 200, 200, 429);
        assertThat(sidecar.handled()).hasSize(3).allSatisfy(h -> {
            assertThat(h.status()).isEqualTo(200);
            assertThat(h.check()
                            .getAttributes()
                            .getRequest()
                            .getHttp()
                            .getHeadersOrDefault("x-meshguard-rate-limited-at", ""))
                    .isEqualTo("accounts-read");
        });
    }

    @Test
    void quota_isChargedOnceAcrossTheHop() throws Exception {
        // payments-monthly lists payments-create, the rule of both hops; it holds two requests a month here.
        // Charged at both hops, the first request would use it up and the second be refused.
        String bearer = "Bearer "
                + stack.token("bob", "t-quota", List.of("customer", "payments-enabled"), List.of("payments:write"));
        List<Integer> statuses = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            statuses.add(gateway.send(DownstreamRequest.withBody(
                            "POST",
                            HOST,
                            "/v1/payments",
                            "{\"amount\":1}",
                            "content-type",
                            "application/json",
                            "authorization",
                            bearer,
                            "x-tenant-id",
                            "t-quota"))
                    .status());
        }
        assertThat(statuses).containsExactly(200, 200, 429);
        assertThat(sidecar.handled()).hasSize(2).allSatisfy(h -> assertThat(h.check()
                        .getAttributes()
                        .getRequest()
                        .getHttp()
                        .getHeadersOrDefault("x-meshguard-quota-charged", ""))
                .contains("payments-monthly"));
        assertThat(workload.received()).hasSize(2);
    }
}
