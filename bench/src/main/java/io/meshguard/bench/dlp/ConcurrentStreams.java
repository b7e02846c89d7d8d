package io.meshguard.bench.dlp;

import static io.meshguard.bench.dlp.ExtProcMessages.hv;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.bench.ProcReadings;
import io.meshguard.runtime.grpc.GrpcServerHost;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Memory per open, long-lived SSE stream, on one DLP replica wired as {@code meshguard dlp} wires it
 * ({@link ProductionDlp}: the server's own config schema and defaults, the decision log on). Opens N ext_proc streams
 * as Envoy drives a streamed LLM answer: request headers with the {@code FULL_DUPLEX_STREAMED} response body mode,
 * response headers of a {@code text/event-stream}, then two SSE events whose {@code delta.content} carry a card number
 * split between them ({@link #EVENT_1}, {@link #EVENT_2}); every stream stays open (no end of stream). Counts the
 * streams whose card came back masked while held, measures the live heap after full collections and divides by the
 * streams held; then ends every stream ({@code data: [DONE]}, end of stream) and counts any answer that let a digit
 * group of the card through. Done for the pass-through ext_proc server on the same gRPC settings (baseline, first) and
 * then the DLP server, in the same process: both figures include the client side's own per-stream cost, which is the
 * same for both. Streams refused by {@code grpc.max_concurrent_calls} are counted (on the client, and from
 * {@code meshguard_grpc_calls_rejected_total}). A benchmark, not a test.
 *
 * <pre>java -Xmx6g -cp … io.meshguard.bench.dlp.ConcurrentStreams [policies/dlp.yaml] [streams] [channels]
 * [max_concurrent_calls]</pre>
 * Without {@code max_concurrent_calls} the shipped default applies. Before each server's measured round,
 * {@code -Dwarmup=N} streams (2,000) are opened and ended. {@code -Dhold=S} keeps the DLP streams open S
 * seconds after measuring (for {@code jcmd <pid> GC.class_histogram}).
 */
public final class ConcurrentStreams {
    private ConcurrentStreams() {}

    /** The card number the events carry, split after its eighth digit (Luhn-valid, not a public test number). */
    static final String CARD = "4532015112830366";

    static final byte[] EVENT_1 =
            ("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                            + "\"delta\":{\"content\":\" The card on file is " + CARD.substring(0, 8) + "\"}}]}\n\n")
                    .getBytes(StandardCharsets.UTF_8);
    static final byte[] EVENT_2 =
            ("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                            + "\"delta\":{\"content\":\"" + CARD.substring(8)
                            + ", and the limit is unchanged. \"}}]}\n\n")
                    .getBytes(StandardCharsets.UTF_8);
    static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);

    public static void main(String[] args) throws Exception {
        Path policy = Path.of(args.length > 0 ? args[0] : "policies/dlp.yaml");
        int streams = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int channels = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        Map<String, String> overrides =
                args.length > 3 ? Map.of("MESHGUARD_GRPC_MAX_CONCURRENT_CALLS", args[3]) : Map.of();
        var config = ProductionDlp.load(ProductionDlp.environment(policy, overrides));
        System.out.printf(
                "JDK %s, %d CPUs, max heap %d MiB; %d streams over %d channels; load %s; grpc.max_concurrent_calls %d,"
                        + " grpc.flow_control_window %s, max_inbound_message_bytes %d%n",
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20,
                streams,
                channels,
                ProcReadings.loadAverage(),
                config.get(io.meshguard.runtime.grpc.GrpcServerSettings.MAX_CONCURRENT_CALLS),
                flowControlWindow(config),
                io.meshguard.dlpserver.DlpServerSettings.from(config).grpc().maxInboundMessageBytes());
        // a first round of streams that end, for each server, so that the measured round finds its code compiled
        int warmUp = Integer.getInteger("warmup", 2_000);
        Result passResult;
        try (ProcessMetrics passMetrics = ProcessMetrics.create()) {
            GrpcServerHost pass = ProductionDlp.passThrough(config, passMetrics);
            if (warmUp > 0) {
                hold("pass-through warm-up", pass.port(), warmUp, channels, 0, false);
            }
            passResult = hold("pass-through ext_proc (baseline)", pass.port(), streams, channels, 0, false);
            pass.close();
        }
        Result dlpResult;
        long lines;
        double rejected;
        try (ProductionDlp dlp = ProductionDlp.start(policy, overrides)) {
            if (warmUp > 0) {
                hold("DLP warm-up", dlp.server.grpcPort(), warmUp, channels, 0, true);
            }
            dlpResult =
                    hold("DLP server", dlp.server.grpcPort(), streams, channels, Integer.getInteger("hold", 0), true);
            rejected = dlp.sample("meshguard_grpc_calls_rejected_total", "extproc-dlp");
            dlp.decisionLog.close(); // drains the queue: every line the streams recorded is written
            lines = dlp.decisionLogLines();
        }
        System.out.println();
        System.out.println("| server | streams held | refused | masked while held | answers leaking a digit group |"
                + " live heap per stream |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (Result r : List.of(passResult, dlpResult)) {
            System.out.printf(
                    "| %s | %d | %d | %s | %s | %.1f KB |%n",
                    r.name(),
                    r.held(),
                    r.refused(),
                    r.scanned() ? Integer.toString(r.maskedWhileHeld()) : "(echoes)",
                    r.scanned() ? Integer.toString(r.leaks()) : "(echoes)",
                    r.bytesPerStream() / 1024.0);
        }
        System.out.printf(
                "%nDLP server above the pass-through: %.1f KB per stream; meshguard_grpc_calls_rejected_total %.0f;"
                        + " decision log lines written %d; load %s%n",
                (dlpResult.bytesPerStream() - passResult.bytesPerStream()) / 1024.0,
                rejected,
                lines,
                ProcReadings.loadAverage());
    }

    private static String flowControlWindow(io.meshguard.runtime.config.Config config) {
        int w = io.meshguard.dlpserver.DlpServerSettings.from(config).grpc().flowControlWindowBytes();
        return w == 0 ? "auto" : w + " bytes";
    }

    private record Result(
            String name,
            boolean scanned,
            int held,
            int refused,
            int maskedWhileHeld,
            int leaks,
            double bytesPerStream) {}

    /** One client stream's view: which answers came back and whether the card in them was masked. */
    private static final class ClientStream implements StreamObserver<ProcessingResponse> {
        private final Counters counters;
        private final Semaphore setUps;
        private int headerAnswers;
        private boolean settled;
        private boolean masked;
        private boolean ended;

        ClientStream(Counters counters, Semaphore setUps) {
            this.counters = counters;
            this.setUps = setUps;
        }

        private synchronized void settle(AtomicInteger outcome) {
            if (!settled) {
                settled = true;
                outcome.incrementAndGet();
                counters.settled.countDown();
                setUps.release();
            }
        }

        @Override
        public synchronized void onNext(ProcessingResponse r) {
            if (r.hasResponseBody()) {
                StreamedBodyResponse piece =
                        r.getResponseBody().getResponse().getBodyMutation().getStreamedResponse();
                String body = piece.getBody().toStringUtf8();
                if (body.contains(CARD.substring(0, 8)) || body.contains(CARD.substring(8, 12))) {
                    counters.leaks.incrementAndGet();
                }
                if (!masked && body.contains(CARD.substring(12)) && !body.contains(CARD.substring(8))) {
                    masked = true;
                    if (!counters.ending) {
                        counters.maskedWhileHeld.incrementAndGet();
                    }
                }
                if (piece.getEndOfStream() && !ended) {
                    ended = true;
                    counters.ended.incrementAndGet();
                }
            } else if (r.hasImmediateResponse()) {
                settle(counters.closed);
            } else if (++headerAnswers == 2) {
                settle(counters.open); // both headers answered: the stream is open and past its set-up
            }
        }

        @Override
        public void onError(Throwable t) {
            if (Status.fromThrowable(t).getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                settle(counters.refused);
            } else {
                settle(counters.closed);
            }
        }

        @Override
        public void onCompleted() {
            settle(counters.closed);
        }
    }

    private static final class Counters {
        final CountDownLatch settled;
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();
        final AtomicInteger maskedWhileHeld = new AtomicInteger();
        final AtomicInteger leaks = new AtomicInteger();
        final AtomicInteger ended = new AtomicInteger();
        volatile boolean ending;

        Counters(int streams) {
            settled = new CountDownLatch(streams);
        }
    }

    private static Result hold(String name, int port, int streams, int channelCount, int holdSeconds, boolean scans)
            throws Exception {
        List<ManagedChannel> channels = new ArrayList<>();
        for (int c = 0; c < channelCount; c++) {
            channels.add(NettyChannelBuilder.forAddress("127.0.0.1", port)
                    .usePlaintext()
                    .build());
        }
        // connections up first: their buffers are not a stream's
        for (ManagedChannel ch : channels) {
            ch.getState(true);
        }
        Thread.sleep(500);
        long before = liveHeap();
        long started = System.nanoTime();
        Counters counters = new Counters(streams);
        Semaphore setUps = new Semaphore(256); // Envoy opens streams as requests arrive: a few hundred at once
        List<StreamObserver<ProcessingRequest>> open = new ArrayList<>(streams);
        Random random = new Random(50_000);
        for (int s = 0; s < streams; s++) {
            ManagedChannel ch = channels.get(s % channelCount);
            setUps.acquire();
            StreamObserver<ProcessingRequest> requests =
                    ExternalProcessorGrpc.newStub(ch).process(new ClientStream(counters, setUps));
            requests.onNext(ExtProcMessages.bodilessRequestDuplexResponse(HeaderMap.newBuilder()
                    .addHeaders(hv(":method", "POST"))
                    .addHeaders(hv(":path", "/v1/chat/completions"))
                    .addHeaders(hv("x-request-id", Long.toHexString(random.nextLong())))));
            requests.onNext(ExtProcMessages.okResponseHeaders("text/event-stream"));
            requests.onNext(body(EVENT_1, false));
            requests.onNext(body(EVENT_2, false));
            open.add(requests);
        }
        if (!counters.settled.await(10, TimeUnit.MINUTES)) {
            throw new IllegalStateException(
                    name + ": " + counters.settled.getCount() + " streams unanswered after 10 minutes");
        }
        int held = counters.open.get();
        // the events' answers follow the headers' on each stream
        for (int k = 0; k < 300 && scans && counters.maskedWhileHeld.get() < held; k++) {
            Thread.sleep(100);
        }
        double setUpSeconds = (System.nanoTime() - started) / 1e9;
        long after = liveHeap();
        Result r = new Result(
                name,
                scans,
                held,
                counters.refused.get(),
                counters.maskedWhileHeld.get(),
                counters.leaks.get(),
                (after - before) / (double) Math.max(1, held));
        System.out.printf(
                "%s: %d streams held (set up in %.1f s), %d refused, %d closed by the server, %d masked while held;"
                        + " live heap %d -> %d MiB%n",
                name,
                held,
                setUpSeconds,
                counters.refused.get(),
                counters.closed.get(),
                counters.maskedWhileHeld.get(),
                before >> 20,
                after >> 20);
        if (holdSeconds > 0) {
            System.out.printf(
                    "holding for %d s (pid %d)%n",
                    holdSeconds, ProcessHandle.current().pid());
            Thread.sleep(holdSeconds * 1000L);
        }
        // then every stream ends (the event stream's last event): what was held back is answered
        counters.ending = true;
        for (StreamObserver<ProcessingRequest> o : open) {
            o.onNext(body(DONE, true));
        }
        for (int k = 0; k < 600 && counters.ended.get() < held; k++) {
            Thread.sleep(100);
        }
        System.out.printf(
                "%s: %d streams ended, %d answers let a digit group of the card through%n",
                name, counters.ended.get(), counters.leaks.get());
        r = new Result(name, scans, held, r.refused(), r.maskedWhileHeld(), counters.leaks.get(), r.bytesPerStream());
        for (StreamObserver<ProcessingRequest> o : open) {
            try {
                o.onCompleted();
            } catch (RuntimeException ignored) {
                // a refused stream is already closed
            }
        }
        open.clear();
        for (ManagedChannel ch : channels) {
            ch.shutdownNow();
            ch.awaitTermination(10, TimeUnit.SECONDS);
        }
        return r;
    }

    static ProcessingRequest body(byte[] bytes, boolean end) {
        return ProcessingRequest.newBuilder()
                .setResponseBody(HttpBody.newBuilder()
                        .setBody(ByteString.copyFrom(bytes))
                        .setEndOfStream(end))
                .build();
    }

    /** Heap in use after full collections (what stays reachable). */
    static long liveHeap() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        for (int k = 0; k < 3; k++) {
            System.gc();
            Thread.sleep(200);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
