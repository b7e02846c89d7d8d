package io.meshguard.runtime.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("integration")
class GrpcServerHostTest {
    // Own threads for background calls: the common pool may have a single thread on a 2-core machine.
    private static final Executor BACKGROUND = Executors.newVirtualThreadPerTaskExecutor();

    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<GrpcServerHost> hosts = new ArrayList<>();
    private ProcessMetrics metrics;
    private TestEchoService echo;

    @BeforeEach
    void setUp() {
        metrics = ProcessMetrics.create();
        echo = new TestEchoService();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        echo.release.countDown();
        channels.forEach(ManagedChannel::shutdownNow);
        for (GrpcServerHost host : hosts) {
            host.close();
        }
        metrics.close();
    }

    private static GrpcServerSettings loopback() {
        return GrpcServerSettings.defaults(0)
                .withAddress("127.0.0.1", 0)
                .withShutdown(Duration.ZERO, Duration.ofSeconds(10));
    }

    private GrpcServerHost start(GrpcServerSettings settings) throws IOException {
        GrpcServerHost host =
                new GrpcServerHost("test-grpc", settings, List.of(echo.definition()), metrics.forServer("extauthz"));
        hosts.add(host);
        host.start();
        return host;
    }

    private ManagedChannel channel(GrpcServerHost host) {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress(
                        "127.0.0.1", host.port(), InsecureChannelCredentials.create())
                .build();
        channels.add(channel);
        return channel;
    }

    private static String call(ManagedChannel channel, String text) {
        return ClientCalls.blockingUnaryCall(
                        channel,
                        TestEchoService.ECHO,
                        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                        StringValue.of(text))
                .getValue();
    }

