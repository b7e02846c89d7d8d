package io.meshguard.bench.dlp;

import static io.meshguard.bench.dlp.ExtProcMessages.hv;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.dlpserver.DlpAuditSink;
import io.meshguard.dlpserver.DlpServer;
import io.meshguard.dlpserver.DlpServerSettings;
import io.meshguard.runtime.grpc.GrpcServerHost;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.testing.StreamSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Per-chunk added latency through the gRPC stream: the DLP server (shipped policy, FULL_DUPLEX_STREAMED response
 * bodies) against a pass-through ext_proc server that echoes every chunk, both on loopback in this process and both
 * on the runtime's {@link GrpcServerHost} wiring ({@code -Dpassthrough=bare}: the pass-through on a plain Netty
 * server instead, as measured before the fourth round). A stream
 * to each server is open at a time and their chunks are interleaved one by one, so load from other processes hits
 * both series alike. After a warm-up round, prints p50/p99 per chunk and their ratio for each round, then the median
 * ratio: tail latency on a shared machine moves a lot from round to round. A benchmark, not a test.
 *
 * <p>{@code -Dbody=binary}: the response is {@code application/octet-stream} in random 16 KiB chunks
 * ({@code -Dchunk=N} bytes), which the shipped policy passes unscanned ({@code non_text: pass}): what an unscanned
 * body costs going through the DLP server, which Envoy sends it to under FULL_DUPLEX_STREAMED whatever the server
 * would prefer ({@code mode_override} is ignored in that mode).
 *
 * <pre>java -cp … io.meshguard.bench.dlp.ExtProcLatency [policies/dlp.yaml] [streams] [chunks-per-stream] [rounds]</pre>
 */
public final class ExtProcLatency {
    private ExtProcLatency() {}

