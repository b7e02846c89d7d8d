package io.meshguard.runtime.tracing;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.runtime.grpc.RawBytesMarshaller;
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
    /** Encodes the request straight into gRPC's frame buffer (no intermediate byte array). */
    private static final MethodDescriptor.Marshaller<MessageWriter> REQUEST = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(MessageWriter value) {
            return new WriterStream(value);
        }

        @Override
        public MessageWriter parse(InputStream stream) {
            throw new UnsupportedOperationException("the OTLP sender only sends requests");
        }
    };

    private final ManagedChannel channel;
    private final MethodDescriptor<MessageWriter, byte[]> method;
    private final GrpcSenderConfig config;
    private final boolean gzip;

    GrpcJavaSender(ManagedChannel channel, GrpcSenderConfig config, boolean gzip) {
        this.channel = channel;
        this.config = config;
        this.gzip = gzip;
        this.method = MethodDescriptor.<MessageWriter, byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(config.getFullMethodName())
                .setRequestMarshaller(REQUEST)
                .setResponseMarshaller(RawBytesMarshaller.INSTANCE)
                .build();
    }

    /** A provider that hands out senders on {@code channel} (owned by the caller, shut down with the tracing). */
    static GrpcSenderProvider provider(ManagedChannel channel, boolean gzip) {
        return config -> new GrpcJavaSender(channel, config, gzip);
    }

    @Override
    public void send(MessageWriter writer, Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
        CallOptions options =
                CallOptions.DEFAULT.withDeadlineAfter(config.getTimeout().toNanos(), TimeUnit.NANOSECONDS);
        if (gzip) {
            options = options.withCompression("gzip");
        }
        ClientCall<MessageWriter, byte[]> call = channel.newCall(method, options);
        Metadata headers = headers();
        // grpc-java encodes the message inside this call (sendMessage), while the exporter still owns the writer
        ClientCalls.asyncUnaryCall(new HeaderAttachingCall(call, headers), writer, new StreamObserver<>() {
            private byte[] reply = new byte[0];

            @Override
            public void onNext(byte[] value) {
                reply = value;
            }

            @Override
            public void onError(Throwable t) {
                Status status = Status.fromThrowable(t);
                onResponse.accept(new Response(
                        GrpcStatusCode.fromValue(status.getCode().value()),
                        status.getDescription() == null ? status.getCode().name() : status.getDescription(),
                        new byte[0]));
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
        for (Map.Entry<String, List<String>> header :
                config.getHeadersSupplier().get().entrySet()) {
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
    private static final class HeaderAttachingCall
            extends io.grpc.ForwardingClientCall.SimpleForwardingClientCall<MessageWriter, byte[]> {
        private final Metadata extra;

        HeaderAttachingCall(ClientCall<MessageWriter, byte[]> delegate, Metadata extra) {
            super(delegate);
            this.extra = extra;
        }

        @Override
        public void start(Listener<byte[]> listener, Metadata headers) {
            headers.merge(extra);
            super.start(listener, headers);
        }
    }

    /**
     * The request as gRPC reads it: drained straight into the frame when gRPC can ({@link io.grpc.Drainable}), else
     * encoded once into a buffer and read from there.
     */
    private static final class WriterStream extends InputStream implements io.grpc.Drainable, io.grpc.KnownLength {
        private final MessageWriter writer;
        private ByteArrayInputStream buffered;
        private boolean drained;

        WriterStream(MessageWriter writer) {
            this.writer = writer;
        }

        @Override
        public int drainTo(java.io.OutputStream target) throws IOException {
            if (buffered != null) {
                return (int) buffered.transferTo(target);
            }
            int length = drained ? 0 : writer.getContentLength();
            if (!drained) {
                drained = true;
                writer.writeMessage(target);
            }
            return length;
        }

        @Override
        public int available() {
            return buffered != null ? buffered.available() : drained ? 0 : writer.getContentLength();
        }

        @Override
        public int read() throws IOException {
            return buffer().read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return buffer().read(b, off, len);
        }

        private ByteArrayInputStream buffer() throws IOException {
            if (buffered == null) {
                ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(32, available()));
                if (!drained) {
                    drained = true;
                    writer.writeMessage(out);
                }
                buffered = new ByteArrayInputStream(out.toByteArray());
            }
            return buffered;
        }
    }
}
