package io.meshguard.dlpserver;

import io.meshguard.dlp.policy.Direction;
import io.meshguard.runtime.tracing.RpcMethod;
import io.meshguard.runtime.tracing.SpanAttributes;
import io.meshguard.runtime.tracing.Tracing;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import java.util.Map;
import java.util.Optional;

/**
 * The one SERVER span of an ext_proc stream ({@code envoy.service.ext_proc.v3.ExternalProcessor/Process}): never a
 * span per chunk, so a long SSE answer costs one span. Findings and blocks are span events that name the detector,
 * action, direction and reason only, never the value found or where in the body it was. Its parent is Envoy's egress
 * span from the stream's metadata, else the trace headers of the request-headers message; the span starts when the
 * stream opened. Used from the stream's handler thread only (as the session's state is).
 */
final class StreamSpan {
    /** Findings recorded as events per stream; the total is an attribute (an SSE answer may hold thousands). */
    static final int MAX_FINDING_EVENTS = 32;

    private final Tracing tracing;
    private final Context metadataParent;
    private final long openedAt;
    private Span span = Span.getInvalid();
    private boolean started;
    private long findings;

    private StreamSpan(Tracing tracing, Context metadataParent, long openedAt) {
        this.tracing = tracing;
        this.metadataParent = metadataParent;
        this.openedAt = openedAt;
    }

    /** Called where the stream opens (in the call's gRPC context, so the metadata is at hand). */
    static StreamSpan open(Tracing tracing) {
        return new StreamSpan(tracing, tracing.callParent(), System.nanoTime());
    }

    /** Starts the span with the request's headers as the fallback parent (lowercase names). */
    void requestHeaders(Map<String, String> headers) {
        if (started || !tracing.enabled()) {
            return;
        }
        start(name -> Optional.ofNullable(headers.get(name)));
    }

    private void start(java.util.function.Function<String, Optional<String>> headers) {
        started = true;
        Context parent = metadataParent;
        String source = "grpc_metadata";
        if (!Tracing.hasParent(parent)) {
            parent = tracing.headerParent(headers);
            source = Tracing.hasParent(parent) ? "request_headers" : "none";
        }
        span = tracing.startServerSpan(RpcMethod.EXT_PROC_PROCESS, parent, source, openedAt);
    }

    /** A detector matched (its action applied). */
    void finding(String detector, String action, Direction direction) {
        if (!span.isRecording()) {
            return;
        }
        if (findings++ < MAX_FINDING_EVENTS) {
            span.addEvent(
                    "meshguard.dlp.finding",
                    Attributes.of(
                            SpanAttributes.DETECTOR,
                            detector,
                            SpanAttributes.ACTION,
                            action,
                            SpanAttributes.DIRECTION,
                            direction.id()));
        }
    }

    /** The stream was blocked ({@code detector} empty when no finding caused it). */
    void blocked(Direction direction, String reason, String detector) {
        if (!span.isRecording()) {
            return;
        }
        span.addEvent(
                "meshguard.dlp.block",
                detector.isEmpty()
                        ? Attributes.of(SpanAttributes.DIRECTION, direction.id(), SpanAttributes.REASON, reason)
                        : Attributes.of(
                                SpanAttributes.DIRECTION,
                                direction.id(),
                                SpanAttributes.REASON,
                                reason,
                                SpanAttributes.DETECTOR,
                                detector,
                                SpanAttributes.ACTION,
                                "block"));
    }

    /**
     * Ends the span.
     *
     * @param result the api_call row's result: pass, rewritten, blocked, error, cancelled, deadline
     * @param grpcStatus the status the stream ended with
     */
    void end(String result, String route, String requestProfile, String responseProfile, int grpcStatus) {
        if (!tracing.enabled()) {
            return;
        }
        if (!started) {
            start(name -> Optional.empty());
        }
        if (!span.isRecording()) {
            return;
        }
        span.setAttribute(SpanAttributes.DECISION, result);
        span.setAttribute(SpanAttributes.RPC_GRPC_STATUS_CODE, (long) grpcStatus);
        span.setAttribute("meshguard.dlp.findings", findings);
        if (!route.isEmpty()) {
            span.setAttribute(SpanAttributes.ROUTE, route);
        }
        if (!requestProfile.isEmpty()) {
            span.setAttribute(SpanAttributes.PROFILE, requestProfile);
        }
        if (!responseProfile.isEmpty() && !responseProfile.equals(requestProfile)) {
            span.setAttribute("meshguard.response_profile", responseProfile);
        }
        // blocks and cancellations are outcomes, not failures; an internal error or a missed deadline is one
        if (result.equals("error") || result.equals("deadline")) {
            span.setStatus(StatusCode.ERROR, result);
        }
        span.end();
    }
}