    private static CompletableFuture<String> blockingCallInBackground(ManagedChannel channel) {
        return CompletableFuture.supplyAsync(
                () -> ClientCalls.blockingUnaryCall(
                                channel,
                                TestEchoService.BLOCK,
                                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS),
                                StringValue.of("in-flight"))
                        .getValue(),
                BACKGROUND);
    }

    private static ServingStatus health(ManagedChannel channel, String service) {
        return HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build())
                .getStatus();
    }

    private static Status.Code codeOf(Throwable thrown) {
        Throwable cause = thrown;
        while (cause != null && !(cause instanceof StatusRuntimeException)) {
            cause = cause.getCause();
        }
        return cause == null
                ? null
                : ((StatusRuntimeException) cause).getStatus().getCode();
    }

    @Test
    void start_servesServicesAndReportsHealthServing() throws IOException {
        GrpcServerHost host = start(loopback());
        ManagedChannel channel = channel(host);

        assertThat(host.port()).isPositive();
        assertThat(call(channel, "hi")).isEqualTo("echo:hi");
        assertThat(health(channel, "")).isEqualTo(ServingStatus.SERVING);
        assertThat(health(channel, TestEchoService.SERVICE)).isEqualTo(ServingStatus.SERVING);
        assertThat(host.readinessChecks())
                .singleElement()
                .satisfies(check -> assertThat(check.check().ready()).isTrue());
    }

    @Test
    void reflection_listsServices() throws Exception {
        GrpcServerHost host = start(loopback());
        CompletableFuture<List<String>> services = new CompletableFuture<>();

        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel(host))
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse response) {
                        services.complete(response.getListServicesResponse().getServiceList().stream()
                                .map(ServiceResponse::getName)
                                .toList());
                    }

                    @Override
                    public void onError(Throwable t) {
                        services.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();

        assertThat(services.get(10, TimeUnit.SECONDS))
                .contains("grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection");
    }

    @Test
    void drain_healthTurnsNotServingWhileServerStillAnswers() throws Exception {
        GrpcServerHost host = start(loopback().withShutdown(Duration.ofSeconds(3), Duration.ofSeconds(5)));
        ManagedChannel channel = channel(host);
        assertThat(health(channel, "")).isEqualTo(ServingStatus.SERVING);
        ReadinessCheck readiness = host.readinessChecks().get(0);

        CompletableFuture<Void> drain = CompletableFuture.runAsync(host::drainAndStop, BACKGROUND);

        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            assertThat(host.isDraining()).isTrue();
            assertThat(health(channel, "")).isEqualTo(ServingStatus.NOT_SERVING);
            assertThat(health(channel, TestEchoService.SERVICE)).isEqualTo(ServingStatus.NOT_SERVING);
        });
        assertThat(drain).isNotDone();
        assertThat(readiness.check().ready()).isFalse();
        assertThat(readiness.check().detail()).isEqualTo("draining for shutdown");
        drain.get(20, TimeUnit.SECONDS);
    }

    @Test
    void drain_withNoConnectionOpen_endsAtOnce_notAfterDrainTimeout() throws Exception {
        // A ten-minute drain that still ends within the test's bound can only have ended early.
        GrpcServerHost host = start(loopback().withShutdown(Duration.ofMinutes(10), Duration.ofSeconds(5)));

        CompletableFuture<Void> drain = CompletableFuture.runAsync(host::drainAndStop, BACKGROUND);

        drain.get(60, TimeUnit.SECONDS);
        assertThat(host.readinessChecks().get(0).check().detail()).isEqualTo("stopped");
    }

    @Test
    void drain_waitsWhileAClientIsConnected_andEndsWhenItDisconnects() throws Exception {
        GrpcServerHost host = start(loopback().withShutdown(Duration.ofMinutes(10), Duration.ofSeconds(5)));
        ManagedChannel channel = channel(host);
        assertThat(health(channel, "")).isEqualTo(ServingStatus.SERVING);
        assertThat(host.openConnections()).isEqualTo(1);

        CompletableFuture<Void> drain = CompletableFuture.runAsync(host::drainAndStop, BACKGROUND);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(health(channel, "")).isEqualTo(ServingStatus.NOT_SERVING));
        assertThat(drain).as("a connected client is still told to go away").isNotDone();

        channel.shutdownNow();

        drain.get(60, TimeUnit.SECONDS);
        assertThat(host.openConnections()).isZero();
    }

    @Test
    void drain_inFlightCallCompletesWhileNewCallsFailUnavailable() throws Exception {
        GrpcServerHost host = start(loopback().withShutdown(Duration.ofMillis(200), Duration.ofSeconds(30)));
        ManagedChannel inFlightChannel = channel(host);
        ManagedChannel probeChannel = channel(host);
        assertThat(call(probeChannel, "warm")).isEqualTo("echo:warm");
        CompletableFuture<String> inFlight = blockingCallInBackground(inFlightChannel);
        assertThat(echo.blockedCalls.tryAcquire(10, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> drain = CompletableFuture.runAsync(host::drainAndStop, BACKGROUND);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThatThrownBy(() -> call(probeChannel, "late"))
                .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.UNAVAILABLE)));
        assertThat(inFlight).isNotDone();
        assertThat(drain).isNotDone();

        echo.release.countDown();

        assertThat(inFlight.get(10, TimeUnit.SECONDS)).isEqualTo("released:in-flight");
        drain.get(10, TimeUnit.SECONDS);
        assertThat(host.callsInFlight()).isZero();
    }

    @Test
    void drain_callOutlivingShutdownTimeout_isCancelled() throws Exception {
        GrpcServerHost host = start(loopback().withShutdown(Duration.ZERO, Duration.ofMillis(200)));
        CompletableFuture<String> stuck = blockingCallInBackground(channel(host));
        assertThat(echo.blockedCalls.tryAcquire(10, TimeUnit.SECONDS)).isTrue();

        host.drainAndStop();

        assertThatThrownBy(() -> stuck.get(10, TimeUnit.SECONDS))
                .satisfies(e -> assertThat(codeOf(e)).isIn(Status.Code.UNAVAILABLE, Status.Code.CANCELLED));
    }

    @Test
    void afterShutdown_newCallsFailUnavailable() throws Exception {
        GrpcServerHost host = start(loopback());
        ManagedChannel channel = channel(host);
        assertThat(call(channel, "before")).isEqualTo("echo:before");

        host.drainAndStop();
        host.awaitTermination();

        assertThatThrownBy(() -> call(channel, "after"))
                .isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.UNAVAILABLE));
        assertThat(host.readinessChecks().get(0).check().detail()).isEqualTo("stopped");
    }

    @Test
    void oversizedMessage_isRejectedWithResourceExhausted() throws IOException {
        GrpcServerHost host = start(loopback().withLimits(1024, 100));
        ManagedChannel channel = channel(host);

        assertThat(call(channel, "x".repeat(900))).startsWith("echo:");
        assertThatThrownBy(() -> call(channel, "x".repeat(2048)))
                .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    }

    @Test
    void saturated_extraCallFailsResourceExhaustedAndHealthStillAnswers() throws Exception {
        GrpcServerHost host = start(loopback().withLimits(1024 * 1024, 1));
        ManagedChannel channel = channel(host);
        CompletableFuture<String> first = blockingCallInBackground(channel);
        assertThat(echo.blockedCalls.tryAcquire(10, TimeUnit.SECONDS)).isTrue();

        assertThatThrownBy(() -> call(channel, "second"))
                .satisfies(e -> assertThat(codeOf(e)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED))
                .hasMessageContaining("grpc.max_concurrent_calls");
        assertThat(health(channel, "")).isEqualTo(ServingStatus.SERVING);
        assertThat(host.callsInFlight()).isEqualTo(1);

        echo.release.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("released:in-flight");
        await().atMost(Duration.ofSeconds(5)).until(() -> host.callsInFlight() == 0);
        assertThat(call(channel, "third")).isEqualTo("echo:third");
        assertThat(metrics.scrape())
                .contains("meshguard_grpc_calls_rejected_total{server=\"extauthz\"} 1.0")
                .contains("meshguard_grpc_calls_in_flight{server=\"extauthz\"}");
    }

    @Test
    void metrics_showPerMethodSeriesAfterACall() throws IOException {
        GrpcServerHost host = start(loopback());

        call(channel(host), "count me");

        // The server records the call when it closes, which can land just after the client has its answer.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(metrics.scrape())
                .contains("grpc_server_processing_duration_seconds_count{method=\"Echo\",method_type=\"UNARY\","
                        + "server=\"extauthz\",service=\"meshguard.test.Echo\",status_code=\"OK\"} 1")
                .contains("grpc_server_requests_received_messages_total{method=\"Echo\",method_type=\"UNARY\","
                        + "server=\"extauthz\",service=\"meshguard.test.Echo\"} 1.0")
                .contains("grpc_server_responses_sent_messages_total{method=\"Block\""));
    }

    @Test
    void requestAndTraceIdMetadata_reachServiceLoggingContext() throws IOException {
        GrpcServerHost host = start(loopback());
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER), "req-42");
        headers.put(
                Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        ManagedChannel channel = channel(host);

        String seen = ClientCalls.blockingUnaryCall(
                        io.grpc.ClientInterceptors.intercept(
                                channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
                        TestEchoService.ECHO,
                        CallOptions.DEFAULT,
                        StringValue.of("mdc"))
                .getValue();

        assertThat(seen).isEqualTo("req-42|4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(call(channel, "mdc")).isEqualTo("null|null");
    }

    @Test
    void start_portInUse_fails() throws IOException {
        GrpcServerHost first = start(loopback());
        GrpcServerHost second = new GrpcServerHost(
                "second",
                loopback().withAddress("127.0.0.1", first.port()),
                List.of(new TestEchoService().definition()),
                metrics.forServer("dlp"));
        hosts.add(second);

        assertThatThrownBy(second::start).isInstanceOf(IOException.class);
    }

    @Test
    void close_isIdempotentAndSafeBeforeStart() throws Exception {
        GrpcServerHost neverStarted = new GrpcServerHost("idle", loopback(), List.of(), metrics.forServer("xds"));
        neverStarted.close();
        neverStarted.close();
        assertThat(neverStarted.readinessChecks().get(0).check().ready()).isFalse();

        GrpcServerHost host = start(loopback());
        host.close();
        host.close();
        assertThatThrownBy(host::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void readiness_beforeStart_isNotReady() {
        GrpcServerHost host = new GrpcServerHost("idle", loopback(), List.of(), metrics.forServer("xds"));

        assertThat(host.readinessChecks().get(0).check()).isEqualTo(ReadinessCheck.Result.notReady("not started"));
    }
}
