package io.meshguard.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.meshguard.runtime.tracing.Tracing;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.Span;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** meshguard's OTLP/gRPC sender (grpc-java) against a real receiver: headers, compression, resource, failures. */
@IntegrationTest
class OtlpExportTest {

    @Test
    void export_carriesTheConfiguredHeaders_gzipCompressed_withTheServiceName() throws Exception {
        try (OtlpTraceReceiver collector = OtlpTraceReceiver.start()) {
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            Tracing tracing = Tracing.fromEnvironment(
                    Map.of(
                            "OTEL_TRACES_EXPORTER",
                            "otlp",
                            "OTEL_EXPORTER_OTLP_ENDPOINT",
                            collector.endpoint(),
                            "OTEL_EXPORTER_OTLP_HEADERS",
                            "x-api-key=vendor%20key,x-scope=bank",
                            "OTEL_EXPORTER_OTLP_COMPRESSION",
                            "gzip",
                            "OTEL_SERVICE_NAME",
                            "authz-eu",
                            "OTEL_RESOURCE_ATTRIBUTES",
                            "deployment.environment=prod"),
                    "meshguard-extauthz",
                    meters);
            Span span = tracing.tracer().spanBuilder("probe").startSpan();
            span.end();
            tracing.close(); // flushes
            assertThat(collector.spans("probe")).hasSize(1);
            Metadata call = collector.callMetadata().get(0);
            assertThat(call.get(Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER)))
                    .isEqualTo("vendor key");
            assertThat(call.get(Metadata.Key.of("x-scope", Metadata.ASCII_STRING_MARSHALLER)))
                    .isEqualTo("bank");
            assertThat(call.get(Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER)))
                    .isEqualTo("gzip");
            assertThat(collector.resourceAttribute("service.name")).contains("authz-eu");
            assertThat(collector.resourceAttribute("deployment.environment")).contains("prod");
            assertThat(meters.get("meshguard_tracing_spans_exported_total")
                            .tag("outcome", "success")
                            .counter()
                            .count())
                    .isEqualTo(1.0);
            assertThat(meters.get("meshguard_tracing_enabled").gauge().value()).isEqualTo(1.0);
        }
    }

    @Test
    void collectorDown_spansAreCountedAsFailed_andNothingWaitsOnIt() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Tracing tracing = Tracing.fromEnvironment(
                Map.of(
                        "OTEL_TRACES_EXPORTER",
                        "otlp",
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        "http://127.0.0.1:" + closedPort,
                        "OTEL_BSP_SCHEDULE_DELAY",
                        "10",
                        "OTEL_EXPORTER_OTLP_TIMEOUT",
                        "2000"),
                "meshguard-extauthz",
                meters);
        for (int i = 0; i < 10; i++) {
            tracing.tracer().spanBuilder("lost").startSpan().end();
        }
        await().atMost(Duration.ofSeconds(20))
                .until(() -> meters.get("meshguard_tracing_spans_exported_total")
                                .tag("outcome", "failure")
                                .counter()
                                .count()
                        == 10.0);
        assertThat(meters.get("meshguard_tracing_spans_ended_total").counter().count())
                .isEqualTo(10.0);
        tracing.close();
    }
}
