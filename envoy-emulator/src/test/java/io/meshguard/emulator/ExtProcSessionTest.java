package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.LoopbackGrpc;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The ext_proc stream's end, as Envoy's filter treats it (source/extensions/filters/http/ext_proc/ext_proc.cc). */
@Tag("integration")
class ExtProcSessionTest {
    private static final ExternalProcessor FULL_DUPLEX = ExternalProcessor.newBuilder()
            .setProcessingMode(ProcessingMode.newBuilder()
                    .setRequestHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                    .setResponseHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                    .setRequestBodyMode(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED)
                    .setResponseBodyMode(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED))
            .build();

    private Server server;
    private ManagedChannel channel;
    private final List<ProcessingRequest> seen = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A processor that closes the stream with OK on the request headers, without answering them. */
    @BeforeEach
    void start() throws Exception {
        server = LoopbackGrpc.serve(new ExternalProcessorGrpc.ExternalProcessorImplBase() {
            @Override
            public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
                return new StreamObserver<>() {
                    @Override
                    public void onNext(ProcessingRequest r) {
                        seen.add(r);
                        boolean stall = r.getRequestHeaders().getHeaders().getHeadersList().stream()
                                .anyMatch(h -> h.getRawValue().toStringUtf8().equals("/stall"));
                        if (r.hasRequestHeaders() && !stall) {
                            responses.onCompleted(); // e.g. a processor with nothing to do for this route
                        }
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
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
    void okCloseByTheProcessor_letsTheRestThroughUnprocessed_notA500() throws Exception {
        List<String> steps = new ArrayList<>();
        try (ExtProcSession session =
                new ExtProcSession(FULL_DUPLEX, channel, List.of(), Duration.ofSeconds(30), steps)) {
            assertThat(session.headers(true, Headers.of(":path", "/x"), false).proceed())
                    .isTrue();

            Iterator<byte[]> pieces = List.of("card 4111 1111 1111 1111".getBytes(StandardCharsets.UTF_8))
                    .iterator();
            List<byte[]> upstream = new ArrayList<>();
            ExtProcSession.Outcome body =
                    session.body(true, () -> pieces.hasNext() ? pieces.next() : null, upstream::add);
            assertThat(body.proceed()).as(String.join("\n", steps)).isTrue();
            assertThat(new String(Exchange.concat(upstream), StandardCharsets.UTF_8))
                    .isEqualTo("card 4111 1111 1111 1111");

            ExtProcSession.Outcome response = session.headers(false, Headers.of(":status", "200"), true);
            assertThat(response.proceed()).isTrue();
        }
        assertThat(seen).as("nothing after the close reaches the processor").hasSize(1);
    }

    @Test
    void unansweredHeaders_endWith408AtTheStreamsIdleTimeout_notA500() throws Exception {
        List<String> steps = new ArrayList<>();
        try (ExtProcSession session =
                new ExtProcSession(FULL_DUPLEX, channel, List.of(), Duration.ofMillis(200), steps)) {
            ExtProcSession.Outcome outcome = session.headers(true, Headers.of(":path", "/stall"), true);
            assertThat(outcome.proceed()).isFalse();
            assertThat(outcome.status()).as(String.join("\n", steps)).isEqualTo(408);
            assertThat(outcome.why()).isEqualTo("stream_idle_timeout");
        }
    }
}
