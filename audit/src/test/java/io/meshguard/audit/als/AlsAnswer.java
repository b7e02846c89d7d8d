package io.meshguard.audit.als;

import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/**
 * The receiver's answer to a client's access-log stream, as the tests wait for it: its response, {@code null} when it
 * closes the stream without one, or the error it closed the stream with.
 */
final class AlsAnswer {
    private AlsAnswer() {}

    /** An observer of the stream's answer that completes {@code answer}. */
    static StreamObserver<StreamAccessLogsResponse> into(CompletableFuture<StreamAccessLogsResponse> answer) {
        return new StreamObserver<>() {
            @Override
            public void onNext(StreamAccessLogsResponse value) {
                answer.complete(value);
            }

            @Override
            public void onCompleted() {
                answer.complete(null);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }
        };
    }
}
