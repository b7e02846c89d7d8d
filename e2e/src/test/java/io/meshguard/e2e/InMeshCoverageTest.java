package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.audit.query.CoverageReport.ServiceCoverage;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.emulator.EnvoyVersion;
import io.meshguard.emulator.Sidecar;
import io.meshguard.emulator.UpstreamServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proof of coverage inside the mesh, through real gRPC: a pod calls a protected workload through its Istio sidecar
 * (the emulator's {@link Sidecar}: meshguard's CUSTOM provider, and the inbound access log Istio's {@code Telemetry}
 * sends with the {@code meshguard-als} provider), extauthz decides the Check and answers its nonce in dynamic
 * metadata, the audit access-log receiver writes the sidecar's row, and the coverage join runs on PostgreSQL. In the
 * mesh the client's {@code x-request-id} is kept, so only the nonce ties a row to its own Check.
 */
@IntegrationTest
class InMeshCoverageTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String HOST = "api.bank.example";
    static final Sidecar.Peer POD = new Sidecar.Peer("spiffe://cluster.local/ns/shop/sa/cart", "10.8.1.9");
    static final String ALS_CLUSTER = "outbound|9003||meshguard-dlp.meshguard.svc.cluster.local";

    // closed after the class's tests
    @AutoClose
    static E2eStack stack;

    @AutoClose
    static UpstreamServer workload;

    @AutoClose
    static Sidecar sidecar;

    static int checkedPort;
    static int bypassPort;

    @BeforeAll
    static void start() throws Exception {
        stack = E2eStack.start(PG, Files.createTempDirectory("meshguard-e2e-coverage"));
        workload = UpstreamServer.json("accounts", 0, "{\"upstream\":\"{upstream}\"}");
        sidecar = new Sidecar(
                "spiffe://cluster.local/ns/bank/sa/accounts",
                Optional.of(Sidecar.meshguardProvider()),
                Optional.empty(),
                // the meshguard-als provider (manifests/istio/mesh/istiod-values.yaml), as istiod renders it
                Optional.of(Sidecar.AccessLog.envoyHttpAls(
                        ALS_CLUSTER,
                        "meshguard",
                        List.of("x-request-id", "traceparent", "x-tenant-id"),
                        List.of("content-type"),
                        new EnvoyNode(
                                "sidecar~10.8.2.7~accounts-7d9.bank~bank.svc.cluster.local",
                                "accounts.bank",
                                Map.of()))),
                cluster -> NettyChannelBuilder.forTarget(
                                cluster.equals(ALS_CLUSTER)
                                        ? "127.0.0.1:" + stack.accessLogPort()
                                        : stack.extauthzTarget())
                        .usePlaintext()
                        .build(),
                workload.port(),
                E2eStack.TIMEOUT_SCALE,
                EnvoyVersion.SIDECAR_1_36,
                line -> {});
        checkedPort = sidecar.listen(POD);
        // the same pod past the Check: a CUSTOM policy that does not select this path (a bypass the proof must see)
        bypassPort = sidecar.listen(POD, false, Optional.empty());
    }

    /** A pod's GET /v1/accounts/7 with its own x-request-id; the status. */
    private static int fromPod(int port, String requestId) throws Exception {
        String token = stack.token("alice", "t-mesh", List.of("customer"), List.of("accounts:read"));
        String head = "GET /v1/accounts/7 HTTP/1.1\r\nhost: " + HOST + "\r\nauthorization: Bearer " + token
                + "\r\nx-tenant-id: t-mesh\r\nx-request-id: " + requestId + "\r\nconnection: close\r\n\r\n";
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(120_000);
            socket.getOutputStream().write(head.getBytes(StandardCharsets.UTF_8));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return Integer.parseInt(response.substring(9, 12));
        }
    }

    @Test
    void coverage_inMeshRequestsWithClientChosenIds_checkedByNonce_reusedIdOnBypassUnchecked() throws Exception {
        Instant since = Instant.now().minusSeconds(60);
        // a legitimate request whose id the client chose: checked through its Check's nonce
        assertThat(fromPod(checkedPort, "client-chosen-" + System.nanoTime())).isEqualTo(200);
        // a real Check for one id, then four hits on the workload past the Check carrying that id
        // letters in the id: a run of 13-19 digits that passes Luhn is masked as a card number in every row
        String reused = "reused-" + Long.toString(System.nanoTime(), 36);
        assertThat(fromPod(checkedPort, reused)).isEqualTo(200);
        for (int i = 0; i < 4; i++) {
            assertThat(fromPod(bypassPort, reused)).isEqualTo(200);
        }

        CoverageReport report = new CoverageReport(stack.database());
        ServiceCoverage host = await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .until(
                        () ->
                                report
                                        .report(since, Instant.now().plusSeconds(60), Optional.of(HOST), 10)
                                        .services()
                                        .stream()
                                        .findFirst()
                                        .orElse(null),
                        s -> s != null && s.protectedRequests() == 6);

        assertThat(host.checked()).isEqualTo(2);
        assertThat(host.joins().onNonce()).isEqualTo(2);
        assertThat(host.unchecked()).isEqualTo(4);
        assertThat(host.joins().nonceMissing()).isEqualTo(4);
        assertThat(host.samples()).allSatisfy(s -> assertThat(s.requestId()).isEqualTo(reused));
    }
}
