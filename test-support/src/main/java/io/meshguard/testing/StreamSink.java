package io.meshguard.testing;

import io.grpc.stub.StreamObserver;
import java.util.Collection;
import java.util.function.Consumer;

/**
 * Where a test's gRPC stream puts what the other side sends: into a collection the test reads (often a blocking queue
 * it polls with a timeout), or nowhere. The end of the stream is not recorded, and its error only when the test asks
 * for it: the tests that use a sink judge the messages, and a stream that fails shows as messages that never arrive.
 */
public final class StreamSink<T> implements StreamObserver<T> {
    private final Consumer<? super T> received;
    private final Consumer<? super Throwable> failed;

    private StreamSink(Consumer<? super T> received, Consumer<? super Throwable> failed) {
        this.received = received;
        this.failed = failed;
    }

    /** A sink that adds every message to {@code received}. */
    public static <T> StreamSink<T> into(Collection<? super T> received) {
        return new StreamSink<>(received::add, error -> {});
    }

    /**
     * A sink that adds every message to {@code received} and hands the stream's error, if it fails, to {@code failed}
     * (often the same queue's {@code add}, so the test sees the failure where it waits for the next message).
     */
    public static <T> StreamSink<T> into(Collection<? super T> received, Consumer<? super Throwable> failed) {
        return new StreamSink<>(received::add, failed);
    }

    /** A sink that drops every message (the test only sends on the stream). */
    public static <T> StreamSink<T> discarding() {
        return new StreamSink<>(message -> {}, error -> {});
    }

    @Override
    public void onNext(T message) {
        received.accept(message);
    }

    @Override
    public void onCompleted() {}

    @Override
    public void onError(Throwable t) {
        failed.accept(t);
    }
}
