package io.meshguard.testing;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerTransportFilter;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.meshguard.runtime.config.ConfigException;
import io.meshguard.runtime.tracing.Tracing;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real OTLP/gRPC trace receiver for tests: {@code opentelemetry.proto.collector.trace.v1.TraceService/Export} on
 * grpc-java over loopback (port 0), keeping every request it receives and counting the connections made to it.
 */
public final class OtlpTraceReceiver implements AutoCloseable {
    private static final MethodDescriptor<ExportTraceServiceRequest, ExportTraceServiceResponse> EXPORT =
            MethodDescriptor.<ExportTraceServiceRequest, ExportTraceServiceResponse>newBuilder()
                    .setType(MethodDescriptor.MethodType.UNARY)
                    .setFullMethodName("opentelemetry.proto.collector.trace.v1.TraceService/Export")
                    .setRequestMarshaller(ProtoUtils.marshaller(ExportTraceServiceRequest.getDefaultInstance()))
                    .setResponseMarshaller(ProtoUtils.marshaller(ExportTraceServiceResponse.getDefaultInstance()))
                    .build();

    private final List<ExportTraceServiceRequest> requests = new CopyOnWriteArrayList<>();
    private final List<Metadata> metadata = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong spanCount = new java.util.concurrent.atomic.AtomicLong();
    private final boolean keep;
    private final Server server;

    private OtlpTraceReceiver(Server server, boolean keep) {
        this.server = server;
        this.keep = keep;
    }

    /** Starts a receiver on 127.0.0.1 and a free port that keeps every request. */
    public static OtlpTraceReceiver start() throws IOException {
        return start(true);
    }

    /** Starts a receiver that only counts the spans it receives (benchmarks: nothing piles up in memory). */
    public static OtlpTraceReceiver startCounting() throws IOException {
        return start(false);
    }

    private static OtlpTraceReceiver start(boolean keep) throws IOException {
        OtlpTraceReceiver[] self = new OtlpTraceReceiver[1];
        ServerServiceDefinition service = ServerServiceDefinition.builder(
                        "opentelemetry.proto.collector.trace.v1.TraceService")
                .addMethod(EXPORT, ServerCalls.asyncUnaryCall((request, response) -> {
                    long n = 0;
                    for (ResourceSpans rs : request.getResourceSpansList()) {
                        for (ScopeSpans ss : rs.getScopeSpansList()) {
                            n += ss.getSpansCount();
                        }
                    }
                    self[0].spanCount.addAndGet(n);
                    if (self[0].keep) {
                        self[0].requests.add(request);
                    }
                    response.onNext(ExportTraceServiceResponse.getDefaultInstance());
                    response.onCompleted();
                }))
                .build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(io.grpc.ServerInterceptors.intercept(service, new io.grpc.ServerInterceptor() {
                    @Override
                    public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(
                            io.grpc.ServerCall<Q, A> call, Metadata headers, io.grpc.ServerCallHandler<Q, A> next) {
                        self[0].metadata.add(headers);
                        return next.startCall(call, headers);
                    }
                }))
                .addTransportFilter(new ServerTransportFilter() {
                    @Override
                    public Attributes transportReady(Attributes attributes) {
                        self[0].connections.incrementAndGet();
                        return attributes;
                    }
                })
                .build();
        self[0] = new OtlpTraceReceiver(server, keep);
        server.start();
        return self[0];
    }

    /** {@code http://127.0.0.1:PORT}, for {@code OTEL_EXPORTER_OTLP_ENDPOINT}. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getPort();
    }

    /**
     * Tracing for {@code service} that exports here in batches every 20 ms, so a test sees its spans within moments of
     * ending them; its own metrics go to a registry nobody reads.
     */
    public Tracing tracing(String service) throws ConfigException {
        return Tracing.fromEnvironment(
                Map.of(
                        "OTEL_TRACES_EXPORTER",
                        "otlp",
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        endpoint(),
                        "OTEL_BSP_SCHEDULE_DELAY",
                        "20"),
                service,
                new SimpleMeterRegistry());
    }

    /** Spans received so far (kept or not). */
    public long spanCount() {
        return spanCount.get();
    }

