package io.meshguard.bench.dlp;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.dlp.server.DlpAuditSink;
import io.meshguard.dlp.server.DlpServer;
import io.meshguard.dlp.server.DlpServerSettings;
import io.meshguard.runtime.grpc.GrpcServerHost;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Memory per open, long-lived SSE stream: opens N ext_proc streams (request headers, response headers of a
 * {@code text/event-stream} answer, one FULL_DUPLEX_STREAMED chunk whose token holds a phone number) and keeps them all
 * open, then measures the live heap after a full GC and divides by N; then ends every stream and counts the answers
 * whose event came back masked. Done for the DLP server and,
 * in the same run, for the pass-through ext_proc server on the same runtime wiring (the gRPC stream's own cost, client
 * side included, since both run in this process): the difference is what the DLP server holds per stream. Streams
 * refused by {@code grpc.max_concurrent_calls} are counted. A benchmark, not a test.
 *
 * <pre>java -Xmx6g -cp … io.meshguard.bench.dlp.ConcurrentStreams [policies/dlp.yaml] [streams] [channels]
 * [max_concurrent_calls]</pre>
 * {@code -Dhold=S} keeps the DLP streams open S seconds after measuring (for {@code jmap -histo:live}).
 */
public final class ConcurrentStreams {
    private ConcurrentStreams() {}

