package io.meshguard.bench.dlp;

import static io.meshguard.bench.dlp.ExtProcMessages.hv;

import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.bench.ProcReadings;
import io.meshguard.runtime.grpc.GrpcServerHost;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Per-chunk latency with many streams held open on one replica, DLP server beside the pass-through in the same run.
 * Both servers run as {@code meshguard dlp} wires them ({@link ProductionDlp}: the server's config schema and
 * defaults, decision log on; the pass-through on the same {@code grpc.*} settings and runtime wiring). N ext_proc
 * streams are opened to each as Envoy drives a streamed LLM answer ({@code FULL_DUPLEX_STREAMED} response body, a
 * {@code text/event-stream}, the two events of {@link ConcurrentStreams} with a card number split between them) and
 * all stay open. Then, each round, every held stream gets one more chunk (eight SSE token events, ~1 KB; one
 * chunk in ten carries a card number and a phone number) on both servers, stream by stream, the two servers' chunks
 * interleaved one by one (which goes first alternates) by {@code workers} threads, each waiting for its chunk's
 * first answer before the next (the DLP server may keep a chunk's last event until the next chunk: counted). Prints p50/p99 per chunk of each server and
 * their ratio per round, the median ratio, and counts answers that let a card number through. A benchmark, not a
 * test.
 *
 * <pre>java -Xmx3g -cp … io.meshguard.bench.dlp.HeldStreamLatency [policies/dlp.yaml] [held streams] [rounds]
 * [workers]</pre>
 * Before the streams are held, {@code -Dwarmup=N} streams (2,000) are opened on the DLP server and ended.
 */
public final class HeldStreamLatency {
    private HeldStreamLatency() {}

    public static void main(String[] args) throws Exception {
        Path policy = Path.of(args.length > 0 ? args[0] : "policies/dlp.yaml");
        int held = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int workers = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        System.out.printf(
                "JDK %s, %d CPUs, max heap %d MiB; %d streams held on each server, %d rounds, %d workers; load %s%n",
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20,
                held,
                rounds,
                workers,
                ProcReadings.loadAverage());
        try (ProductionDlp dlp = ProductionDlp.start(policy, Map.of())) {
            GrpcServerHost pass = ProductionDlp.passThrough(dlp.config, dlp.metrics);
            List<ManagedChannel> channels = new ArrayList<>();
            // a first round of streams that end, so that the held ones meet compiled code (as ConcurrentStreams does)
            int warmUp = Integer.getInteger("warmup", 2_000);
            if (warmUp > 0) {
                for (Held h : open(dlp.server.grpcPort(), warmUp, channels)) {
                    h.requests.onNext(ConcurrentStreams.body(ConcurrentStreams.DONE, true));
                    h.requests.onCompleted();
                }
            }
            List<Held> toDlp = open(dlp.server.grpcPort(), held, channels);
            List<Held> toPass = open(pass.port(), held, channels);
            System.out.printf(
                    "held: DLP %d, pass-through %d (measured: the first %d of each); live heap %d MiB; DLP streams with the split card masked: %d%n",
                    toDlp.size(),
                    toPass.size(),
                    Math.min(toDlp.size(), toPass.size()),
                    ConcurrentStreams.liveHeap() >> 20,
                    toDlp.stream().filter(h -> h.masked).count());
            // a stream the DLP server closed at its set-up (a headers deadline missed on a loaded machine) is left
            // out on both sides: each round measures the same streams on both servers
            int measured = Math.min(toDlp.size(), toPass.size());
            toDlp = toDlp.subList(0, measured);
            toPass = toPass.subList(0, measured);
            long[] dlpNs = new long[measured];
            long[] passNs = new long[measured];
            measure(toDlp, toPass, workers, -1, dlpNs, passNs); // warm-up round
            double[] ratios50 = new double[rounds];
            double[] ratios99 = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                measure(toDlp, toPass, workers, round, dlpNs, passNs);
                Arrays.sort(dlpNs);
                Arrays.sort(passNs);
                double dlp50 = dlpNs[measured / 2] / 1e3;
                double dlp99 = dlpNs[(int) (measured * 0.99)] / 1e3;
                double pass50 = passNs[measured / 2] / 1e3;
                double pass99 = passNs[(int) (measured * 0.99)] / 1e3;
                ratios50[round] = dlp50 / pass50;
                ratios99[round] = dlp99 / pass99;
                System.out.printf(
                        "round %d: pass-through p50 %.0f us p99 %.0f us | DLP p50 %.0f us p99 %.0f us | ratio p50 %.2f"
                                + " p99 %.2f | load %s%n",
                        round + 1,
                        pass50,
                        pass99,
                        dlp50,
                        dlp99,
                        ratios50[round],
                        ratios99[round],
                        ProcReadings.loadAverage());
            }
            Arrays.sort(ratios50);
            Arrays.sort(ratios99);
            System.out.printf(
                    "ratio DLP/pass-through at %d held streams, median of %d rounds: p50 %.2f  p99 %.2f (p99 range"
                            + " %.2f-%.2f)%n",
                    held, rounds, ratios50[rounds / 2], ratios99[rounds / 2], ratios99[0], ratios99[rounds - 1]);
            for (Held h : toDlp) {
                h.requests.onNext(ConcurrentStreams.body(ConcurrentStreams.DONE, true));
                h.requests.onCompleted();
            }
            for (Held h : toPass) {
                h.requests.onCompleted();
            }
            Thread.sleep(5_000); // the held-back last events, answered at the end of stream
            int leaks = toDlp.stream().mapToInt(h -> h.leaks).sum();
            System.out.printf("DLP answers that let a card number (or half of it) through: %d%n", leaks);
            for (ManagedChannel ch : channels) {
                ch.shutdownNow();
            }
            pass.close();
        }
    }

    /** One round: every held stream gets one chunk on each server. */
    private static void measure(
            List<Held> toDlp, List<Held> toPass, int workers, int round, long[] dlpNs, long[] passNs)
            throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger dlpWhole = new AtomicInteger();
        AtomicInteger passWhole = new AtomicInteger();
        for (int w = 0; w < workers; w++) {
            int first = w;
            threads.add(Thread.ofPlatform().name("chunks-" + w).start(() -> {
                try {
                    for (int s = first; s < toDlp.size(); s += workers) {
                        byte[] chunk = chunk(round, s);
                        String mark = mark(round, s);
                        if (s % 2 == 0) {
                            dlpNs[s] = toDlp.get(s).send(chunk, mark, dlpWhole);
                            passNs[s] = toPass.get(s).send(chunk, mark, passWhole);
                        } else {
                            passNs[s] = toPass.get(s).send(chunk, mark, passWhole);
                            dlpNs[s] = toDlp.get(s).send(chunk, mark, dlpWhole);
                        }
                    }
                } catch (InterruptedException | RuntimeException e) {
                    failures.incrementAndGet();
                    System.out.println("worker failed: " + e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " workers failed");
        }
        if (round >= 0) {
            System.out.printf(
                    "round %d: first answers holding the chunk's last event: DLP %d, pass-through %d of %d%n",
                    round + 1, dlpWhole.get(), passWhole.get(), toDlp.size());
        }
    }

    private static String mark(int round, int stream) {
        return "m" + (round + 1) + "x" + stream;
    }

    /** Eight token events; one chunk in ten carries a card number and a phone number in its first event. */
    private static byte[] chunk(int round, int stream) {
        StringBuilder sb = new StringBuilder(800);
        for (int e = 0; e < 8; e++) {
            sb.append("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,")
                    .append("\"delta\":{\"content\":\" ");
            if (e == 7) {
                sb.append(mark(round, stream));
            } else if (e == 0 && (stream + round) % 10 == 0) {
                sb.append("pay with ").append(ConcurrentStreams.CARD).append(" or call 010-1234-5678");
            } else {
                sb.append("token").append(e).append(" of the answer");
            }
            sb.append(" \"}}]}\n\n");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static List<Held> open(int port, int streams, List<ManagedChannel> all) throws InterruptedException {
        List<ManagedChannel> channels = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port)
                    .usePlaintext()
                    .build();
            channels.add(ch);
            all.add(ch);
        }
        Semaphore setUps = new Semaphore(256);
        CountDownLatch ready = new CountDownLatch(streams);
        List<Held> out = new ArrayList<>(streams);
        Random random = new Random(10_000);
        for (int s = 0; s < streams; s++) {
            setUps.acquire();
            Held h = new Held(ready, setUps);
            h.requests = ExternalProcessorGrpc.newStub(channels.get(s % channels.size()))
                    .process(h);
            h.requests.onNext(ExtProcMessages.bodilessRequestDuplexResponse(HeaderMap.newBuilder()
                    .addHeaders(hv(":method", "POST"))
                    .addHeaders(hv(":path", "/v1/chat/completions"))
                    .addHeaders(hv("x-request-id", Long.toHexString(random.nextLong())))));
            h.requests.onNext(ExtProcMessages.okResponseHeaders("text/event-stream"));
            h.requests.onNext(ConcurrentStreams.body(ConcurrentStreams.EVENT_1, false));
            h.requests.onNext(ConcurrentStreams.body(ConcurrentStreams.EVENT_2, false));
            out.add(h);
        }
        if (!ready.await(10, TimeUnit.MINUTES)) {
            throw new IllegalStateException(ready.getCount() + " streams not set up after 10 minutes");
        }
        Thread.sleep(2_000); // the opening events' answers
        // held: set up, and not ended since (a body deadline missed on a loaded machine resets a stream)
        return out.stream().filter(h -> h.open && !h.ended).toList();
    }

    /** A held client stream: its body answers, and whether one let the card through. */
    private static final class Held implements StreamObserver<ProcessingResponse> {
        final LinkedBlockingQueue<String> bodies = new LinkedBlockingQueue<>();
        private final CountDownLatch ready;
        private final Semaphore setUps;
        StreamObserver<ProcessingRequest> requests;
        private int headerAnswers;
        private boolean settled;
        volatile boolean open;
        volatile boolean ended;
        volatile boolean masked;
        volatile int leaks;

        Held(CountDownLatch ready, Semaphore setUps) {
            this.ready = ready;
            this.setUps = setUps;
        }

        private void settle(boolean isOpen) {
            if (!settled) {
                settled = true;
                open = isOpen;
                ready.countDown();
                setUps.release();
            }
        }

        @Override
        public synchronized void onNext(ProcessingResponse r) {
            if (r.hasResponseBody()) {
                String body = r.getResponseBody()
                        .getResponse()
                        .getBodyMutation()
                        .getStreamedResponse()
                        .getBody()
                        .toStringUtf8();
                // the two halves the held stream split it into (a chunk's mark, m<round>x<stream>, holds at most five
                // digits in a row)
                if (body.contains(ConcurrentStreams.CARD.substring(0, 8))
                        || body.contains(ConcurrentStreams.CARD.substring(8))) {
                    leaks++;
                } else if (body.contains(ConcurrentStreams.CARD.substring(12))) {
                    masked = true;
                }
                bodies.add(body);
            } else if (r.hasImmediateResponse()) {
                settle(false);
            } else if (++headerAnswers == 2) {
                settle(true);
            }
        }

        @Override
        public synchronized void onError(Throwable t) {
            ended = true;
            settle(false);
        }

        @Override
        public synchronized void onCompleted() {
            ended = true;
            settle(false);
        }

        /**
         * Nanoseconds from sending the chunk to its first answer (as {@link ExtProcLatency} counts). The DLP server may
         * hold a chunk's last event back until the next chunk shows how its text goes on: {@code withMark} counts the
         * answers that held the chunk's last event ({@code mark}) too.
         */
        long send(byte[] chunk, String mark, AtomicInteger withMark) throws InterruptedException {
            bodies.clear();
            long t0 = System.nanoTime();
            requests.onNext(ConcurrentStreams.body(chunk, false));
            String body = bodies.poll(30, TimeUnit.SECONDS);
            if (body == null) {
                throw new IllegalStateException("no answer to the chunk ending " + mark + " within 30 s");
            }
            long ns = System.nanoTime() - t0;
            if (body.contains(mark)) {
                withMark.incrementAndGet();
            }
            return ns;
        }
    }
}
