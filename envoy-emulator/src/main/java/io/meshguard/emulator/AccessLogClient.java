package io.meshguard.emulator;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.Map;

/**
 * The gRPC HTTP access logger (source/extensions/access_loggers/grpc/grpc_access_log_impl.cc): one long-lived
 * {@code StreamAccessLogs} stream per log name, the identifier (node, log_name) on its first message only, entries in
 * {@code http_logs}. Envoy batches entries for up to {@code buffer_flush_interval} (1 s); this sends each at once.
 */
final class AccessLogClient implements AutoCloseable {
    private final Map<String, StreamObserver<StreamAccessLogsMessage>> streams = new HashMap<>();
    private final Node node;

    AccessLogClient(Node node) {
        this.node = node;
    }

    synchronized void send(ManagedChannel channel, String logName, HTTPAccessLogEntry entry) {
        StreamAccessLogsMessage.Builder message = StreamAccessLogsMessage.newBuilder()
                .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder()
                        .addLogEntry(entry));
        StreamObserver<StreamAccessLogsMessage> stream = streams.get(logName);
        if (stream == null) {
            stream = AccessLogServiceGrpc.newStub(channel)
                    .streamAccessLogs(new StreamObserver<StreamAccessLogsResponse>() {
                        @Override
                        public void onNext(StreamAccessLogsResponse value) {}

                        @Override
                        public void onError(Throwable t) {
                            forget(logName);
                        }

                        @Override
                        public void onCompleted() {
                            forget(logName);
                        }
                    });
            streams.put(logName, stream);
            message.setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                    .setNode(node)
                    .setLogName(logName));
        }
        stream.onNext(message.build());
    }

    private synchronized void forget(String logName) {
        streams.remove(logName);
    }

    @Override
    public synchronized void close() {
        streams.values().forEach(s -> {
            try {
                s.onCompleted();
            } catch (RuntimeException ignored) {
                // already closed
            }
        });
        streams.clear();
    }
}
