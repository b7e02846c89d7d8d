package io.meshguard.runtime.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.meshguard.runtime.logging.LogContext;
import io.meshguard.runtime.logging.TraceParent;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Puts {@code request_id} (from {@code x-request-id} metadata) and {@code trace_id} (from a valid W3C
 * {@code traceparent}) into the SLF4J MDC around every callback of a call, so log lines written while
 * serving it carry them. Calls without either header pay nothing.
 */
public final class RequestLogContextInterceptor implements ServerInterceptor {
    private static final Metadata.Key<String> REQUEST_ID =
            Metadata.Key.of(LogContext.REQUEST_ID_HEADER, Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> TRACEPARENT =
            Metadata.Key.of(LogContext.TRACEPARENT_HEADER, Metadata.ASCII_STRING_MARSHALLER);

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        Map<String, String> context = new LinkedHashMap<>();
        String requestId = headers.get(REQUEST_ID);
        if (requestId != null) {
            context.put(LogContext.REQUEST_ID, requestId);
        }
        TraceParent.parse(headers.get(TRACEPARENT)).ifPresent(t -> context.put(LogContext.TRACE_ID, t.traceId()));
        if (context.isEmpty()) {
            return next.startCall(call, headers);
        }
        ServerCall.Listener<Q> delegate = call(context, () -> next.startCall(call, headers));
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
            @Override
            public void onMessage(Q message) {
                run(context, () -> super.onMessage(message));
            }

            @Override
            public void onHalfClose() {
                run(context, super::onHalfClose);
            }

            @Override
            public void onCancel() {
                run(context, super::onCancel);
            }

            @Override
            public void onComplete() {
                run(context, super::onComplete);
            }

            @Override
            public void onReady() {
                run(context, super::onReady);
            }
        };
    }

    private static void run(Map<String, String> context, Runnable action) {
        try (LogContext ignored = LogContext.of(context)) {
            action.run();
        }
    }

    private static <T> T call(Map<String, String> context, Supplier<T> action) {
        try (LogContext ignored = LogContext.of(context)) {
            return action.get();
        }
    }
}
