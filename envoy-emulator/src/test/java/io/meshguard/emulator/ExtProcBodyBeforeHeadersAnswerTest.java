package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.LoopbackGrpc;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Body chunks sent while the ext_proc headers call is pending, FULL_DUPLEX_STREAMED: Envoy streams them to the
 * processor at once (source/extensions/filters/http/ext_proc/ext_proc.cc {@code onData}, {@code HeadersCallback}
 * branch), so a processor may hold its headers answer until it has seen the whole body (Envoy's
 * {@code ServerWaitForBodyBeforeSendsHeaderRespDuplexStreamed}); nothing goes upstream before that answer, and what
 * goes is only what the processor returned, in its order. A model that held the body until the headers answer would
 * deadlock here and end at the idle timeout.
 */
@Tag("integration")
class ExtProcBodyBeforeHeadersAnswerTest {
    private static final ExternalProcessor FULL_DUPLEX = ExternalProcessor.newBuilder()
            .setProcessingMode(ProcessingMode.newBuilder()
                    .setRequestHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                    .setResponseHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                    .setRequestBodyMode(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED)
                    .setResponseBodyMode(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED))
            .build();

    private Server server;
    private ManagedChannel channel;
    /** What the processor had received when it answered the request headers. */
    private final List<String> seenBeforeHeadersAnswer = new CopyOnWriteArrayList<>();

    /** Answers the request headers only after the request body's end, then returns every piece upper-cased. */
    @BeforeEach
    void start() throws Exception {
        server = LoopbackGrpc.serve(new ExternalProcessorGrpc.ExternalProcessorImplBase() {
            @Override
            public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
                List<ByteString> held = new ArrayList<>();
                boolean[] outOfOrder = {false};
                return new StreamObserver<>() {
                    @Override
                    public void onNext(ProcessingRequest r) {
                        if (r.hasRequestHeaders()) {
                            seenBeforeHeadersAnswer.add("headers");
                            outOfOrder[0] = r.getRequestHeaders().getHeaders().getHeadersList().stream()
                                    .anyMatch(
                                            h -> h.getRawValue().toStringUtf8().equals("/out-of-order"));
                        } else if (r.hasRequestBody() && outOfOrder[0]) {
                            // a body piece back before any headers answer: a broken processor
                            responses.onNext(ProcessingResponse.newBuilder()
                                    .setRequestBody(BodyResponse.newBuilder()
                                            .setResponse(CommonResponse.newBuilder()
                                                    .setBodyMutation(BodyMutation.newBuilder()
                                                            .setStreamedResponse(StreamedBodyResponse.newBuilder()
                                                                    .setBody(r.getRequestBody()
                                                                            .getBody())))))
                                    .build());
                        } else if (r.hasRequestBody()) {
                            held.add(r.getRequestBody().getBody());
                            seenBeforeHeadersAnswer.add(
                                    "body:" + r.getRequestBody().getBody().toStringUtf8());
                            if (r.getRequestBody().getEndOfStream()) {
                                responses.onNext(ProcessingResponse.newBuilder()
                                        .setRequestHeaders(HeadersResponse.getDefaultInstance())
                                        .build());
                                for (int i = 0; i < held.size(); i++) {
                                    String up = held.get(i).toStringUtf8().toUpperCase(Locale.ROOT);
                                    responses.onNext(ProcessingResponse.newBuilder()
                                            .setRequestBody(BodyResponse.newBuilder()
                                                    .setResponse(CommonResponse.newBuilder()
                                                            .setBodyMutation(BodyMutation.newBuilder()
                                                                    .setStreamedResponse(
                                                                            StreamedBodyResponse.newBuilder()
                                                                                    .setBody(
                                                                                            ByteString.copyFromUtf8(up))
                                                                                    .setEndOfStream(
                                                                                            i == held.size() - 1)))))
                                            .build());
                                }
                            }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                        responses.onCompleted();
                    }
                };
            }
        });
        channel = LoopbackGrpc.channelTo(server.getPort());
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void processorThatAnswersHeadersAfterTheWholeBody_getsIt_andUpstreamSeesOnlyItsPiecesInOrder() throws Exception {
        List<String> steps = new ArrayList<>();
        List<byte[]> client = List.of("one ", "two ", "three ", "four").stream()
                .map(s -> s.getBytes(StandardCharsets.UTF_8))
                .toList();
        DownstreamBody body = new DownstreamBody(client, 32 * 1024);
        List<String> upstream = new ArrayList<>();
        try (ExtProcSession session =
                new ExtProcSession(FULL_DUPLEX, channel, List.of(), Duration.ofSeconds(10), steps)) {
            ExtProcSession.Outcome headers = session.headers(true, Headers.of(":path", "/import"), false, body::next);
            assertThat(headers.proceed()).as(String.join("\n", steps)).isTrue();
            assertThat(upstream)
                    .as("nothing upstream before the headers answer")
                    .isEmpty();

            ExtProcSession.Outcome result =
                    session.body(true, body::next, piece -> upstream.add(new String(piece, StandardCharsets.UTF_8)));

            assertThat(result.proceed()).as(String.join("\n", steps)).isTrue();
        }
        assertThat(seenBeforeHeadersAnswer).startsWith("headers", "body:one ", "body:two ", "body:three ", "body:four");
        assertThat(String.join("", upstream)).isEqualTo("ONE TWO THREE FOUR");
        assertThat(steps)
                .anyMatch(s -> s.contains("4 body piece(s) had gone to the processor when its headers answer came"));
    }

    /**
     * A processor that returns a body piece before its headers answer breaks the order Envoy relies on: Envoy ends the
     * stream with a 500 and sends nothing upstream (ext_proc.cc treats it as a spurious message; Envoy's
     * {@code ServerSendOutOfOrderResponseDuplexStreamed}), so a buggy DLP server cannot slip a piece past the header
     * phase.
     */
    @Test
    void bodyPieceAnsweredBeforeTheHeaders_endsTheHeaderPhase500_soNoUpstreamIsOpened() throws Exception {
        List<String> steps = new ArrayList<>();
        DownstreamBody body = new DownstreamBody(List.of("secret".getBytes(StandardCharsets.UTF_8)), 32 * 1024);
        try (ExtProcSession session =
                new ExtProcSession(FULL_DUPLEX, channel, List.of(), Duration.ofSeconds(10), steps)) {
            ExtProcSession.Outcome headers =
                    session.headers(true, Headers.of(":path", "/out-of-order"), false, body::next);

            assertThat(headers.proceed()).isFalse();
            assertThat(headers.status()).as(String.join("\n", steps)).isEqualTo(500);
        }
    }
}
