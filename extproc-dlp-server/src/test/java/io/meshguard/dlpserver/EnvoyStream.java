package io.meshguard.dlpserver;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpTrailers;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Plays Envoy's side of one ext_proc stream over real gRPC: sends ProcessingRequests message by message (the first
 * carries protocol_config) and collects the answers.
 */
final class EnvoyStream implements AutoCloseable {
    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final ClientCallStreamObserver<ProcessingRequest> requests;
    private final ProtocolConfiguration config;
    private boolean first = true;

    EnvoyStream(ManagedChannel channel, BodySendMode requestMode, BodySendMode responseMode) {
        this(channel, requestMode, responseMode, new Metadata());
    }

    /** With the stream's initial metadata, as an Envoy route's ExtProcPerRoute grpc_initial_metadata sets it. */
    EnvoyStream(ManagedChannel channel, BodySendMode requestMode, BodySendMode responseMode, Metadata initial) {
        this(channel, requestMode, responseMode, initial, null);
    }

    /**
     * With the stream's {@code :authority} as well: what Envoy sends as the gRPC service's authority (Envoy Gateway:
     * the extProc backendRef's name and namespace); {@code null} keeps the channel's.
     */
    EnvoyStream(
            ManagedChannel channel,
            BodySendMode requestMode,
            BodySendMode responseMode,
            Metadata initial,
            String authority) {
        this.config = ProtocolConfiguration.newBuilder()
                .setRequestBodyMode(requestMode)
                .setResponseBodyMode(responseMode)
                .build();
        ClientCallStreamObserver<ProcessingRequest>[] holder = new ClientCallStreamObserver[1];
        ExternalProcessorGrpc.ExternalProcessorStub stub = ExternalProcessorGrpc.newStub(channel);
        if (authority != null) {
            stub = stub.withInterceptors(withAuthority(authority));
        }
        stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(initial))
                .process(new ClientResponseObserver<ProcessingRequest, ProcessingResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<ProcessingRequest> stream) {
                        holder[0] = stream;
                    }

