package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.OtlpTraceReceiver;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A CLIENT span per audit batch, as a real OTLP collector receives it: row counts, outcome, no row content. */
@IntegrationTest
class BatchSpanTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path spoolDir;

    @Test
    void eachBatchWrite_isOneClientSpan_withItsRowCount_andNoRowContent() throws Exception {
        try (OtlpTraceReceiver collector = OtlpTraceReceiver.start()) {
            Tracing tracing = collector.tracing("meshguard-audit");
            AuditWriterSettings settings = AuditWriterSettings.defaults(SpoolSettings.defaults(spoolDir))
                    .withBatchSize(100)
                    .withFlushInterval(Duration.ofMillis(20));
            Instant base = Instant.parse("2026-11-21T12:00:00Z");
            try (AuditWriter writer = AuditWriter.start(
                    settings,
                    ConnectionSource.forUrl(PG.jdbcUrl(), PG.user(), PG.password(), Duration.ofSeconds(5)),
                    new SimpleMeterRegistry(),
                    tracing)) {
                for (int i = 0; i < 250; i++) {
                    writer.record(AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                            .occurredAt(base.plusMillis(i))
                            .requestId("req-" + i)
                            .subject("subject-secret-" + i)
                            .tenant("tenant-secret")
                            .path("/v1/accounts?iban=DE89370400440532013000")
                            .build());
                }
                assertThat(writer.awaitWritten(Duration.ofSeconds(30))).isTrue();
            }
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> collector.spans("meshguard.audit.write").stream()
                                    .mapToLong(s ->
                                            Long.parseLong(OtlpTraceReceiver.attribute(s, "db.operation.batch.size")
                                                    .orElse("0")))
                                    .sum()
                            == 250);
            List<Span> spans = collector.spans("meshguard.audit.write");
            assertThat(spans).allSatisfy(s -> {
                assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
                assertThat(OtlpTraceReceiver.attribute(s, "db.system.name")).contains("postgresql");
                assertThat(OtlpTraceReceiver.attribute(s, "meshguard.audit.path"))
                        .contains("direct");
                assertThat(OtlpTraceReceiver.attribute(s, "meshguard.audit.outcome"))
                        .contains("written");
                assertThat(OtlpTraceReceiver.attribute(s, "db.operation.batch.size")
                                .map(Long::parseLong)
                                .orElseThrow())
                        .isBetween(1L, 100L);
            });
            assertThat(collector.allText())
                    .doesNotContain("subject-secret")
                    .doesNotContain("tenant-secret")
                    .doesNotContain("DE89370400440532013000")
                    .doesNotContain("req-1");
            tracing.close();
        }
    }
}