    /** Echoes every body chunk back unchanged (what an ext_proc server with no work costs). */
    static final class PassThrough extends ExternalProcessorGrpc.ExternalProcessorImplBase {
        @Override
        public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(ProcessingRequest r) {
                    if (r.hasRequestHeaders()) {
                        out.onNext(ProcessingResponse.newBuilder()
                                .setRequestHeaders(HeadersResponse.getDefaultInstance())
                                .build());
                    } else if (r.hasResponseHeaders()) {
                        out.onNext(ProcessingResponse.newBuilder()
                                .setResponseHeaders(HeadersResponse.getDefaultInstance())
                                .build());
                    } else if (r.hasResponseBody()) {
                        out.onNext(ProcessingResponse.newBuilder()
                                .setResponseBody(BodyResponse.newBuilder()
                                        .setResponse(CommonResponse.newBuilder()
                                                .setBodyMutation(BodyMutation.newBuilder()
                                                        .setStreamedResponse(StreamedBodyResponse.newBuilder()
                                                                .setBody(r.getResponseBody()
                                                                        .getBody())
                                                                .setEndOfStream(r.getResponseBody()
                                                                        .getEndOfStream())))))
                                .build());
                    }
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    out.onCompleted();
                }
            };
        }
    }

    /** A started DLP server on a loopback port with {@code policy}, its audit events dropped. */
    static DlpServer startUnaudited(Path policy) throws Exception {
        DlpServer dlp = DlpServer.create(
                new DlpServerSettings(
                        GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                        policy,
                        new byte[32],
                        java.time.Duration.ofHours(1)),
                new DlpAuditSink() {
                    @Override
                    public void finding(FindingEvent e) {}

                    @Override
                    public void apiCall(ApiCallEvent e) {}
                },
                new SimpleMeterRegistry());
        dlp.start();
        return dlp;
    }

    public static void main(String[] args) throws Exception {
        Path policy = Path.of(args.length > 0 ? args[0] : "policies/dlp.yaml");
        int streams = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int chunks = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        DlpServer dlp = startUnaudited(policy);
        // The pass-through runs on the same runtime wiring as the DLP server (GrpcServerHost: virtual-thread
        // executor, per-method metrics, call limit, log context), so the ratio measures the DLP work, not a lighter
        // server configuration. -Dpassthrough=bare gives the earlier baseline (a plain Netty server on grpc-java's
        // default cached thread pool, no interceptors) for comparison with figures measured that way.
        boolean bare = "bare".equals(System.getProperty("passthrough", "host"));
        Server bareServer = null;
        GrpcServerHost passHost = null;
        int passPort;
        if (bare) {
            bareServer = NettyServerBuilder.forPort(0)
                    .addService(new PassThrough())
                    .build()
                    .start();
            passPort = bareServer.getPort();
        } else {
            passHost = new GrpcServerHost(
                    "pass-through-grpc",
                    GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                    GrpcServerHost.bind(new PassThrough()),
                    new SimpleMeterRegistry());
            passHost.start();
            passPort = passHost.port();
        }
        System.out.printf(
                "pass-through server: %s%n",
                bare
                        ? "bare NettyServerBuilder (default executor, no interceptors)"
                        : "GrpcServerHost (same runtime wiring as the DLP server)");
        ManagedChannel toDlp = NettyChannelBuilder.forAddress("127.0.0.1", dlp.grpcPort())
                .usePlaintext()
                .build();
        ManagedChannel toPass = NettyChannelBuilder.forAddress("127.0.0.1", passPort)
                .usePlaintext()
                .build();
        boolean binary = "binary".equals(System.getProperty("body", "sse"));
        byte[][] body = binary
                ? binaryChunks(new Random(3), chunks, Integer.getInteger("chunk", 16 * 1024))
                : ScanThroughputChunks.sseChunks(new Random(3), chunks);
        String contentType = binary ? "application/octet-stream" : "text/event-stream";
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        long[] dlpNs = new long[streams * chunks];
        long[] passNs = new long[streams * chunks];
        measure(toDlp, toPass, body, contentType, streams, dlpNs, passNs); // warm-up
        System.out.printf(
                "chunks measured per round: %d per server (%d streams x %d %s chunks of ~%d bytes)%n",
                dlpNs.length, streams, chunks, binary ? "binary (passed unscanned)" : "SSE", body[0].length);
        double[] ratios50 = new double[rounds];
        double[] ratios99 = new double[rounds];
        for (int round = 0; round < rounds; round++) {
            measure(toDlp, toPass, body, contentType, streams, dlpNs, passNs);
            Arrays.sort(dlpNs);
            Arrays.sort(passNs);
            double dlp50 = dlpNs[dlpNs.length / 2] / 1e3;
            double dlp99 = dlpNs[(int) (dlpNs.length * 0.99)] / 1e3;
            double pass50 = passNs[passNs.length / 2] / 1e3;
            double pass99 = passNs[(int) (passNs.length * 0.99)] / 1e3;
            ratios50[round] = dlp50 / pass50;
            ratios99[round] = dlp99 / pass99;
            System.out.printf(
                    "round %d: pass-through p50 %.0f us p99 %.0f us | DLP p50 %.0f us p99 %.0f us | "
                            + "ratio p50 %.2f p99 %.2f%n",
                    round + 1, pass50, pass99, dlp50, dlp99, ratios50[round], ratios99[round]);
        }
        Arrays.sort(ratios50);
        Arrays.sort(ratios99);
        System.out.printf(
                "ratio DLP/pass-through, median of %d rounds: p50 %.2f  p99 %.2f (p99 range %.2f-%.2f)%n",
                rounds, ratios50[rounds / 2], ratios99[rounds / 2], ratios99[0], ratios99[rounds - 1]);
        toDlp.shutdownNow();
        toPass.shutdownNow();
        if (bareServer != null) {
            bareServer.shutdownNow();
        }
        if (passHost != null) {
            passHost.close();
        }
        dlp.close();
    }

    /**
     * One stream to each server at a time, their chunks interleaved one by one (which server goes first alternates),
     * so a burst of load from other processes on a shared machine hits both series alike.
     */
    private static void measure(
            ManagedChannel toDlp,
            ManagedChannel toPass,
            byte[][] body,
            String contentType,
            int streams,
            long[] dlpNs,
            long[] passNs)
            throws InterruptedException {
        for (int s = 0; s < streams; s++) {
            Stream dlp = new Stream(toDlp, contentType);
            Stream pass = new Stream(toPass, contentType);
            for (int i = 0; i < body.length; i++) {
                boolean last = i == body.length - 1;
                int at = s * body.length + i;
                if (i % 2 == 0) {
                    dlpNs[at] = dlp.send(body[i], last);
                    passNs[at] = pass.send(body[i], last);
                } else {
                    passNs[at] = pass.send(body[i], last);
                    dlpNs[at] = dlp.send(body[i], last);
                }
            }
            dlp.close();
            pass.close();
        }
    }

    /** An ext_proc stream past its headers, as Envoy drives it for a streamed SSE response. */
    private static final class Stream {
        private final LinkedBlockingQueue<ProcessingResponse> answers = new LinkedBlockingQueue<>();
        private final StreamObserver<ProcessingRequest> requests;

        Stream(ManagedChannel ch, String contentType) throws InterruptedException {
            requests = ExternalProcessorGrpc.newStub(ch).process(StreamSink.into(answers));
            requests.onNext(ExtProcMessages.bodilessRequestDuplexResponse(
                    HeaderMap.newBuilder().addHeaders(hv(":path", "/v1/chat/completions"))));
            answers.poll(10, TimeUnit.SECONDS);
            requests.onNext(ExtProcMessages.okResponseHeaders(contentType));
            answers.poll(10, TimeUnit.SECONDS);
        }

        /** Nanoseconds from sending the chunk to receiving its answer. */
        long send(byte[] chunk, boolean last) throws InterruptedException {
            long t0 = System.nanoTime();
            requests.onNext(ProcessingRequest.newBuilder()
                    .setResponseBody(HttpBody.newBuilder()
                            .setBody(ByteString.copyFrom(chunk))
                            .setEndOfStream(last))
                    .build());
            if (answers.poll(10, TimeUnit.SECONDS) == null) {
                throw new IllegalStateException("no answer to a body chunk within 10 s");
            }
            return System.nanoTime() - t0;
        }

        void close() {
            requests.onCompleted();
        }
    }

    /** Random bytes: an image or archive download. */
    static byte[][] binaryChunks(Random r, int n, int size) {
        byte[][] out = new byte[n][size];
        for (byte[] c : out) {
            r.nextBytes(c);
        }
        return out;
    }

    /** Whole SSE events (each chunk ends on an event boundary, so each gets exactly one answer). */
    static final class ScanThroughputChunks {
        static byte[][] sseChunks(Random r, int n) {
            ScanThroughput.Corpora c = new ScanThroughput.Corpora(r);
            byte[][] out = new byte[n][];
            for (int i = 0; i < n; i++) {
                StringBuilder sb = new StringBuilder();
                for (int e = 0; e < 8; e++) {
                    sb.append("data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" ")
                            .append(i % 10 == 0 && e == 0 ? c.pii() : "token" + e)
                            .append(" \"}}]}\n\n");
                }
                out[i] = sb.toString().getBytes(StandardCharsets.UTF_8);
            }
            return out;
        }
    }
}
