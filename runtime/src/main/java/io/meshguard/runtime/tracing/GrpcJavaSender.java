package io.meshguard.runtime.tracing;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.GrpcResponse;
import io.opentelemetry.sdk.common.export.GrpcSender;
import io.opentelemetry.sdk.common.export.GrpcSenderConfig;
import io.opentelemetry.sdk.common.export.GrpcSenderProvider;
import io.opentelemetry.sdk.common.export.GrpcStatusCode;
import io.opentelemetry.sdk.common.export.MessageWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Sends the OTLP exporter's already-encoded requests over a grpc-java channel, through the SDK's public sender SPI
 * ({@code io.opentelemetry.sdk.common.export.GrpcSender}). OpenTelemetry Java 1.66.0 publishes only the OkHttp sender
 * (which brings OkHttp and Kotlin); every meshguard server already runs grpc-java, so its channel does the sending.
 * No retries: a failed batch is counted and dropped, the batch processor never blocks a request.
 */
final class GrpcJavaSender implements GrpcSender {
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private final ManagedChannel channel;
    private final MethodDescriptor<byte[], byte[]> method;
    private final GrpcSenderConfig config;
    private final boolean gzip;

    GrpcJavaSender(ManagedChannel channel, GrpcSenderConfig config, boolean gzip) {
        this.channel = channel;
        this.config = config;
        this.gzip = gzip;
        this.method = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(config.getFullMethodName())
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
    }

    /** A provider that hands out senders on {@code channel} (owned by the caller, shut down with the tracing). */
    static GrpcSenderProvider provider(ManagedChannel channel, boolean gzip) {
        return config -> new GrpcJavaSender(channel, config, gzip);
    }

    @Override
    public void send(MessageWriter writer, Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
        byte[] body;
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(32, writer.getContentLength()));
            writer.writeMessage(out);
            body = out.toByteArray();
        } catch (IOException | RuntimeException e) {
            onError.accept(e);
            return;
        }
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(config.getTimeout().toNanos(), TimeUnit.NANOSECONDS);
        if (gzip) {
            options = options.withCompression("gzip");
        }
        ClientCall<byte[], byte[]> call = channel.newCall(method, options);
        Metadata headers = headers();
        ClientCalls.asyncUnaryCall(new HeaderAttachingCall(call, headers), body, new StreamObserver<>() {
            private byte[] reply = new byte[0];

            @Override
            public void onNext(byte[] value) {
                reply = value;
            }

            @Override
            public void onError(Throwable t) {
                Status status = Status.fromThrowable(t);
                onResponse.accept(new Response(GrpcStatusCode.fromValue(status.getCode().value()),
                        status.getDescription() == null ? status.getCode().name() : status.getDescription(), new byte[0]));
            }

            @Override
            public void onCompleted() {
                onResponse.accept(new Response(GrpcStatusCode.OK, "", reply));
            }
        });
    }

    private Metadata headers() {
        Metadata metadata = new Metadata();
        if (config.getHeadersSupplier() == null) {
            return metadata;
        }
        for (Map.Entry<String, List<String>> header : config.getHeadersSupplier().get().entrySet()) {
            Metadata.Key<String> key = Metadata.Key.of(header.getKey(), Metadata.ASCII_STRING_MARSHALLER);
            header.getValue().forEach(v -> metadata.put(key, v));
        }
        return metadata;
    }

    @Override
    public CompletableResultCode shutdown() {
        channel.shutdown();
        return CompletableResultCode.ofSuccess();
    }

    private record Response(GrpcStatusCode status, String description, byte[] message) implements GrpcResponse {
        @Override
        public GrpcStatusCode getStatusCode() {
            return status;
        }

        @Override
        public String getStatusDescription() {
            return description;
        }

        @Override
        public byte[] getResponseMessage() {
            return message;
        }
    }

    /** Adds the export's metadata (collector API keys) to the call's headers. */
    private static final class HeaderAttachingCall extends io.grpc.ForwardingClientCall.SimpleForwardingClientCall<byte[], byte[]> {
        private final Metadata extra;

        HeaderAttachingCall(ClientCall<byte[], byte[]> delegate, Metadata extra) {
            super(delegate);
            this.extra = extra;
        }

        @Override
        public void start(Listener<byte[]> listener, Metadata headers) {
            headers.merge(extra);
            super.start(listener, headers);
        }
    }
}
