package io.meshguard.runtime.grpc;

import com.google.protobuf.StringValue;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.MDC;

/**
 * A real gRPC service for host tests, defined without generated code: {@code Echo} answers at once
 * ({@code "mdc"} answers with the caller's MDC request and trace ids), {@code Block} waits until the test
 * releases it.
 */
final class TestEchoService {
    static final String SERVICE = "meshguard.test.Echo";

    static final MethodDescriptor<StringValue, StringValue> ECHO = method("Echo");
    static final MethodDescriptor<StringValue, StringValue> BLOCK = method("Block");

    /** Permits taken by {@code Block} calls that have started. */
    final Semaphore blockedCalls = new Semaphore(0);
    /** Opened by the test to let {@code Block} calls answer. */
    final CountDownLatch release = new CountDownLatch(1);

    private static MethodDescriptor<StringValue, StringValue> method(String name) {
        return MethodDescriptor.<StringValue, StringValue>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
                .setResponseMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
                .build();
    }

    ServerServiceDefinition definition() {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, response) -> {
                    String answer = request.getValue().equals("mdc")
                            ? MDC.get("request_id") + "|" + MDC.get("trace_id")
                            : "echo:" + request.getValue();
                    response.onNext(StringValue.of(answer));
                    response.onCompleted();
                }))
                .addMethod(BLOCK, ServerCalls.asyncUnaryCall((request, response) -> {
                    blockedCalls.release();
                    try {
                        if (!release.await(30, TimeUnit.SECONDS)) {
                            response.onError(Status.DEADLINE_EXCEEDED
                                    .withDescription("never released")
                                    .asException());
                            return;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        response.onError(Status.CANCELLED.asException());
                        return;
                    }
                    response.onNext(StringValue.of("released:" + request.getValue()));
                    response.onCompleted();
                }))
                .build();
    }
}
