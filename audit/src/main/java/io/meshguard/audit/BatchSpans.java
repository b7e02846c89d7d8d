package io.meshguard.audit;

import io.meshguard.runtime.tracing.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;

/**
 * A CLIENT span per audit batch written to PostgreSQL ({@code meshguard.audit.write}): path (direct or replay), row
 * count, method, outcome. Attributes follow OpenTelemetry's database conventions ({@code db.system.name},
 * {@code db.operation.name}, {@code db.operation.batch.size}); no statement text and no row content. A root span:
 * a batch mixes rows of many requests (each row keeps its request's trace id in its own column).
 */
final class BatchSpans {
    private static final AttributeKey<String> DB_SYSTEM = AttributeKey.stringKey("db.system.name");
    private static final AttributeKey<String> DB_OPERATION = AttributeKey.stringKey("db.operation.name");
    private static final AttributeKey<Long> BATCH_SIZE = AttributeKey.longKey("db.operation.batch.size");
    private static final AttributeKey<String> PATH = AttributeKey.stringKey("meshguard.audit.path");
    private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("meshguard.audit.outcome");

    private final Tracing tracing;
    private final String operation;

    BatchSpans(Tracing tracing, BatchWriteMethod method) {
        this.tracing = tracing;
        this.operation = method.name();
    }

    /** Starts the span of one batch ({@code path}: direct or replay); the invalid span when tracing is off. */
    Span start(String path, int rows) {
        if (!tracing.enabled()) {
            return Span.getInvalid();
        }
        return tracing.tracer()
                .spanBuilder("meshguard.audit.write")
                .setSpanKind(SpanKind.CLIENT)
                .setNoParent()
                .setAttribute(DB_SYSTEM, "postgresql")
                .setAttribute(DB_OPERATION, operation)
                .setAttribute(BATCH_SIZE, (long) rows)
                .setAttribute(PATH, path)
                .startSpan();
    }

    /** Ends it: {@code written}, {@code rows_one_by_one} (a bad row split the batch), or {@code spooled}. */
    static void end(Span span, String outcome) {
        if (!span.isRecording()) {
            return;
        }
        span.setAttribute(OUTCOME, outcome);
        if (outcome.equals("spooled")) {
            // PostgreSQL did not take the batch: an internal failure (the rows are safe in the spool)
            span.setStatus(StatusCode.ERROR, "database unavailable");
        }
        span.end();
    }
}
