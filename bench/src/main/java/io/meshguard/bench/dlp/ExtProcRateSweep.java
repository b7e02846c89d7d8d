package io.meshguard.bench.dlp;

import static io.meshguard.bench.dlp.ExtProcMessages.hv;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.bench.LatencyCsv;
import io.meshguard.dlpserver.DlpServer;
import io.meshguard.runtime.grpc.GrpcServerHost;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Whole-stream latency of the DLP server at fixed offered rates, beside a pass-through ext_proc server on the same
 * runtime wiring ({@link GrpcServerHost}), in one process and one run. Open loop: streams start at their intended
 * times whatever the servers do, and latency runs from the intended start to the answer of the last body chunk, so a
 * stall is not hidden (coordinated omission). Each stream is what Envoy sends for a streamed SSE answer: protocol
 * config and request headers, response headers, then N FULL_DUPLEX_STREAMED body chunks of ~680 bytes (one chunk in
 * ten carries a sensitive value), each sent when the previous one is answered. The two servers are measured
 * alternately at each rate, so load from other processes hits both. A target that falls 2 s behind is marked
 * saturated, and so is one whose streams fail (call limit) or stay unanswered 30 s after the last start
 * ({@code -Dwait=N} seconds). Prints a table and {@link LatencyCsv} lines for {@code bench/plots/plot.py}. A benchmark, not a test.
 *
 * <pre>java -cp … io.meshguard.bench.dlp.ExtProcRateSweep [policies/dlp.yaml] [seconds] [streams/s,…] [chunks]</pre>
 */
public final class ExtProcRateSweep {
    private ExtProcRateSweep() {}

    private record Result(double achieved, Histogram latency, boolean saturated) {}

    public static void main(String[] args) throws Exception {
        Path policy = Path.of(args.length > 0 ? args[0] : "policies/dlp.yaml");
        Duration seconds = Duration.ofSeconds(args.length > 1 ? Integer.parseInt(args[1]) : 5);
        List<Integer> rates = new ArrayList<>();
        for (String r : (args.length > 2 ? args[2] : "25,50,100,200,400").split(",")) {
            rates.add(Integer.parseInt(r.trim()));
        }
        int chunks = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        DlpServer dlp = ExtProcLatency.startUnaudited(policy);
        GrpcServerHost passHost = new GrpcServerHost(
                "pass-through-grpc",
                GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                GrpcServerHost.bind(new ExtProcLatency.PassThrough()),
                new SimpleMeterRegistry());
        passHost.start();
        ManagedChannel toDlp = NettyChannelBuilder.forAddress("127.0.0.1", dlp.grpcPort())
                .usePlaintext()
                .build();
        ManagedChannel toPass = NettyChannelBuilder.forAddress("127.0.0.1", passHost.port())
                .usePlaintext()
                .build();
        byte[][] body = ExtProcLatency.ScanThroughputChunks.sseChunks(new Random(3), chunks);
        try {
            System.out.printf(
                    "JDK %s, %d CPUs, %d s per rate and server, %d SSE chunks of ~%d bytes per stream%n",
                    Runtime.version(),
                    Runtime.getRuntime().availableProcessors(),
                    seconds.toSeconds(),
                    chunks,
                    body[0].length);
            // warm-up: both servers, the highest rate, half the time
            openLoop(toPass, body, rates.getLast(), seconds.dividedBy(2));
            openLoop(toDlp, body, rates.getLast(), seconds.dividedBy(2));
            List<Result> pass = new ArrayList<>();
            List<Result> scan = new ArrayList<>();
            for (int rate : rates) {
                pass.add(openLoop(toPass, body, rate, seconds));
                scan.add(openLoop(toDlp, body, rate, seconds));
            }
            System.out.println();
            System.out.println("| streams/s | pass-through p50 µs | p99 µs | DLP p50 µs | p99 µs | p99 ratio |");
            System.out.println("|---:|---:|---:|---:|---:|---:|");
            for (int i = 0; i < rates.size(); i++) {
                Histogram p = pass.get(i).latency();
                Histogram d = scan.get(i).latency();
                System.out.printf(
                        "| %d | %d | %d | %d | %d | %.2f |%s%n",
                        rates.get(i),
                        p.getValueAtPercentile(50),
                        p.getValueAtPercentile(99),
                        d.getValueAtPercentile(50),
                        d.getValueAtPercentile(99),
                        (double) d.getValueAtPercentile(99) / p.getValueAtPercentile(99),
                        pass.get(i).saturated() || scan.get(i).saturated() ? " saturated" : "");
            }
            System.out.println();
            LatencyCsv.header();
            for (int i = 0; i < rates.size(); i++) {
                LatencyCsv.row(
                        "dlp",
                        "(a) pass-through ext_proc server",
                        true,
                        rates.get(i),
                        pass.get(i).achieved(),
                        pass.get(i).latency(),
                        pass.get(i).saturated());
            }
            for (int i = 0; i < rates.size(); i++) {
                LatencyCsv.row(
                        "dlp",
                        "(b) DLP server, shipped policy",
                        false,
                        rates.get(i),
                        scan.get(i).achieved(),
                        scan.get(i).latency(),
                        scan.get(i).saturated());
            }
        } finally {
            toDlp.shutdownNow();
            toPass.shutdownNow();
            passHost.close();
            dlp.close();
        }
    }

