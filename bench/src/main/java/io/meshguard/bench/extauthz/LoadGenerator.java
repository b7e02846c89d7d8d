package io.meshguard.bench.extauthz;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives Check over one channel with grpc-java's async stub. Closed loop (fixed requests in flight) for maximum
 * throughput; open loop (fixed rate, latency from the intended send time, so a stall is not hidden) for
 * percentiles. Bounded in time; counts non-OK answers so a misconfigured scenario cannot pass for a fast one.
 */
final class LoadGenerator {
    /** @param saturated the target could not keep up with the fixed rate (sending stopped at a 2-second backlog) */
    record Result(double throughput, long count, long notAllowed, Histogram latency, boolean saturated) {}

    private final AuthorizationGrpc.AuthorizationStub stub;
    private final Supplier<CheckRequest> requests;

    /**
     * A generator sending {@code request} over a new plaintext channel to {@code port} on loopback; the channel joins
     * {@code channels}, which the caller shuts down.
     */
    static LoadGenerator onLoopback(int port, CheckRequest request, List<ManagedChannel> channels) {
        ManagedChannel channel =
                NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        channels.add(channel);
        return new LoadGenerator(channel, request);
    }

    LoadGenerator(ManagedChannel channel, CheckRequest request) {
        this(channel, () -> request);
    }

    /** Sends a request from {@code requests} each time (e.g. a new made-up credential per Check). */
    LoadGenerator(ManagedChannel channel, Supplier<CheckRequest> requests) {
        this.stub = AuthorizationGrpc.newStub(channel);
        this.requests = requests;
    }

    Result closedLoop(int inFlight, Duration duration) throws InterruptedException {
        Semaphore permits = new Semaphore(inFlight);
        Recorder recorder = new Recorder(3);
        AtomicLong done = new AtomicLong();
        AtomicLong denied = new AtomicLong();
        long end = System.nanoTime() + duration.toNanos();
        long start = System.nanoTime();
        while (System.nanoTime() < end) {
            permits.acquire();
            long sent = System.nanoTime();
            stub.check(requests.get(), observer(sent, recorder, done, denied, permits));
        }
        permits.acquire(inFlight);
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(done.get() / seconds, done.get(), denied.get(), recorder.getIntervalHistogram(), false);
    }

    Result openLoop(int ratePerSecond, Duration duration) throws InterruptedException {
        Recorder recorder = new Recorder(3);
        AtomicLong done = new AtomicLong();
        AtomicLong denied = new AtomicLong();
        Semaphore outstanding = new Semaphore(Integer.MAX_VALUE / 2);
        long interval = 1_000_000_000L / ratePerSecond;
        long total = duration.toSeconds() * ratePerSecond;
        long start = System.nanoTime();
        AtomicLong sentCount = new AtomicLong();
        boolean saturated = false;
        for (long i = 0; i < total; i++) {
            if (sentCount.get() - done.get() > 2L * ratePerSecond) {
                // more than two seconds of requests unanswered: the target cannot sustain this rate
                saturated = true;
                break;
            }
            sentCount.incrementAndGet();
            long intended = start + i * interval;
            long wait = intended - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            outstanding.acquireUninterruptibly();
            stub.check(requests.get(), observer(intended, recorder, done, denied, outstanding));
        }
        while (done.get() < sentCount.get()) {
            if (System.nanoTime() - start > duration.toNanos() + TimeUnit.SECONDS.toNanos(60)) {
                throw new IllegalStateException("responses still missing 60 s after the last request");
            }
            LockSupport.parkNanos(1_000_000);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(done.get() / seconds, done.get(), denied.get(), recorder.getIntervalHistogram(), saturated);
    }

    private static StreamObserver<CheckResponse> observer(
            long startNanos, Recorder recorder, AtomicLong done, AtomicLong denied, Semaphore release) {
        return new StreamObserver<>() {
            @Override
            public void onNext(CheckResponse value) {
                if (value.getStatus().getCode() != 0) {
                    denied.incrementAndGet();
                }
            }

            @Override
            public void onError(Throwable t) {
                denied.incrementAndGet();
                finish();
            }

            @Override
            public void onCompleted() {
                finish();
            }

            private void finish() {
                recorder.recordValue(Math.max(1, (System.nanoTime() - startNanos) / 1000));
                done.incrementAndGet();
                release.release();
            }
        };
    }
}