                    @Override
                    public void onNext(ProcessingResponse r) {
                        received.add(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        received.add(t);
                    }

                    @Override
                    public void onCompleted() {
                        received.add("completed");
                    }
                });
        this.requests = holder[0];
    }

    static HttpHeaders headers(boolean endOfStream, String... kv) {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        for (int i = 0; i < kv.length; i += 2) {
            map.addHeaders(HeaderValue.newBuilder().setKey(kv[i]).setRawValue(ByteString.copyFromUtf8(kv[i + 1])));
        }
        return HttpHeaders.newBuilder()
                .setHeaders(map)
                .setEndOfStream(endOfStream)
                .build();
    }

    private void send(ProcessingRequest.Builder b) {
        if (first) {
            b.setProtocolConfig(config);
            first = false;
        }
        requests.onNext(b.build());
    }

    void requestHeaders(boolean endOfStream, String... kv) {
        send(ProcessingRequest.newBuilder().setRequestHeaders(headers(endOfStream, kv)));
    }

    /** Request headers that start with the pseudo-headers {@code :method}, {@code :path}, {@code :authority}. */
    void requestLine(boolean endOfStream, String method, String path, String authority, String... more) {
        String[] kv = new String[6 + more.length];
        kv[0] = ":method";
        kv[1] = method;
        kv[2] = ":path";
        kv[3] = path;
        kv[4] = ":authority";
        kv[5] = authority;
        System.arraycopy(more, 0, kv, 6, more.length);
        requestHeaders(endOfStream, kv);
    }

    void responseHeaders(boolean endOfStream, String... kv) {
        send(ProcessingRequest.newBuilder().setResponseHeaders(headers(endOfStream, kv)));
    }

    void requestBody(byte[] b, boolean end) {
        send(ProcessingRequest.newBuilder()
                .setRequestBody(
                        HttpBody.newBuilder().setBody(ByteString.copyFrom(b)).setEndOfStream(end)));
    }

    void responseBody(byte[] b, boolean end) {
        send(ProcessingRequest.newBuilder()
                .setResponseBody(
                        HttpBody.newBuilder().setBody(ByteString.copyFrom(b)).setEndOfStream(end)));
    }

    void responseTrailers() {
        send(ProcessingRequest.newBuilder().setResponseTrailers(HttpTrailers.getDefaultInstance()));
    }

    void requestTrailers() {
        send(ProcessingRequest.newBuilder().setRequestTrailers(HttpTrailers.getDefaultInstance()));
    }

    void halfClose() {
        requests.onCompleted();
    }

    void cancel() {
        requests.cancel("client went away", null);
    }

    /** The next answer; fails the test when none arrives within a generous bound. */
    ProcessingResponse next() throws InterruptedException {
        Object o = received.poll(30, TimeUnit.SECONDS);
        if (o instanceof ProcessingResponse r) {
            return r;
        }
        throw new AssertionError("expected a ProcessingResponse, got " + o);
    }

    /** The next event: a ProcessingResponse, a Throwable, or "completed". */
    Object nextEvent(Duration wait) throws InterruptedException {
        return received.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Collects answers until one with streamed end_of_stream for the response (FULL_DUPLEX). */
    List<ProcessingResponse> untilResponseEnd() throws InterruptedException {
        List<ProcessingResponse> out = new ArrayList<>();
        while (true) {
            ProcessingResponse r = next();
            out.add(r);
            if (r.hasImmediateResponse()
                    || (r.hasResponseBody()
                            && r.getResponseBody()
                                    .getResponse()
                                    .getBodyMutation()
                                    .getStreamedResponse()
                                    .getEndOfStream())) {
                return out;
            }
        }
    }

    /** The headers an answer removes. */
    static List<String> removed(CommonResponse c) {
        return c.getHeaderMutation().getRemoveHeadersList();
    }

    /** The value an answer sets header {@code key} to, or null when it sets none. */
    static String setHeader(CommonResponse c, String key) {
        for (HeaderValueOption o : c.getHeaderMutation().getSetHeadersList()) {
            if (o.getHeader().getKey().equals(key)) {
                return o.getHeader().getRawValue().toStringUtf8();
            }
        }
        return null;
    }

    /** The bytes the client would receive from FULL_DUPLEX response answers, in order. */
    static byte[] responseBytes(List<ProcessingResponse> answers) {
        return streamedBytes(answers, ProcessingResponse::hasResponseBody, r -> r.getResponseBody()
                .getResponse());
    }

    /** The bytes the upstream would receive from FULL_DUPLEX request answers, in order. */
    static byte[] requestBytes(List<ProcessingResponse> answers) {
        return streamedBytes(answers, ProcessingResponse::hasRequestBody, r -> r.getRequestBody()
                .getResponse());
    }

    private static byte[] streamedBytes(
            List<ProcessingResponse> answers,
            Predicate<ProcessingResponse> ofDirection,
            Function<ProcessingResponse, CommonResponse> common) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (ProcessingResponse r : answers) {
            if (ofDirection.test(r)) {
                out.writeBytes(common.apply(r)
                        .getBodyMutation()
                        .getStreamedResponse()
                        .getBody()
                        .toByteArray());
            }
        }
        return out.toByteArray();
    }

    /** Answers already received, without waiting. */
    List<Object> drainNow() {
        List<Object> out = new ArrayList<>();
        received.drainTo(out);
        return out;
    }

    @Override
    public void close() {
        try {
            requests.onCompleted();
        } catch (IllegalStateException ignored) {
            // already closed
        }
    }

    /** Sets the call's {@code :authority}, as Envoy's gRPC client sets its configured one. */
    static io.grpc.ClientInterceptor withAuthority(String authority) {
        return new io.grpc.ClientInterceptor() {
            @Override
            public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(
                    io.grpc.MethodDescriptor<Q, R> method, io.grpc.CallOptions options, io.grpc.Channel next) {
                return next.newCall(method, options.withAuthority(authority));
            }
        };
    }
}