    public static void main(String[] args) throws Exception {
        Path policy = Path.of(args.length > 0 ? args[0] : "policies/dlp.yaml");
        int streams = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int channels = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int maxCalls = args.length > 3
                ? Integer.parseInt(args[3])
                : GrpcServerSettings.defaults(0).maxConcurrentCalls();
        GrpcServerSettings grpc = GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0);
        grpc = grpc.withLimits(grpc.maxInboundMessageBytes(), maxCalls);
        byte[] chunk = ("data: {\"choices\":[{\"delta\":{\"content\":\" call 010-1234-5678 or mail kim@bank.co.kr\"}}]}"
                        + "\n\n")
                .getBytes(StandardCharsets.UTF_8);
        System.out.printf(
                "JDK %s, %d CPUs, max heap %d MiB; %d streams over %d channels, grpc.max_concurrent_calls %d%n",
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20,
                streams,
                channels,
                maxCalls);
        GrpcServerHost pass = new GrpcServerHost(
                "pass-through-grpc",
                grpc,
                GrpcServerHost.bind(new ExtProcLatency.PassThrough()),
                new SimpleMeterRegistry());
        pass.start();
        Result passResult = hold("pass-through ext_proc (baseline)", pass.port(), streams, channels, chunk, 0);
        pass.close();
        DlpServer dlp = DlpServer.create(
                new DlpServerSettings(grpc, policy, new byte[32], java.time.Duration.ofHours(1)),
                DlpAuditSink.NONE,
                new SimpleMeterRegistry());
        dlp.start();
        Result dlpResult = hold("DLP server", dlp.grpcPort(), streams, channels, chunk, Integer.getInteger("hold", 0));
        dlp.close();
        System.out.println();
        System.out.println(
                "| server | streams held | refused | body answers | with the value masked | live heap per stream |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (Result r : List.of(passResult, dlpResult)) {
            System.out.printf(
                    "| %s | %d | %d | %d | %d | %.1f KB |%n",
                    r.name(), r.held(), r.refused(), r.bodyAnswers(), r.masked(), r.bytesPerStream() / 1024.0);
        }
        System.out.printf(
                "%nDLP server above the pass-through: %.1f KB per stream%n",
                (dlpResult.bytesPerStream() - passResult.bytesPerStream()) / 1024.0);
    }

    private record Result(String name, int held, int refused, int bodyAnswers, int masked, double bytesPerStream) {}

    private static Result hold(String name, int port, int streams, int channelCount, byte[] chunk, int holdSeconds)
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
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger masked = new AtomicInteger();
        AtomicInteger bodies = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        java.util.concurrent.Semaphore setUps = new java.util.concurrent.Semaphore(256);
        CountDownLatch answered = new CountDownLatch(streams);
        List<StreamObserver<ProcessingRequest>> open = new ArrayList<>(streams);
        Random random = new Random(50_000);
        for (int s = 0; s < streams; s++) {
            ManagedChannel ch = channels.get(s % channelCount);
            AtomicInteger answers = new AtomicInteger();
            java.util.concurrent.atomic.AtomicBoolean settled = new java.util.concurrent.atomic.AtomicBoolean();
            setUps.acquire(); // Envoy opens streams as requests arrive: a few hundred setting up at once, not all
            StreamObserver<ProcessingRequest> requests = ExternalProcessorGrpc.newStub(ch)
                    .process(new StreamObserver<>() {
                        @Override
                        public void onNext(ProcessingResponse r) {
                            if (r.hasResponseBody()) {
                                bodies.incrementAndGet();
                                String body = r.getResponseBody()
                                        .getResponse()
                                        .getBodyMutation()
                                        .getStreamedResponse()
                                        .getBody()
                                        .toStringUtf8();
                                if (body.contains("\"choices\"")
                                        && !body.contains("010-1234-5678")) { // the token's event, masked
                                    masked.incrementAndGet();
                                }
                            }
                            if (r.hasImmediateResponse()) {
                                if (settled.compareAndSet(false, true)) {
                                    closed.incrementAndGet();
                                    answered.countDown();
                                    setUps.release();
                                }
                            } else if (answers.incrementAndGet() == 2 && settled.compareAndSet(false, true)) {
                                answered.countDown(); // both headers answered: the stream is open and past its set-up
                                setUps.release();
                            }
                        }

                        @Override
                        public void onError(Throwable t) {
                            if (settled.compareAndSet(false, true)) {
                                refused.incrementAndGet();
                                answered.countDown();
                                setUps.release();
                            }
                        }

                        @Override
                        public void onCompleted() {
                            if (settled.compareAndSet(false, true)) {
                                closed.incrementAndGet();
                                answered.countDown();
                                setUps.release();
                            }
                        }
                    });
            requests.onNext(ProcessingRequest.newBuilder()
                    .setProtocolConfig(ProtocolConfiguration.newBuilder()
                            .setRequestBodyMode(BodySendMode.NONE)
                            .setResponseBodyMode(BodySendMode.FULL_DUPLEX_STREAMED))
                    .setRequestHeaders(HttpHeaders.newBuilder()
                            .setEndOfStream(true)
                            .setHeaders(HeaderMap.newBuilder()
                                    .addHeaders(hv(":path", "/v1/chat/completions"))
                                    .addHeaders(hv("x-request-id", Long.toHexString(random.nextLong())))))
                    .build());
            requests.onNext(ProcessingRequest.newBuilder()
                    .setResponseHeaders(HttpHeaders.newBuilder()
                            .setHeaders(HeaderMap.newBuilder()
                                    .addHeaders(hv(":status", "200"))
                                    .addHeaders(hv("content-type", "text/event-stream"))))
                    .build());
            requests.onNext(ProcessingRequest.newBuilder()
                    .setResponseBody(HttpBody.newBuilder()
                            .setBody(ByteString.copyFrom(chunk))
                            .setEndOfStream(false))
                    .build());
            open.add(requests);
        }
        if (!answered.await(5, TimeUnit.MINUTES)) {
            throw new IllegalStateException(name + ": " + answered.getCount() + " streams unanswered after 5 minutes");
        }
        // the chunk's answer may be held back while the stream stays open (a value could go on in the next chunk)
        for (int k = 0; k < 100 && bodies.get() < streams - refused.get(); k++) {
            Thread.sleep(100);
        }
        long after = liveHeap();
        int held = streams - refused.get() - closed.get();
        Result r = new Result(
                name, held, refused.get(), bodies.get(), masked.get(), (after - before) / (double) Math.max(1, held));
        System.out.printf(
                "%s: %d streams held, %d refused, %d closed by the server, live heap %d -> %d MiB%n",
                name, held, refused.get(), closed.get(), before >> 20, after >> 20);
        if (holdSeconds > 0) {
            System.out.printf(
                    "holding for %d s (pid %d)%n",
                    holdSeconds, ProcessHandle.current().pid());
            Thread.sleep(holdSeconds * 1000L);
        }
        // then every stream ends (the event stream's last event): what was held back is answered, masked
        int bodiesBefore = bodies.get();
        byte[] done = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);
        for (StreamObserver<ProcessingRequest> o : open) {
            o.onNext(ProcessingRequest.newBuilder()
                    .setResponseBody(HttpBody.newBuilder()
                            .setBody(ByteString.copyFrom(done))
                            .setEndOfStream(true))
                    .build());
        }
        for (int k = 0; k < 600 && bodies.get() - bodiesBefore < held; k++) {
            Thread.sleep(100);
        }
        r = new Result(name, held, r.refused(), bodies.get(), masked.get(), r.bytesPerStream());
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

    /** Heap in use after full collections (what stays reachable). */
    private static long liveHeap() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        for (int k = 0; k < 3; k++) {
            System.gc();
            Thread.sleep(200);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static HeaderValue hv(String key, String value) {
        return HeaderValue.newBuilder()
                .setKey(key)
                .setRawValue(ByteString.copyFrom(value, StandardCharsets.UTF_8))
                .build();
    }
}
