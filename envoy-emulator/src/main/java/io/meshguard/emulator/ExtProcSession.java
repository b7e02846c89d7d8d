package io.meshguard.emulator;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One HTTP stream's ext_proc side stream ({@code envoy.service.ext_proc.v3.ExternalProcessor/Process}) in the modes
 * the gateway's filter config sets, following Envoy's filter (source/extensions/filters/http/ext_proc/ext_proc.cc,
 * processor_state.cc) and the protocol note {@code envoy-ext-proc-and-dlp.md}:
 * <ul>
 *   <li>per direction headers → body pieces → trailers; {@code protocol_config} on the first message only; the
 *       route's {@code grpc_initial_metadata} as the stream's gRPC metadata;</li>
 *   <li>header mode SEND waits for the headers answer; its {@code header_mutation} is applied (changes to
 *       {@code :}-headers, {@code host} and {@code x-envoy-*} ignored); a body piece before it is a protocol error (500);</li>
 *   <li>FULL_DUPLEX_STREAMED: body pieces sent as they arrive, the last with {@code end_of_stream}; the processor
 *       answers with any number of {@code streamed_response} pieces, the last with {@code end_of_stream}, and they are
 *       passed on as they come; no message timer (processor_state.cc skips it), {@code mode_override} ignored;</li>
 *   <li>{@code immediate_response} in any phase ends the stream with that status (200 when invalid), headers and
 *       body; a gRPC error is a 500 ({@code status_on_error} default) as {@code failure_mode_allow} is false; an OK
 *       close by the processor lets the rest pass unprocessed ({@link #processingComplete});</li>
 *   <li>a spurious answer (wrong type for the phase, or a whole-body mutation in FULL_DUPLEX_STREAMED) is a 500.</li>
 * </ul>
 * Body modes other than NONE and FULL_DUPLEX_STREAMED are not modelled.
 */
final class ExtProcSession implements AutoCloseable {
    /** What a phase ended with. */
    record Outcome(boolean proceed, int status, Headers headers, String body, String why) {
        static Outcome goOn() {
            return new Outcome(true, 0, new Headers(), "", "");
        }
    }

    private static final Object COMPLETED = new Object();
    private static final Object IDLE = new Object();

    private final ExternalProcessor config;
    private final BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
    private final StreamObserver<ProcessingRequest> requests;
    private final Duration idleLimit;
    private final List<String> steps;
    private boolean first = true;
    /**
     * The processor closed the stream with OK: Envoy sets {@code processing_complete_} and lets the rest of the request
     * and response pass UNPROCESSED, even with {@code failure_mode_allow: false} (envoyproxy/envoy
     * source/extensions/filters/http/ext_proc/ext_proc.cc {@code onGrpcClose}/{@code onGrpcCloseWithStatus};
     * test/extensions/filters/http/ext_proc/filter_test.cc {@code PostAndClose}). A DLP server that completes early
     * therefore leaks unscanned bytes; the emulator lets them through so a test can see it.
     */
    private volatile boolean processingComplete;

    private byte[] leftover;

    ExtProcSession(
            ExternalProcessor config,
            ManagedChannel channel,
            List<HeaderValue> initialMetadata,
            Duration idleLimit,
            List<String> steps) {
        this.config = config;
        this.idleLimit = idleLimit;
        this.steps = steps;
        ProcessingMode m = config.getProcessingMode();
        for (ProcessingMode.BodySendMode mode : List.of(m.getRequestBodyMode(), m.getResponseBodyMode())) {
            if (mode != ProcessingMode.BodySendMode.NONE && mode != ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED) {
                throw new UnmodelledException("ext_proc body mode " + mode);
            }
        }
        Metadata metadata = new Metadata();
        for (HeaderValue h : initialMetadata) {
            metadata.put(Metadata.Key.of(h.getKey(), Metadata.ASCII_STRING_MARSHALLER), h.getValue());
        }
        requests = ExternalProcessorGrpc.newStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
                .process(new StreamObserver<>() {
                    @Override
                    public void onNext(ProcessingResponse r) {
                        answers.add(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answers.add(t);
                    }

                    @Override
                    public void onCompleted() {
                        answers.add(COMPLETED);
                    }
                });
    }

    boolean sendsRequestHeaders() {
        return config.getProcessingMode().getRequestHeaderMode() != ProcessingMode.HeaderSendMode.SKIP;
    }

    boolean sendsResponseHeaders() {
        return config.getProcessingMode().getResponseHeaderMode() != ProcessingMode.HeaderSendMode.SKIP;
    }

    boolean streamsRequestBody() {
        return config.getProcessingMode().getRequestBodyMode() == ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED;
    }

    boolean streamsResponseBody() {
        return config.getProcessingMode().getResponseBodyMode() == ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED;
    }

    /** Sends request or response headers and waits for the matching answer; mutates {@code headers}. */
    Outcome headers(boolean request, Headers headers, boolean endOfStream) throws InterruptedException {
        return headers(request, headers, endOfStream, null);
    }

    /**
     * Sends the headers and, in FULL_DUPLEX_STREAMED, starts sending {@code body} right away, while the headers answer
     * is still pending: Envoy's {@code onData} streams every piece as it arrives, whatever the header phase's state
     * (envoyproxy/envoy source/extensions/filters/http/ext_proc/ext_proc.cc, FULL_DUPLEX_STREAMED in
     * {@code handleDataFullDuplexStreamedMode}). A processor that waits for the body before answering the headers
     * works with Envoy; one that assumes no body piece arrives before its headers answer does not.
     */
    Outcome headers(boolean request, Headers headers, boolean endOfStream, PieceSource body)
            throws InterruptedException {
        if (processingComplete) {
            steps.add("  ext_proc: stream already closed by the processor: " + (request ? "request" : "response")
                    + "_headers pass unprocessed");
            return Outcome.goOn();
        }
        HeaderMap.Builder map = HeaderMap.newBuilder();
        headers.entries()
                .forEach(h -> map.addHeaders(
                        HeaderValue.newBuilder().setKey(h[0]).setRawValue(ByteString.copyFromUtf8(h[1]))));
        HttpHeaders hh = HttpHeaders.newBuilder()
                .setHeaders(map)
                .setEndOfStream(endOfStream)
                .build();
        send(
                request
                        ? ProcessingRequest.newBuilder().setRequestHeaders(hh)
                        : ProcessingRequest.newBuilder().setResponseHeaders(hh));
        steps.add("  ext_proc: sent " + (request ? "request" : "response") + "_headers (end_of_stream " + endOfStream
                + ")");
        if (body != null) {
            steps.add("  ext_proc: body pieces streamed while the headers answer is pending");
            pendingSender = startSender(request, body);
        }
        Object answer = next();
        if (body != null) {
            steps.add("  ext_proc: " + piecesSent.get() + " body piece(s) had gone to the processor when its headers"
                    + " answer came; none goes upstream before it");
        }
        if (!(answer instanceof ProcessingResponse r)) {
            return failed(answer);
        }
        if (r.hasImmediateResponse()) {
            return immediate(r.getImmediateResponse());
        }
        // a body answer before the headers answer is out of order: 500 (Envoy's
        // ServerSendOutOfOrderResponseDuplexStreamed,
        // test/extensions/filters/http/ext_proc/ext_proc_integration_test.cc)
        boolean matches = request ? r.hasRequestHeaders() : r.hasResponseHeaders();
        if (!matches) {
            return spurious(r, "a " + (request ? "request" : "response") + "_headers answer");
        }
        CommonResponse common = (request ? r.getRequestHeaders() : r.getResponseHeaders()).getResponse();
        if (common.getStatus() == CommonResponse.ResponseStatus.CONTINUE_AND_REPLACE) {
            throw new UnmodelledException("ext_proc CONTINUE_AND_REPLACE");
        }
        mutate(headers, common.getHeaderMutation());
        steps.add("  ext_proc: " + (request ? "request" : "response") + "_headers answered CONTINUE"
                + describe(common.getHeaderMutation()));
        return Outcome.goOn();
    }

    /**
     * Streams a body through the processor: {@code pieces} supplies the original pieces (null at the end) and is
     * read on this thread; processed pieces go to {@code sink} as the processor sends them.
     */
    Outcome body(boolean request, PieceSource pieces, Consumer<byte[]> sink) throws Exception {
        if (processingComplete) {
            if (pendingSender != null) {
                pendingSender.join();
                pendingSender = null;
                if (leftover != null) {
                    sink.accept(leftover);
                    leftover = null;
                }
            }
            return unprocessed(request, pieces, sink);
        }
        Thread sender = pendingSender != null ? pendingSender : startSender(request, pieces);
        pendingSender = null;
        try {
            int received = 0;
            while (true) {
                Object answer = next();
                if (answer == COMPLETED) {
                    failed(answer);
                    sender.join();
                    steps.add(
                            "  ext_proc: pieces already sent to the processor and not returned are lost; the rest of the "
                                    + (request ? "request" : "response") + " body passes unprocessed");
                    if (leftover != null) {
                        sink.accept(leftover);
                        leftover = null;
                        return unprocessed(request, pieces, sink);
                    }
                    return Outcome.goOn();
                }
                if (!(answer instanceof ProcessingResponse r)) {
                    return failed(answer);
                }
                if (r.hasImmediateResponse()) {
                    return immediate(r.getImmediateResponse());
                }
                boolean matches = request ? r.hasRequestBody() : r.hasResponseBody();
                if (!matches) {
                    return spurious(r, "a " + (request ? "request" : "response") + "_body answer");
                }
                BodyMutation mutation = (request ? r.getRequestBody() : r.getResponseBody())
                        .getResponse()
                        .getBodyMutation();
                if (mutation.getMutationCase() != BodyMutation.MutationCase.STREAMED_RESPONSE) {
                    return spurious(
                            r, "a streamed_response (FULL_DUPLEX_STREAMED forbids " + mutation.getMutationCase() + ")");
                }
                byte[] piece = mutation.getStreamedResponse().getBody().toByteArray();
                received++;
                if (piece.length > 0) {
                    sink.accept(piece);
                }
                if (mutation.getStreamedResponse().getEndOfStream()) {
                    steps.add("  ext_proc: " + (request ? "request" : "response") + " body came back in " + received
                            + " streamed piece(s)");
                    return Outcome.goOn();
                }
            }
        } finally {
            sender.join(TimeUnit.SECONDS.toMillis(5));
        }
    }

    private Thread pendingSender;
    private final java.util.concurrent.atomic.AtomicInteger piecesSent =
            new java.util.concurrent.atomic.AtomicInteger();

    private Thread startSender(boolean request, PieceSource pieces) {
        return Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    byte[] piece = pieces.next();
                    if (processingComplete) {
                        leftover = piece;
                        return;
                    }
                    HttpBody b = HttpBody.newBuilder()
                            .setBody(ByteString.copyFrom(piece == null ? new byte[0] : piece))
                            .setEndOfStream(piece == null)
                            .build();
                    send(
                            request
                                    ? ProcessingRequest.newBuilder().setRequestBody(b)
                                    : ProcessingRequest.newBuilder().setResponseBody(b));
                    if (piece != null) {
                        piecesSent.incrementAndGet();
                    }
                    if (piece == null) {
                        return;
                    }
                }
            } catch (Exception e) {
                answers.add(e);
            }
        });
    }

    private Outcome unprocessed(boolean request, PieceSource pieces, Consumer<byte[]> sink) throws Exception {
        int n = 0;
        for (byte[] piece = pieces.next(); piece != null; piece = pieces.next()) {
            sink.accept(piece);
            n++;
        }
        steps.add("  ext_proc: " + n + " " + (request ? "request" : "response") + " body piece(s) passed unprocessed");
        return Outcome.goOn();
    }

    /** Supplies the original body pieces; null once the body has ended. */
    interface PieceSource {
        byte[] next() throws Exception;
    }

    private synchronized void send(ProcessingRequest.Builder b) {
        if (first) {
            ProcessingMode m = config.getProcessingMode();
            b.setProtocolConfig(ProtocolConfiguration.newBuilder()
                    .setRequestBodyMode(m.getRequestBodyMode())
                    .setResponseBodyMode(m.getResponseBodyMode()));
            first = false;
        }
        requests.onNext(b.build());
    }

    private Object next() throws InterruptedException {
        Object o = answers.poll(idleLimit.toMillis(), TimeUnit.MILLISECONDS);
        return o == null ? IDLE : o;
    }

    private Outcome failed(Object answer) {
        if (answer == COMPLETED) {
            processingComplete = true;
            steps.add("  ext_proc: the processor closed the stream (OK): Envoy proceeds without it, unprocessed");
            return Outcome.goOn();
        }
        if (answer == IDLE) {
            // Nothing times out a FULL_DUPLEX_STREAMED message; the HTTP stream's idle timer does: 408 while no
            // response header went out, else a reset (conn_manager_impl.cc onIdleTimeout, "stream timeout")
            steps.add("  ext_proc: no answer within the stream's idle timeout " + idleLimit.toMillis() + " ms");
            return new Outcome(false, 408, new Headers(), "stream timeout", "stream_idle_timeout");
        }
        steps.add("  ext_proc: stream failed: " + answer);
        // failure_mode_allow is false (and forced so in FULL_DUPLEX_STREAMED): local reply, status_on_error 500
        return new Outcome(false, 500, new Headers(), "", "ext_proc_error_gRPC_error: " + answer);
    }

    private Outcome spurious(ProcessingResponse r, String expected) {
        steps.add("  ext_proc: spurious answer (expected " + expected + "): " + r.getResponseCase());
        return new Outcome(false, 500, new Headers(), "", "ext_proc spurious message");
    }

    private Outcome immediate(ImmediateResponse ir) {
        int status = ir.getStatus().getCodeValue();
        if (status < 200 || status > 599) {
            status = 200; // DefaultImmediateStatus (ext_proc.cc): always set an explicit status
        }
        Headers h = new Headers();
        if (ir.hasHeaders()) {
            mutate(h, ir.getHeaders());
        }
        steps.add("  ext_proc: immediate_response " + status
                + (ir.getDetails().isEmpty() ? "" : " (" + ir.getDetails() + ")"));
        return new Outcome(false, status, h, ir.getBody().toStringUtf8(), "ext_proc immediate response");
    }

    static void mutate(Headers headers, HeaderMutation m) {
        for (HeaderValueOption o : m.getSetHeadersList()) {
            String name = o.getHeader().getKey().toLowerCase(Locale.ROOT);
            if (name.startsWith(":") || name.equals("host") || name.startsWith("x-envoy")) {
                continue;
            }
            HeaderValueOption value = o.getHeader().getRawValue().isEmpty()
                    ? o
                    : o.toBuilder()
                            .setHeader(o.getHeader().toBuilder()
                                    .setValue(o.getHeader().getRawValue().toStringUtf8()))
                            .build();
            ExtAuthzCall.apply(headers, value);
        }
        for (String name : m.getRemoveHeadersList()) {
            String n = name.toLowerCase(Locale.ROOT);
            if (!n.startsWith(":") && !n.equals("host") && !n.startsWith("x-envoy")) {
                headers.remove(n);
            }
        }
    }

    private static String describe(HeaderMutation m) {
        if (m.getSetHeadersCount() == 0 && m.getRemoveHeadersCount() == 0) {
            return "";
        }
        return " (set "
                + m.getSetHeadersList().stream()
                        .map(o -> o.getHeader().getKey())
                        .toList() + ", removed " + m.getRemoveHeadersList() + ")";
    }

    @Override
    public void close() {
        try {
            requests.onCompleted();
        } catch (RuntimeException ignored) {
            // the stream already failed
        }
    }
}
