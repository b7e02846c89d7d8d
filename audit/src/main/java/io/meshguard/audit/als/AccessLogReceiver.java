package io.meshguard.audit.als;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditSink;
import io.meshguard.runtime.grpc.RawBytesMarshaller;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC service {@code envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs}: one long-lived client stream
 * per Envoy access logger; the first message carries the identifier (node, log name), later ones may omit it.
 * Every HTTP entry becomes an {@code api_call} event handed to the {@link AuditSink}; entries from the gateway the
 * xDS controller configures are also counted per API version ({@link ApiUsageMetrics}).
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

    private final AuditSink sink;
    private final AccessLogMapper mapper;
    private final ApiUsageMetrics usage;
    private final Counter recorded;
    private final Counter malformed;
    private final Counter refused;
    private final Counter ignoredTcp;
    private final AtomicInteger openStreams = new AtomicInteger();
    private final AtomicLong lastMalformedLogNanos = new AtomicLong(System.nanoTime() - TimeUnit.MINUTES.toNanos(1));

    public AccessLogReceiver(AuditSink sink, AccessLogMapper mapper, MeterRegistry meters) {
        this(sink, mapper, meters, new ApiUsageMetrics(meters, Clock.systemUTC()));
    }

    /** @param usage counts the gateway's requests per API version (entries carrying the route's usage tags) */
    public AccessLogReceiver(AuditSink sink, AccessLogMapper mapper, MeterRegistry meters, ApiUsageMetrics usage) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.mapper = Objects.requireNonNull(mapper, "mapper");
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
        return ServerServiceDefinition.builder(descriptor)
                .addMethod(METHOD, ServerCalls.asyncClientStreamingCall(this::streamAccessLogs))
                .build();
    }

    /** Streams currently open (one per Envoy access logger). */
    public int openStreams() {
        return openStreams.get();
    }

    private StreamObserver<byte[]> streamAccessLogs(StreamObserver<StreamAccessLogsResponse> response) {
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
                    event = mapper.toEvent(entry, node, logName);
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
