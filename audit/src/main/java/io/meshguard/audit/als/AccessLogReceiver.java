package io.meshguard.audit.als;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditSink;
import io.meshguard.audit.als.AccessLogSenders.Sender;
import io.meshguard.contract.peer.ClientText;
import io.meshguard.contract.peer.XfccHeader;
import io.meshguard.runtime.grpc.RawBytesMarshaller;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC service {@code envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs}: one long-lived client stream
 * per Envoy access logger; the first message carries the identifier (node, log name), later ones may omit it.
 * Every HTTP entry becomes an {@code api_call} event handed to the {@link AuditSink}; entries from the gateway the
 * xDS controller configures are also counted per API version ({@link ApiUsageMetrics}).
 *
 * <p>A stream is taken only from a proxy whose identity {@link AccessLogSenders} verified; any other stream is closed
 * before a row is read ({@code meshguard_audit_als_streams_refused_total{reason}}), and every row names its sender.
 *
 * <p>Messages are parsed here rather than by gRPC, so a message that is not valid protobuf, or an entry that
 * lacks what an audit record needs, is counted ({@code meshguard_audit_als_entries_total{result="malformed"}})
 * and skipped while the stream stays up: one bad entry must not cost the records that follow it.
 */
public final class AccessLogReceiver implements BindableService {
    private static final Logger log = LoggerFactory.getLogger(AccessLogReceiver.class);

    /** The method as Envoy calls it, but with the request left as bytes for us to parse. */
    static final MethodDescriptor<byte[], StreamAccessLogsResponse> METHOD =
            AccessLogServiceGrpc.getStreamAccessLogsMethod().toBuilder(
                            RawBytesMarshaller.INSTANCE, // parsed in the observer, where a failure can be contained
                            ProtoUtils.marshaller(StreamAccessLogsResponse.getDefaultInstance()))
                    .build();

    private static final Metadata.Key<String> XFCC = Metadata.Key.of(XfccHeader.NAME, Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Sender> SENDER = Context.key("meshguard.als.sender");

    private final AuditSink sink;
    private final AccessLogMapper mapper;
    private final AccessLogSenders senders;
    private final Map<String, Counter> refusedStreams = new ConcurrentHashMap<>();
    private final ApiUsageMetrics usage;
    private final Counter recorded;
    private final Counter malformed;
    private final Counter refused;
    private final Counter ignoredTcp;
    private final AtomicInteger openStreams = new AtomicInteger();
    private final AtomicLong lastMalformedLogNanos = new AtomicLong(System.nanoTime() - TimeUnit.MINUTES.toNanos(1));

    /** @param senders who may send rows, and what each may say */
    public AccessLogReceiver(AuditSink sink, AccessLogMapper mapper, AccessLogSenders senders, MeterRegistry meters) {
        this(sink, mapper, senders, meters, new ApiUsageMetrics(meters, Clock.systemUTC()));
    }

    /** @param usage counts the gateway's requests per API version (entries carrying the route's usage tags) */
    public AccessLogReceiver(
            AuditSink sink,
            AccessLogMapper mapper,
            AccessLogSenders senders,
            MeterRegistry meters,
            ApiUsageMetrics usage) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.mapper = Objects.requireNonNull(mapper, "mapper");
        this.senders = Objects.requireNonNull(senders, "senders");
        for (String reason : AccessLogSenders.REFUSALS) {
            refusedStreams.put(
                    reason,
                    Counter.builder("meshguard.audit.als.streams.refused")
                            .description("Access-log streams closed before any row was read because the sender was "
                                    + "not a proxy with a verified identity audit.als.senders admits, by reason")
                            .tag("reason", reason)
                            .register(meters));
        }
        log.info(senders.describe());
        this.usage = Objects.requireNonNull(usage, "usage");
        this.recorded = entries(meters, "recorded");
        this.malformed = entries(meters, "malformed");
        this.refused = entries(meters, "refused");
        this.ignoredTcp = entries(meters, "ignored_tcp");
        io.micrometer.core.instrument.Gauge.builder("meshguard.audit.als.streams", openStreams, AtomicInteger::get)
                .description("Envoy access-log (ALS) streams open now")
                .register(meters);
    }

    private static Counter entries(MeterRegistry meters, String result) {
        return Counter.builder("meshguard.audit.als.entries")
                .description("Envoy access-log entries received, by outcome")
                .tag("result", result)
                .register(meters);
    }

