package io.meshguard.dlpserver;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A real DlpServer on loopback with a test policy, plus a channel to it. */
final class ServerFixture implements AutoCloseable {
    static final String POLICY = """
            version: 1
            block_response: {status: 451, message: "blocked by DLP"}
            detectors:
              card:
                allow: ["4012888888881881"]
              marking:
                keywords: ["대외비"]
            profiles:
              - name: llm
                match: {paths: ["/v1/chat/completions"]}
                request:
                  detectors: {card: block, kr_rrn: block}
                response:
                  detectors:
                    card: mask
                    kr_rrn: {action: mask, keep_last: 0}
                    email: alert
                    private_key: block
              - name: mcp-pinned
                match: {paths: ["/pinned/mcp"]}
                mcp: true
                mcp_pins:
                  tools:
                    - name: get_balance
                      description: "the account's balance"
                      input_schema: {type: object}
                    - name: transfer_funds
                      description: "moves money out"
                      input_schema:
                        type: object
                        properties:
                          amount: {type: integer, minimum: 1}
                          currency: {enum: [EUR, CHF]}
                        required: [amount, currency]
                        additionalProperties: false
                request:
                  detectors: {card: mask}
              - name: mcp
                match: {paths: ["/mcp"]}
                mcp: true
                request:
                  detectors: {card: mask, kr_rrn: block}
              - name: small
                match: {paths: ["/small"]}
                request:
                  detectors: {card: mask}
                  max_body_bytes: 1024
                  oversize: block
              - name: capped-pass
                match: {paths: ["/capped-pass"]}
                request:
                  detectors: {card: mask}
                  max_body_bytes: 65536
                  oversize: pass
              - name: capped
                match: {paths: ["/capped"]}
                request:
                  detectors: {card: mask}
                  max_body_bytes: 65536
                  oversize: block
              - name: images
                match: {paths: ["/upload"]}
                request:
                  detectors: {card: mask}
                  non_text: block
              - name: chat-ws
                match: {paths: ["/ws/chat"]}
                websocket: pass
                request:
                  detectors: {card: block}
                response:
                  detectors: {card: mask}
              - name: grpc-services
                match: {paths: ["/bank.Accounts/"]}
                request:
                  detectors: {card: mask}
                  grpc: block
                response:
                  detectors: {card: mask}
                  grpc: block
              - name: default
                request:
                  detectors: {card: mask, email: {action: hash}, private_key: block}
                  max_body_bytes: 134217728
                response:
                  detectors: {card: mask, kr_rrn: mask, private_key: block, marking: alert}
                  max_body_bytes: 134217728
                  unknown_encoding: block
            """;

    final Path dir;
    final DlpServer server;
    final ManagedChannel channel;
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final java.util.Queue<DlpAuditSink.FindingEvent> findings = new java.util.concurrent.ConcurrentLinkedQueue<>();
    final java.util.Queue<DlpAuditSink.ApiCallEvent> calls = new java.util.concurrent.ConcurrentLinkedQueue<>();

    ServerFixture() throws Exception {
        this(DecoderBudget.forHeap(Runtime.getRuntime().maxMemory()));
    }

    /**
     * The default server, for a test class that shares one across its tests:
     * {@code @AutoClose private static final ServerFixture fx = ServerFixture.started();} (JUnit closes it after the
     * class's last test).
     */
    static ServerFixture started() {
        try {
            return new ServerFixture();
        } catch (Exception e) {
            throw new IllegalStateException("the DLP test server did not start", e);
        }
    }

    /** The api_call row of {@code requestId}, once the server has written it. */
    DlpAuditSink.ApiCallEvent apiCallRow(String requestId) {
        org.awaitility.Awaitility.await()
                .until(() -> calls.stream().anyMatch(c -> c.requestId().equals(requestId)));
        return calls.stream()
                .filter(c -> c.requestId().equals(requestId))
                .findFirst()
                .orElseThrow();
    }

    /** The bytes of {@code s} in UTF-8, as the tests send bodies. */
    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    ServerFixture(DecoderBudget decoders) throws Exception {
        this(decoders, PhaseDeadlines.DEFAULTS, io.meshguard.dlp.content.Transformers::forKind);
    }

    /** With given deadlines and transformers made by {@code transformers} (to stall a scan for real). */
    ServerFixture(PhaseDeadlines deadlines, io.meshguard.dlp.content.Transformers.Factory transformers)
            throws Exception {
        this(DecoderBudget.forHeap(Runtime.getRuntime().maxMemory()), deadlines, transformers);
    }

    /** With tracing (the tracing tests hand one that exports to their OTLP receiver). */
    ServerFixture(io.meshguard.runtime.tracing.Tracing tracing) throws Exception {
        this(
                DecoderBudget.forHeap(Runtime.getRuntime().maxMemory()),
                PhaseDeadlines.DEFAULTS,
                io.meshguard.dlp.content.Transformers::forKind,
                tracing);
    }

    private ServerFixture(
            DecoderBudget decoders,
            PhaseDeadlines deadlines,
            io.meshguard.dlp.content.Transformers.Factory transformers)
            throws Exception {
        this(decoders, deadlines, transformers, io.meshguard.runtime.tracing.Tracing.disabled());
    }

    private ServerFixture(
            DecoderBudget decoders,
            PhaseDeadlines deadlines,
            io.meshguard.dlp.content.Transformers.Factory transformers,
            io.meshguard.runtime.tracing.Tracing tracing)
            throws Exception {
        dir = Files.createTempDirectory("dlp-test");
        Path policy = dir.resolve("dlp.yaml");
        Files.writeString(policy, POLICY, StandardCharsets.UTF_8);
        DlpServerSettings settings = new DlpServerSettings(
                DlpServerSettings.withMaxMessage(
                        GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0), 8 * 1024 * 1024),
                policy,
                "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8),
                Duration.ofHours(1),
                deadlines);
        server = DlpServer.create(
                settings,
                new DlpAuditSink() {
                    @Override
                    public void finding(FindingEvent e) {
                        findings.add(e);
                    }

                    @Override
                    public void apiCall(ApiCallEvent e) {
                        calls.add(e);
                    }
                },
                meters,
                decoders,
                transformers,
                tracing);
        server.start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                .usePlaintext()
                .maxInboundMessageSize(64 * 1024 * 1024)
                .build();
    }

    @Override
    public void close() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        }
    }
}
