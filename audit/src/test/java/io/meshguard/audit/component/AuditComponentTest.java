package io.meshguard.audit.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.FindingHasher;
import io.meshguard.audit.query.AuditQuery;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.audit.spool.FsyncPolicy;
import io.meshguard.audit.spool.SpoolFullPolicy;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigException;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.StreamSink;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

@IntegrationTest
class AuditComponentTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    private static final ConfigSchema SCHEMA =
            ConfigSchema.builder().add(AuditConfig.configGroup()).build();

    @Test
    void config_readsEveryKeyFromTheEnvironment() throws Exception {
        Config c = ConfigLoader.load(
                SCHEMA,
                Optional.empty(),
                Map.of(
                        "MESHGUARD_AUDIT_SPOOL_DIR", dir.toString(),
                        "MESHGUARD_AUDIT_SPOOL_WHEN_FULL", "drop_oldest",
                        "MESHGUARD_AUDIT_SPOOL_FSYNC", "interval",
                        "MESHGUARD_AUDIT_SPOOL_MAX_BYTES", "64MiB",
                        "MESHGUARD_AUDIT_WRITE_METHOD", "insert",
                        "MESHGUARD_AUDIT_RETENTION_MONTHS", "24",
                        "MESHGUARD_AUDIT_ALS_TENANT_HEADER", "X-Org-Id",
                        "MESHGUARD_AUDIT_KEEP_QUERY_STRING", "true"));
        AuditSettings s = AuditConfig.read(c);
        assertThat(s.writer().spool().directory()).isEqualTo(dir);
        assertThat(s.writer().spool().whenFull()).isEqualTo(SpoolFullPolicy.DROP_OLDEST);
        assertThat(s.writer().spool().fsync()).isEqualTo(FsyncPolicy.INTERVAL);
        assertThat(s.writer().spool().maxBytes()).isEqualTo(64L * 1024 * 1024);
        assertThat(s.writer().method()).isEqualTo(BatchWriteMethod.INSERT);
        assertThat(s.writer().paths().keepQueryString()).isTrue();
        assertThat(s.retentionMonths()).isEqualTo(24);
        assertThat(s.alsHeaders().tenant()).isEqualTo("x-org-id");
        assertThat(s.alsPort()).isEmpty();
    }

    @Test
    void config_invalidValue_namesTheKey() {
        assertThatThrownBy(() ->
                        ConfigLoader.load(SCHEMA, Optional.empty(), Map.of("MESHGUARD_AUDIT_SPOOL_WHEN_FULL", "panic")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("audit.spool.when_full");
    }

    @Test
    void findingHasher_comesFromKeyFileOrEnvironment_neverFromConfigText() throws Exception {
        Path key = Files.writeString(dir.resolve("hmac.key"), "f".repeat(48), StandardCharsets.UTF_8);
        Config withFile = ConfigLoader.load(
                SCHEMA, Optional.empty(), Map.of("MESHGUARD_AUDIT_DLP_HMAC_KEY_FILE", key.toString()));
        FindingHasher fromFile = AuditConfig.findingHasher(withFile, Map.of()).orElseThrow();
        Config plain = Config.defaults(SCHEMA);
        FindingHasher fromEnv = AuditConfig.findingHasher(plain, Map.of(AuditConfig.HMAC_KEY_ENV, "f".repeat(48)))
                .orElseThrow();
        assertThat(fromFile.hmac("x")).isEqualTo(fromEnv.hmac("x"));
        assertThat(AuditConfig.findingHasher(plain, Map.of())).isEmpty();
        assertThat(plain.values()).noneMatch(v -> v.formatted().contains("ffff"));
    }

    @Test
    void component_receivesEnvoyAccessLogs_writesThem_andReportsReadiness() throws Exception {
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AuditSettings settings = AuditConfig.defaults(dir.resolve("spool"))
                .withAlsBind("127.0.0.1")
                .withAlsPort(Optional.of(0));
        AuditComponent audit = AuditComponent.create(
                settings,
                ConnectionSource.forUrl(PG.jdbcUrl(), PG.user(), PG.password(), Duration.ofSeconds(5)),
                PG.dataSource(),
                meters);
        Instant start = Instant.parse("2026-11-21T19:00:00Z");
        try (audit) {
            audit.start();
            ManagedChannel channel = NettyChannelBuilder.forAddress(
                            "127.0.0.1", audit.accessLogPort().orElseThrow())
                    .usePlaintext()
                    .build();
            try {
                StreamObserver<StreamAccessLogsMessage> envoy =
                        AccessLogServiceGrpc.newStub(channel).streamAccessLogs(StreamSink.discarding());
                envoy.onNext(StreamAccessLogsMessage.newBuilder()
                        .setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                                .setNode(Node.newBuilder().setId("gw-1"))
                                .setLogName("als"))
                        .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder()
                                .addLogEntry(HTTPAccessLogEntry.newBuilder()
                                        .setCommonProperties(AccessLogCommon.newBuilder()
                                                .setStartTime(
                                                        Timestamp.newBuilder().setSeconds(start.getEpochSecond())))
                                        .setRequest(HTTPRequestProperties.newBuilder()
                                                .setRequestMethod(RequestMethod.GET)
                                                .setPath("/v1/x?y=1")
                                                .setRequestId("als-req-1")
                                                .putRequestHeaders("x-tenant-id", "acme"))
                                        .setResponse(HTTPResponseProperties.newBuilder()
                                                .setResponseCode(UInt32Value.of(200)))))
                        .build());
                AuditReader reader = new AuditReader(PG.dataSource());
                await().atMost(20, TimeUnit.SECONDS)
                        .until(() -> !reader.query(AuditQuery.since(start).withRequestId("als-req-1"))
                                .isEmpty());
                AuditEvent stored = reader.query(AuditQuery.since(start).withRequestId("als-req-1"))
                        .get(0);
                assertThat(stored.kind()).isEqualTo(AuditKind.API_CALL);
                assertThat(stored.tenant()).hasValue("acme");
                assertThat(stored.path()).hasValue("/v1/x");
                envoy.onCompleted();
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }

            List<ReadinessCheck> checks = audit.readinessChecks();
            assertThat(checks).hasSize(1);
            ReadinessCheck.Result r = checks.get(0).check();
            assertThat(r.ready()).isTrue();
            assertThat(r.detail()).contains("writing to PostgreSQL");

            String scrape = meters.scrape();
            assertThat(scrape)
                    .contains(
                            "meshguard_audit_events_written_total",
                            "meshguard_audit_events_recorded_total",
                            "meshguard_audit_events_spooled_total",
                            "meshguard_audit_events_replayed_total",
                            "meshguard_audit_events_dropped_total{reason=\"queue_full\"}",
                            "meshguard_audit_spool_bytes",
                            "meshguard_audit_queue_events",
                            "meshguard_audit_batch_write_seconds",
                            "meshguard_audit_als_entries_total{result=\"recorded\"}",
                            "meshguard_audit_partitions_added_total");
        }
        assertThat(audit.readinessChecks().get(0).check().detail()).contains("audit");
    }
}
