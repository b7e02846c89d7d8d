package io.meshguard.runtime.tracing;

import io.grpc.BindableService;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.runtime.config.ConfigException;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.common.ComponentLoader;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.GrpcSenderProvider;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Distributed tracing for a meshguard process: the OpenTelemetry SDK with the OTLP/gRPC exporter behind a batch span
 * processor, configured by the standard {@code OTEL_*} variables ({@link TracingSettings}). Every server takes one
 * {@code Tracing}; {@code meshguard up} shares one across its servers.
 *
 * <p>Off (the default) it is a no-op tracer: no SDK, no exporter thread, no connection, and the per-request code
 * paths skip extraction entirely ({@link #enabled()}).
 *
 * <p>Parent context: Envoy's gRPC client opens its own egress span for the side call and injects that span's context
 * into the call's metadata ({@code envoyproxy/envoy: source/common/grpc/async_client_impl.cc},
 * {@code AsyncStreamImpl::initialize} → {@code current_span_->injectContext(...)} on the request headers; same in
 * {@code google_async_client_impl.cc}). So the metadata is read first; when it carries no context (a tracer that
 * injects nothing, or an older proxy), the HTTP request's own headers are the fallback: the CheckRequest's
 * {@code attributes.request.http.headers}, or ext_proc's request-headers message. Sampling follows the parent's flag
 * (parent-based sampler by default).
 *
 * <p>As a {@link ServerComponent}, it is started first and closed last, so closing flushes what the servers recorded
 * while they drained.
 */
public final class Tracing implements ServerComponent {
    private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);
    private static final Context.Key<Metadata> CALL_METADATA = Context.key("meshguard-call-metadata");
    private static final TextMapGetter<Metadata> METADATA_GETTER = new MetadataGetter();
    private static final TextMapGetter<Function<String, Optional<String>>> HEADERS_GETTER = new HeadersGetter();

    private final boolean enabled;
    private final Optional<OpenTelemetrySdk> sdk;
    private final Optional<ManagedChannel> channel;
    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final TracingSettings settings;

    private Tracing(
            TracingSettings settings,
            Optional<OpenTelemetrySdk> sdk,
            Optional<ManagedChannel> channel,
            TextMapPropagator propagator) {
        this.settings = settings;
        this.enabled = sdk.isPresent();
        this.sdk = sdk;
        this.channel = channel;
        this.tracer =
                sdk.<OpenTelemetry>map(s -> s).orElse(OpenTelemetry.noop()).getTracer("io.meshguard");
        this.propagator = propagator;
    }

    /** Tracing off: a no-op tracer. */
    public static Tracing disabled() {
        return new Tracing(TracingSettings.off(), Optional.empty(), Optional.empty(), TextMapPropagator.noop());
    }

    /**
     * Reads {@code OTEL_*} from {@code env} and builds tracing.
     *
     * @param defaultServiceName {@code service.name} unless {@code OTEL_SERVICE_NAME} says otherwise
     * @throws ConfigException naming every bad variable
     */
    public static Tracing fromEnvironment(Map<String, String> env, String defaultServiceName, MeterRegistry registry)
            throws ConfigException {
        return create(TracingSettings.fromEnvironment(env), defaultServiceName, registry);
    }

    /** Builds tracing from checked settings; off settings give {@link #disabled()} plus the enabled gauge. */
    public static Tracing create(TracingSettings settings, String defaultServiceName, MeterRegistry registry) {
        Gauge.builder("meshguard_tracing_enabled", () -> settings.exporting() ? 1 : 0)
                .description(
                        "1 when spans are recorded and exported over OTLP (OTEL_TRACES_EXPORTER=otlp), 0 when tracing is off")
                .strongReference(true)
                .register(registry);
        if (!settings.exporting()) {
            return new Tracing(settings, Optional.empty(), Optional.empty(), TextMapPropagator.noop());
        }
        ManagedChannel channel = channel(settings);
        GrpcSenderProvider sender = GrpcJavaSender.provider(channel, settings.gzip());
        ComponentLoader classpath = ComponentLoader.forClassLoader(Tracing.class.getClassLoader());
        SpanExporter otlp = OtlpGrpcSpanExporter.builder()
                .setEndpoint(settings.endpoint().toString())
                .setTimeout(settings.timeout())
                .setHeaders(settings::headers)
                .setComponentLoader(new ComponentLoader() {
                    @Override
                    @SuppressWarnings("unchecked")
                    public <T> Iterable<T> load(Class<T> spi) {
                        return spi == GrpcSenderProvider.class ? List.of((T) sender) : classpath.load(spi);
                    }
                })
                .build();
        Counter exported = Counter.builder("meshguard_tracing_spans_exported_total")
                .tag("outcome", "success")
                .description("Spans sent to the OTLP collector, by outcome (failure: the batch was dropped)")
                .register(registry);
        Counter failed = Counter.builder("meshguard_tracing_spans_exported_total")
                .tag("outcome", "failure")
                .description("Spans sent to the OTLP collector, by outcome (failure: the batch was dropped)")
                .register(registry);
        Counter ended = Counter.builder("meshguard_tracing_spans_ended_total")
                .description(
                        "Sampled spans handed to the batch processor; ended minus exported is what the queue dropped or still holds")
                .register(registry);
        TracingSettings.Batch batch = settings.batch();
        BatchSpanProcessor processor = BatchSpanProcessor.builder(new CountingExporter(otlp, exported, failed))
                .setScheduleDelay(batch.scheduleDelay())
                .setExporterTimeout(batch.exportTimeout())
                .setMaxQueueSize(batch.maxQueueSize())
                .setMaxExportBatchSize(batch.maxExportBatchSize())
                .build();
        AttributesBuilder resource = Attributes.builder();
        settings.resourceAttributes().forEach(resource::put);
        resource.put("service.name", settings.serviceName().orElse(defaultServiceName));
        SdkTracerProvider provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(resource.build())))
                .setSampler(sampler(settings))
                .addSpanProcessor(new EndedSpanCounter(ended))
                .addSpanProcessor(processor)
                .build();
        TextMapPropagator propagator = propagator(settings.propagators());
        OpenTelemetrySdk sdk =
                OpenTelemetrySdk.builder().setTracerProvider(provider).build();
        LOG.atInfo()
                .addKeyValue("endpoint", settings.endpoint())
                .addKeyValue("sampler", settings.sampler())
                .log(
                        "tracing on: OTLP/gRPC to {}, sampler {} (ratio {}), propagators {}",
                        settings.endpoint(),
                        settings.sampler(),
                        settings.samplerRatio(),
                        settings.propagators());
        return new Tracing(settings, Optional.of(sdk), Optional.of(channel), propagator);
    }

    private static ManagedChannel channel(TracingSettings settings) {
        boolean tls = "https".equalsIgnoreCase(settings.endpoint().getScheme());
        int port = settings.endpoint().getPort() >= 0 ? settings.endpoint().getPort() : tls ? 443 : 80;
        ChannelCredentials credentials = InsecureChannelCredentials.create();
        if (tls) {
            try {
                TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
                if (settings.trustedCertificates().isPresent()) {
                    builder.trustManager(settings.trustedCertificates().get().toFile());
                }
                if (settings.clientCertificate().isPresent()
                        && settings.clientKey().isPresent()) {
                    builder.keyManager(
                            settings.clientCertificate().get().toFile(),
                            settings.clientKey().get().toFile());
                }
                credentials = builder.build();
            } catch (IOException e) {
                throw new IllegalArgumentException(
                        "OTEL_EXPORTER_OTLP certificates cannot be read: " + e.getMessage(), e);
            }
        }
        // grpc-java connects lazily: nothing is dialled until the first batch is exported.
        return NettyChannelBuilder.forAddress(settings.endpoint().getHost(), port, credentials)
                .build();
    }

    private static Sampler sampler(TracingSettings settings) {
        return switch (settings.sampler()) {
            case ALWAYS_ON -> Sampler.alwaysOn();
            case ALWAYS_OFF -> Sampler.alwaysOff();
            case TRACEIDRATIO -> Sampler.traceIdRatioBased(settings.samplerRatio());
            case PARENTBASED_ALWAYS_ON -> Sampler.parentBased(Sampler.alwaysOn());
            case PARENTBASED_ALWAYS_OFF -> Sampler.parentBased(Sampler.alwaysOff());
            case PARENTBASED_TRACEIDRATIO -> Sampler.parentBased(Sampler.traceIdRatioBased(settings.samplerRatio()));
        };
    }

    private static TextMapPropagator propagator(List<TracingSettings.Propagator> kinds) {
        // B3Propagator extracts both the single `b3` header and the `x-b3-*` set whichever way it injects.
        return TextMapPropagator.composite(kinds.stream()
                .map(kind -> switch (kind) {
                    case TRACECONTEXT -> W3CTraceContextPropagator.getInstance();
                    case BAGGAGE -> W3CBaggagePropagator.getInstance();
                    case B3 -> B3Propagator.injectingSingleHeader();
                    case B3MULTI -> B3Propagator.injectingMultiHeaders();
                })
                .toList());
    }

    /** Whether spans are recorded and exported. */
    public boolean enabled() {
        return enabled;
    }

    /** The settings in force. */
    public TracingSettings settings() {
        return settings;
    }

    /** The tracer for INTERNAL and CLIENT spans (a no-op tracer when off). */
    public Tracer tracer() {
        return tracer;
    }

    /**
     * The service with the interceptor that keeps each call's metadata for {@link #callParent()}; the service itself
     * when tracing is off.
     */
    public ServerServiceDefinition bind(BindableService service) {
        return enabled ? ServerInterceptors.intercept(service, new MetadataCapture()) : service.bindService();
    }

    /** The parent found in the current gRPC call's metadata (Envoy's egress span); root when none or off. */
    public io.opentelemetry.context.Context callParent() {
        if (!enabled) {
            return io.opentelemetry.context.Context.root();
        }
        Metadata metadata = CALL_METADATA.get();
        return metadata == null
                ? io.opentelemetry.context.Context.root()
                : propagator.extract(io.opentelemetry.context.Context.root(), metadata, METADATA_GETTER);
    }

    /** The parent found in an HTTP request's headers (looked up by lowercase name); root when none or off. */
    public io.opentelemetry.context.Context headerParent(Function<String, Optional<String>> headers) {
        if (!enabled) {
            return io.opentelemetry.context.Context.root();
        }
        return propagator.extract(io.opentelemetry.context.Context.root(), headers, HEADERS_GETTER);
    }

    /** Whether {@code context} holds a usable (valid) parent span context. */
    public static boolean hasParent(io.opentelemetry.context.Context context) {
        return Span.fromContext(context).getSpanContext().isValid();
    }

    /**
     * Starts the SERVER span of a unary call: parent from the call's metadata, else from {@code requestHeaders}.
     * Returns the invalid (no-op) span when tracing is off.
     *
     * @param startNanoTime {@link System#nanoTime()} when the call began (the span is back-dated to it)
     */
    public Span startServerSpan(RpcMethod rpc, Function<String, Optional<String>> requestHeaders, long startNanoTime) {
        if (!enabled) {
            return Span.getInvalid();
        }
        io.opentelemetry.context.Context parent = callParent();
        String source = "grpc_metadata";
        if (!hasParent(parent)) {
            parent = headerParent(requestHeaders);
            source = hasParent(parent) ? "request_headers" : "none";
        }
        return startServerSpan(rpc, parent, source, startNanoTime);
    }

    /**
     * Starts a SERVER span under {@code parent}, back-dated to when the call began (a stream's span starts when the
     * stream opened, even if the parent is only known from its first message).
     *
     * @param parentSource {@code grpc_metadata}, {@code request_headers} or {@code none}, recorded on the span
     * @param startNanoTime {@link System#nanoTime()} when the call began
     */
    public Span startServerSpan(
            RpcMethod rpc, io.opentelemetry.context.Context parent, String parentSource, long startNanoTime) {
        if (!enabled) {
            return Span.getInvalid();
        }
        java.time.Instant now = java.time.Instant.now();
        long startEpochNanos =
                now.getEpochSecond() * 1_000_000_000L + now.getNano() - Math.max(0, System.nanoTime() - startNanoTime);
        return tracer.spanBuilder(rpc.spanName())
                .setParent(parent)
                .setSpanKind(SpanKind.SERVER)
                .setStartTimestamp(startEpochNanos, TimeUnit.NANOSECONDS)
                .setAttribute(SpanAttributes.RPC_SYSTEM, "grpc")
                .setAttribute(SpanAttributes.RPC_SERVICE, rpc.service())
                .setAttribute(SpanAttributes.RPC_METHOD, rpc.method())
                .setAttribute(SpanAttributes.PARENT_SOURCE, parentSource)
                .startSpan();
    }

    /** No work: the SDK is built by the factory. Present so the stack closes (flushes) tracing last. */
    @Override
    public void start() {}

    @Override
    public String name() {
        return "tracing";
    }

    /**
     * Puts the span's {@code trace_id} and {@code span_id} into the logging MDC (nothing when the span is invalid,
     * e.g. tracing off); close it on the same thread.
     */
    public static io.meshguard.runtime.logging.LogContext logContext(Span span) {
        io.opentelemetry.api.trace.SpanContext context = span.getSpanContext();
        if (!context.isValid()) {
            return io.meshguard.runtime.logging.LogContext.of(Map.of());
        }
        return io.meshguard.runtime.logging.LogContext.of(Map.of(
                io.meshguard.runtime.logging.LogContext.TRACE_ID,
                context.getTraceId(),
                io.meshguard.runtime.logging.LogContext.SPAN_ID,
                context.getSpanId()));
    }

    /** Exports what is queued (bounded by the export timeout) and stops the exporter. Idempotent. */
    @Override
    public void close() {
        if (sdk.isEmpty()) {
            return;
        }
        CompletableResultCode done = sdk.get().shutdown();
        done.join(settings.batch().exportTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS);
        if (!done.isSuccess()) {
            LOG.warn("tracing: not every queued span could be exported before shutdown");
        }
        channel.ifPresent(ManagedChannel::shutdownNow);
    }

    /** Keeps each call's metadata in the gRPC context (only installed while tracing is on). */
    private static final class MetadataCapture implements ServerInterceptor {
        @Override
        public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(
                io.grpc.ServerCall<Q, A> call, Metadata headers, io.grpc.ServerCallHandler<Q, A> next) {
            return Contexts.interceptCall(Context.current().withValue(CALL_METADATA, headers), call, headers, next);
        }
    }

    private static final class MetadataGetter implements TextMapGetter<Metadata> {
        @Override
        public Iterable<String> keys(Metadata carrier) {
            return carrier.keys();
        }

        @Override
        public String get(Metadata carrier, String key) {
            if (carrier == null || key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                return null;
            }
            return carrier.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        }
    }

    private static final class HeadersGetter implements TextMapGetter<Function<String, Optional<String>>> {
        @Override
        public Iterable<String> keys(Function<String, Optional<String>> carrier) {
            return List.of();
        }

        @Override
        public String get(Function<String, Optional<String>> carrier, String key) {
            // OTel's B3 extractor asks for "X-B3-TraceId"; HTTP names are case-insensitive and looked up lowercase
            return carrier == null
                    ? null
                    : carrier.apply(key.toLowerCase(java.util.Locale.ROOT)).orElse(null);
        }
    }

    /** Counts exported spans by outcome. */
    private record CountingExporter(SpanExporter delegate, Counter exported, Counter failed) implements SpanExporter {
        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            int n = spans.size();
            CompletableResultCode result = delegate.export(spans);
            result.whenComplete(() -> (result.isSuccess() ? exported : failed).increment(n));
            return result;
        }

        @Override
        public CompletableResultCode flush() {
            return delegate.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return delegate.shutdown();
        }
    }

    /** Counts sampled spans as they end. */
    private record EndedSpanCounter(Counter ended) implements io.opentelemetry.sdk.trace.SpanProcessor {
        @Override
        public void onStart(
                io.opentelemetry.context.Context parentContext, io.opentelemetry.sdk.trace.ReadWriteSpan span) {}

        @Override
        public boolean isStartRequired() {
            return false;
        }

        @Override
        public void onEnd(io.opentelemetry.sdk.trace.ReadableSpan span) {
            ended.increment();
        }

        @Override
        public boolean isEndRequired() {
            return true;
        }
    }
}