    private static Result openLoop(ManagedChannel channel, byte[][] body, int rate, Duration duration) {
        Recorder recorder = new Recorder(3);
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long interval = 1_000_000_000L / rate;
        long total = duration.toSeconds() * rate;
        long start = System.nanoTime();
        long started = 0;
        boolean saturated = false;
        for (long i = 0; i < total; i++) {
            if (started - done.get() > 2L * rate) {
                saturated = true; // two seconds of streams unfinished: the server cannot sustain this rate
                break;
            }
            long intended = start + i * interval;
            long wait = intended - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            started++;
            new OpenStream(channel, body, intended, recorder, done, failed).begin();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.getLong("wait", 30));
        while (done.get() < started && System.nanoTime() < deadline) {
            LockSupport.parkNanos(1_000_000);
        }
        long unfinished = started - done.get();
        if (failed.get() > 0 || unfinished > 0) {
            // refused (call limit) or never answered within the wait: the server did not sustain this rate
            System.out.printf(
                    "%d streams/s: %d of %d streams failed, %d unfinished after the wait%n",
                    rate, failed.get(), started, unfinished);
            saturated = true;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new Result((done.get() - failed.get()) / elapsed, recorder.getIntervalHistogram(), saturated);
    }

    /** One ext_proc stream driven message by message: each message goes out when the previous one is answered. */
    private static final class OpenStream implements StreamObserver<ProcessingResponse> {
        private final byte[][] body;
        private final long intended;
        private final Recorder recorder;
        private final AtomicLong done;
        private final AtomicLong failed;
        private final StreamObserver<ProcessingRequest> requests;
        private int answered;
        private boolean finished;

        OpenStream(
                ManagedChannel channel,
                byte[][] body,
                long intended,
                Recorder recorder,
                AtomicLong done,
                AtomicLong failed) {
            this.body = body;
            this.intended = intended;
            this.recorder = recorder;
            this.done = done;
            this.failed = failed;
            this.requests = ExternalProcessorGrpc.newStub(channel).process(this);
        }

        synchronized void begin() { // the request observer is not thread-safe: one sender at a time
            requests.onNext(ExtProcMessages.bodilessRequestDuplexResponse(
                    HeaderMap.newBuilder().addHeaders(hv(":path", "/v1/chat/completions"))));
        }

        @Override
        public synchronized void onNext(ProcessingResponse response) {
            if (finished) {
                return;
            }
            answered++;
            if (answered == 1) {
                requests.onNext(ExtProcMessages.okResponseHeaders("text/event-stream"));
            } else if (answered - 2 < body.length) {
                int chunk = answered - 2;
                requests.onNext(ProcessingRequest.newBuilder()
                        .setResponseBody(HttpBody.newBuilder()
                                .setBody(ByteString.copyFrom(body[chunk]))
                                .setEndOfStream(chunk == body.length - 1))
                        .build());
            } else {
                recorder.recordValue(Math.max(1, (System.nanoTime() - intended) / 1000));
                finished = true;
                requests.onCompleted();
                done.incrementAndGet();
            }
        }

        @Override
        public synchronized void onError(Throwable t) {
            if (!finished) {
                finished = true;
                failed.incrementAndGet();
                done.incrementAndGet();
            }
        }

        @Override
        public void onCompleted() {
            // the server closes after our onCompleted; the stream was counted at its last answer
        }
    }
}
