package io.meshguard.runtime.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounds the calls a server works on at once, streams included, and fails the excess at once with
 * RESOURCE_EXHAUSTED.
 *
 * <p>Why fail fast rather than queue: Envoy gives every ext_authz check and ext_proc message a deadline of
 * its own (hundreds of milliseconds), so a queued call would mostly time out after having used memory; a
 * prompt RESOURCE_EXHAUSTED lets Envoy apply its failure mode (deny, for fail-closed routes) and shows up
 * in {@code meshguard_grpc_calls_rejected_total} and the per-method status metrics instead of as latency.
 *
 * <p>Calls are run on virtual threads (see {@link GrpcServerHost}); gRPC runs each call's callbacks one at a
 * time, so this semaphore also bounds the number of busy virtual threads.
 */
public final class ConcurrentCallLimit implements ServerInterceptor {
    private final int maxCalls;
    private final Semaphore permits;
    private final Counter rejected;

    /**
     * @param maxCalls calls allowed at once
     * @param registry where {@code meshguard_grpc_calls_in_flight} and {@code meshguard_grpc_calls_rejected_total}
     *     are registered
     */
    public ConcurrentCallLimit(int maxCalls, MeterRegistry registry) {
        if (maxCalls < 1) {
            throw new IllegalArgumentException("maxCalls must be positive");
        }
        this.maxCalls = maxCalls;
        this.permits = new Semaphore(maxCalls);
        this.rejected = Counter.builder("meshguard.grpc.calls.rejected")
                .description("gRPC calls refused with RESOURCE_EXHAUSTED because max_concurrent_calls were in flight")
                .register(registry);
        Gauge.builder("meshguard.grpc.calls.in_flight", permits, p -> maxCalls - p.availablePermits())
                .description("gRPC calls (streams included) in flight")
                .register(registry);
    }

    /** Calls in flight now. */
    public int inFlight() {
        return maxCalls - permits.availablePermits();
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        if (!permits.tryAcquire()) {
            rejected.increment();
            call.close(
                    Status.RESOURCE_EXHAUSTED.withDescription(
                            "server busy: " + maxCalls + " calls in flight (grpc.max_concurrent_calls)"),
                    new Metadata());
            return new ServerCall.Listener<>() {};
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                permits.release();
            }
        };
        ServerCall.Listener<Q> delegate;
        try {
            delegate = next.startCall(call, headers);
        } catch (RuntimeException | Error e) {
            release.run();
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
            @Override
            public void onComplete() {
                try {
                    super.onComplete();
                } finally {
                    release.run();
                }
            }

            @Override
            public void onCancel() {
                try {
                    super.onCancel();
                } finally {
                    release.run();
                }
            }
        };
    }
}
