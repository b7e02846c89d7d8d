package io.meshguard.testing;

import io.grpc.stub.StreamObserver;
import java.util.Collection;
import java.util.function.Consumer;

/**
 * Where a test's gRPC stream puts what the other side sends: into a collection the test reads (often a blocking queue
 * it polls with a timeout), or nowhere. The end of the stream and its errors are not recorded: the tests that use a
 * sink judge the messages, and a stream that fails shows as messages that never arrive.
 */
public final class StreamSink<T> implements StreamObserver<T> {
    private final Consumer<? super T> received;

    private StreamSink(Consumer<? super T> received) {
        this.received = received;
    }

    /** A sink that adds every message to {@code received}. */
    public static <T> StreamSink<T> into(Collection<? super T> received) {
        return new StreamSink<>(received::add);
    }

    /** A sink that drops every message (the test only sends on the stream). */
    public static <T> StreamSink<T> discarding() {
        return new StreamSink<>(message -> {});
    }

    @Override
    public void onNext(T message) {
        received.accept(message);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
}
