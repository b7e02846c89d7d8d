package io.meshguard.cli.dlp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.component.AuditComponent;
import io.meshguard.cli.common.ServerAudit;
import io.meshguard.dlpserver.DlpAuditSink;
import io.meshguard.dlpserver.DlpServer;
import io.meshguard.dlpserver.DlpServerSettings;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.metrics.ProcessMetrics;
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.testing.FixturePolicies;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where {@code meshguard dlp} receives Envoy's access logs: with {@code audit.als.port} set only there (a port the
 * manifests admit from proxies alone), never also on the ext_proc port every mesh identity may call; without it, on
 * the ext_proc port as before.
 */
@IntegrationTest
class DlpAccessLogPortTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void accessLogs_ownPortSet_extProcPortRefusesThem_ownPortRecords(@TempDir Path dir) throws Exception {
        int alsPort = freePort();
        try (Running dlp = Running.start(dir, Optional.of(alsPort))) {
            assertThat(dlp.audit.accessLogPort()).contains(alsPort);

            Status onExtProc = dlp.sendOneEntry(dlp.server.grpcPort(), "on-ext-proc-port");
            assertThat(onExtProc.getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);

            Status onOwnPort = dlp.sendOneEntry(alsPort, "on-als-port");
            assertThat(onOwnPort.getCode()).isEqualTo(Status.Code.OK);
            await().atMost(Duration.ofSeconds(30)).until(() -> dlp.recorded() >= 1);
            assertThat(dlp.recorded()).isEqualTo(1);
        }
    }

    @Test
    void accessLogs_noOwnPort_servedOnTheExtProcPort(@TempDir Path dir) throws Exception {
        try (Running dlp = Running.start(dir, Optional.empty())) {
            assertThat(dlp.audit.accessLogPort()).isEmpty();

            Status onExtProc = dlp.sendOneEntry(dlp.server.grpcPort(), "on-ext-proc-port");
            assertThat(onExtProc.getCode()).isEqualTo(Status.Code.OK);
            await().atMost(Duration.ofSeconds(30)).until(() -> dlp.recorded() >= 1);
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket free = new ServerSocket(0)) {
            return free.getLocalPort();
        }
    }

    /** The DLP server wired as {@code meshguard dlp} wires it, on loopback, with the audit database. */
    private record Running(ProcessMetrics metrics, ComponentStack stack, AuditComponent audit, DlpServer server)
            implements AutoCloseable {
        static Running start(Path dir, Optional<Integer> alsPort) throws Exception {
            Map<String, String> env = new HashMap<>();
            env.put("MESHGUARD_DB_URL", PG.jdbcUrl());
            env.put("MESHGUARD_DB_USER", PG.user());
            env.put("MESHGUARD_DB_PASSWORD", PG.password());
            env.put("MESHGUARD_AUDIT_SPOOL_DIR", dir.resolve("spool").toString());
            env.put("MESHGUARD_AUDIT_ALS_BIND", "127.0.0.1");
            // loopback senders, no sidecar to name them: what is tested is which port serves the receiver at all
            env.put("MESHGUARD_AUDIT_ALS_PEER_IDENTITY", "local-development");
            alsPort.ifPresent(p -> env.put("MESHGUARD_AUDIT_ALS_PORT", String.valueOf(p)));
            Config cfg =
                    ConfigLoader.load(ServerAudit.withAuditKeys(DlpServerSettings.schema()), Optional.empty(), env);
            ProcessMetrics metrics = ProcessMetrics.create();
            ComponentStack stack = new ComponentStack();
            AuditComponent audit = ServerAudit.start(
                            cfg,
                            "meshguard-dlp",
                            metrics,
                            stack,
                            Tracing.disabled(),
                            ServerAudit.AccessLogListener.WHEN_CONFIGURED)
                    .orElseThrow();
            DlpServer server = DlpServer.create(
                    new DlpServerSettings(
                            GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                            FixturePolicies.file("dlp.yaml"),
                            "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8),
                            Duration.ofMinutes(1)),
                    DlpAuditSink.NONE,
                    metrics.forServer("extproc-dlp"));
            DlpCommand.hostAccessLogs(server, audit);
            stack.start(server);
            return new Running(metrics, stack, audit, server);
        }

        /** One access-log message with one entry, then the end of the stream; the status the server closed with. */
        Status sendOneEntry(int port, String requestId) throws Exception {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port)
                    .usePlaintext()
                    .build();
            try {
                CompletableFuture<Status> closed = new CompletableFuture<>();
                StreamObserver<StreamAccessLogsMessage> envoy = AccessLogServiceGrpc.newStub(channel)
                        .streamAccessLogs(new StreamObserver<StreamAccessLogsResponse>() {
                            @Override
                            public void onNext(StreamAccessLogsResponse value) {}

                            @Override
                            public void onError(Throwable t) {
                                closed.complete(Status.fromThrowable(t));
                            }

                            @Override
                            public void onCompleted() {
                                closed.complete(Status.OK);
                            }
                        });
                envoy.onNext(StreamAccessLogsMessage.newBuilder()
                        .setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                                .setNode(Node.newBuilder().setId("sidecar~10.0.0.1~pay.payments~payments.svc"))
                                .setLogName("meshguard"))
                        .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder()
                                .addLogEntry(HTTPAccessLogEntry.newBuilder()
                                        .setCommonProperties(AccessLogCommon.newBuilder()
                                                .setStartTime(Timestamp.newBuilder()
                                                        .setSeconds(
                                                                Instant.now().getEpochSecond())))
                                        .setRequest(HTTPRequestProperties.newBuilder()
                                                .setPath("/payments/transfer")
                                                .setRequestId(requestId))))
                        .build());
                envoy.onCompleted();
                return closed.get(30, TimeUnit.SECONDS);
            } finally {
                channel.shutdownNow();
            }
        }

        /** Access-log entries the receiver took, whatever port they came on. */
        double recorded() {
            return metrics.registry().find("meshguard.audit.als.entries").tags("result", "recorded").counters().stream()
                    .mapToDouble(c -> c.count())
                    .sum();
        }

        @Override
        public void close() throws Exception {
            try (metrics;
                    stack) {
                // the stack stops the server, then the audit component and its listener
            }
        }
    }
}