    /**
     * Runs a counting receiver on its own: prints {@code http://127.0.0.1:PORT} on one line, then the span count
     * each time a line arrives on stdin; ends when stdin closes. The tracing benchmark runs it in a separate JVM so
     * that decoding the exports does not count as the server's CPU.
     */
    public static void main(String[] args) throws IOException {
        try (OtlpTraceReceiver receiver = startCounting()) {
            System.out.println(receiver.endpoint());
            System.out.flush();
            java.io.BufferedReader in = new java.io.BufferedReader(
                    new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
            while (in.readLine() != null) {
                System.out.println(receiver.spanCount());
                System.out.flush();
            }
        }
    }

    /** Connections ever made to this receiver. */
    public int connections() {
        return connections.get();
    }

    /** Every Export request received, in arrival order. */
    public List<ExportTraceServiceRequest> requests() {
        return List.copyOf(requests);
    }

    /** The metadata of every Export call received. */
    public List<Metadata> callMetadata() {
        return List.copyOf(metadata);
    }

    /** Every span received, across requests. */
    public List<Span> spans() {
        List<Span> out = new ArrayList<>();
        for (ExportTraceServiceRequest request : requests) {
            for (ResourceSpans resource : request.getResourceSpansList()) {
                for (ScopeSpans scope : resource.getScopeSpansList()) {
                    out.addAll(scope.getSpansList());
                }
            }
        }
        return out;
    }

    /** Spans with this name. */
    public List<Span> spans(String name) {
        return spans().stream().filter(s -> s.getName().equals(name)).toList();
    }

    /** A resource attribute of the first request's first resource. */
    public Optional<String> resourceAttribute(String key) {
        return requests.stream()
                .flatMap(r -> r.getResourceSpansList().stream())
                .flatMap(r -> r.getResource().getAttributesList().stream())
                .filter(kv -> kv.getKey().equals(key))
                .map(kv -> text(kv.getValue()))
                .findFirst();
    }

    /** A span attribute as text, when present. */
    public static Optional<String> attribute(Span span, String key) {
        return span.getAttributesList().stream()
                .filter(kv -> kv.getKey().equals(key))
                .map(kv -> text(kv.getValue()))
                .findFirst();
    }

    /** Lowercase hex of a trace or span id. */
    public static String hex(com.google.protobuf.ByteString id) {
        return HexFormat.of().formatHex(id.toByteArray());
    }

    /**
     * Every piece of text a span carries, one per line: its name, status message, trace state, and each attribute key
     * and value of the span, its events and its links, and of the resource. What a leak scan searches.
     */
    public String allText() {
        StringBuilder out = new StringBuilder();
        for (ExportTraceServiceRequest request : requests) {
            for (ResourceSpans resource : request.getResourceSpansList()) {
                appendAll(out, resource.getResource().getAttributesList());
                for (ScopeSpans scope : resource.getScopeSpansList()) {
                    out.append(scope.getScope().getName()).append('\n');
                    for (Span span : scope.getSpansList()) {
                        out.append(span.getName())
                                .append('\n')
                                .append(span.getStatus().getMessage())
                                .append('\n')
                                .append(span.getTraceState())
                                .append('\n');
                        appendAll(out, span.getAttributesList());
                        for (Span.Event event : span.getEventsList()) {
                            out.append(event.getName()).append('\n');
                            appendAll(out, event.getAttributesList());
                        }
                        for (Span.Link link : span.getLinksList()) {
                            out.append(link.getTraceState()).append('\n');
                            appendAll(out, link.getAttributesList());
                        }
                    }
                }
            }
        }
        return out.toString();
    }

    private static void appendAll(StringBuilder out, List<KeyValue> attributes) {
        for (KeyValue kv : attributes) {
            out.append(kv.getKey()).append('=').append(text(kv.getValue())).append('\n');
        }
    }

    private static String text(AnyValue value) {
        return switch (value.getValueCase()) {
            case STRING_VALUE -> value.getStringValue();
            case BOOL_VALUE -> Boolean.toString(value.getBoolValue());
            case INT_VALUE -> Long.toString(value.getIntValue());
            case DOUBLE_VALUE -> Double.toString(value.getDoubleValue());
            case BYTES_VALUE -> value.getBytesValue().toStringUtf8();
            case ARRAY_VALUE ->
                value.getArrayValue().getValuesList().stream()
                        .map(OtlpTraceReceiver::text)
                        .toList()
                        .toString();
            case KVLIST_VALUE ->
                value.getKvlistValue().getValuesList().stream()
                        .map(kv -> kv.getKey() + "=" + text(kv.getValue()))
                        .toList()
                        .toString();
            case VALUE_NOT_SET -> "";
        };
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