    @Override
    public ServerServiceDefinition bindService() {
        ServiceDescriptor generated = AccessLogServiceGrpc.getServiceDescriptor();
        ServiceDescriptor descriptor = ServiceDescriptor.newBuilder(generated.getName())
                .setSchemaDescriptor(generated.getSchemaDescriptor()) // keeps server reflection working
                .addMethod(METHOD)
                .build();
        // the sender check travels with the service, wherever a server hosts it
        return ServerInterceptors.intercept(
                ServerServiceDefinition.builder(descriptor)
                        .addMethod(METHOD, ServerCalls.asyncClientStreamingCall(this::streamAccessLogs))
                        .build(),
                new SenderCheck());
    }

    /** Identifies the stream's sender before any message is read; refuses a stream without an admitted one. */
    private final class SenderCheck implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
                ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            Iterable<String> values = headers.getAll(XFCC);
            List<String> xfcc = values == null
                    ? List.of()
                    : StreamSupport.stream(values.spliterator(), false).toList();
            AccessLogSenders.Identified who =
                    senders.identify(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), xfcc);
            if (who.sender().isEmpty()) {
                refusedStreams.get(who.refusal()).increment();
                log.warn("access-log stream refused ({}): {}", who.refusal(), ClientText.escape(who.reason(), 300));
                call.close(
                        (who.refusal().equals("not_a_proxy") ? Status.PERMISSION_DENIED : Status.UNAUTHENTICATED)
                                .withDescription("access-log sender refused: " + who.reason()),
                        new Metadata());
                return new ServerCall.Listener<>() {};
            }
            return Contexts.interceptCall(
                    Context.current().withValue(SENDER, who.sender().get()), call, headers, next);
        }
    }

    /** Streams currently open (one per Envoy access logger). */
    public int openStreams() {
        return openStreams.get();
    }

    private StreamObserver<byte[]> streamAccessLogs(StreamObserver<StreamAccessLogsResponse> response) {
        Sender sender = Objects.requireNonNull(SENDER.get(), "the sender check runs first");
        openStreams.incrementAndGet();
        return new StreamObserver<>() {
            private String node = "";
            private String logName = "";
            private boolean finished;

            @Override
            public void onNext(byte[] bytes) {
                StreamAccessLogsMessage message;
                try {
                    message = StreamAccessLogsMessage.parseFrom(bytes);
                } catch (InvalidProtocolBufferException e) {
                    malformed(1, "message is not a valid StreamAccessLogsMessage: " + e.getMessage());
                    return;
                }
                if (message.hasIdentifier()) {
                    node = message.getIdentifier().getNode().getId();
                    logName = message.getIdentifier().getLogName();
                }
                switch (message.getLogEntriesCase()) {
                    case HTTP_LOGS -> {
                        for (HTTPAccessLogEntry entry : message.getHttpLogs().getLogEntryList()) {
                            accept(entry);
                        }
                    }
                    case TCP_LOGS -> ignoredTcp.increment(message.getTcpLogs().getLogEntryCount());
                    case LOGENTRIES_NOT_SET -> {
                        if (!message.hasIdentifier()) {
                            malformed(1, "message has neither identifier nor log entries");
                        }
                    }
                }
            }

            private void accept(HTTPAccessLogEntry entry) {
                AuditEvent event;
                try {
                    event = mapper.toEvent(entry, node, logName, sender);
                } catch (MalformedEntryException | RuntimeException e) {
                    malformed(1, "entry from node '" + node + "' skipped: " + e.getMessage());
                    return;
                }
                // counted whether or not the audit writer keeps the row: the metrics are not the audit log
                UsageTags.of(entry.getCommonProperties()).ifPresent(tags -> usage.record(tags, event));
                if (sink.record(event)) {
                    recorded.increment();
                } else {
                    refused.increment(); // the writer counted and logged the loss itself
                }
            }

            @Override
            public void onError(Throwable t) {
                // Envoy reconnects on its own; a reset stream is routine (Envoy restart, drain).
                finish();
                log.debug("access-log stream from node '{}' ended: {}", node, t.toString());
            }

            @Override
            public void onCompleted() {
                finish();
                response.onNext(StreamAccessLogsResponse.getDefaultInstance());
                response.onCompleted();
            }

            private void finish() {
                if (!finished) {
                    finished = true;
                    openStreams.decrementAndGet();
                }
            }
        };
    }

    private void malformed(int count, String why) {
        malformed.increment(count);
        long now = System.nanoTime();
        long last = lastMalformedLogNanos.get();
        if (now - last >= TimeUnit.SECONDS.toNanos(10) && lastMalformedLogNanos.compareAndSet(last, now)) {
            log.warn(
                    "malformed Envoy access-log data skipped (counted in meshguard_audit_als_entries_total, result=malformed): {}",
                    why);
        }
    }
}
