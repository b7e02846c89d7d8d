package io.meshguard.audit.als;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.PathPolicy;
import io.meshguard.contract.ProfileLabels;
import io.meshguard.contract.RouteContract.AccessLogTags;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.StreamSink;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's access-log entries, sent over real gRPC as Envoy's gRPC access logger sends them, counted per API
 * version; the clock is fixed so the sunset countdown is exact.
 */
@IntegrationTest
class ApiUsageMetricsTest {
    private static final Instant NOW = Instant.parse("2027-05-20T00:00:00Z");
    private static final Instant SUNSET = Instant.parse("2027-06-01T00:00:00Z");

    private final List<AuditEvent> received = new CopyOnWriteArrayList<>();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private Server server;
    private ManagedChannel channel;
    private StreamObserver<StreamAccessLogsMessage> stream;
    private boolean first = true;

    @BeforeEach
    void start() throws Exception {
        AccessLogReceiver receiver = new AccessLogReceiver(
                received::add,
                new AccessLogMapper(AccessLogHeaders.defaults(), PathPolicy.DROP_QUERY),
                AccessLogSenders.localDevelopment(),
                meters,
                new ApiUsageMetrics(meters, Clock.fixed(NOW, ZoneOffset.UTC)));
        server = LoopbackGrpc.serve(receiver);
        channel = LoopbackGrpc.channelTo(server.getPort());
        stream = AccessLogServiceGrpc.newStub(channel).streamAccessLogs(StreamSink.discarding());
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private void send(HTTPAccessLogEntry... entries) {
        StreamAccessLogsMessage.Builder m = StreamAccessLogsMessage.newBuilder()
                .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder()
                        .addAllLogEntry(Arrays.asList(entries)));
        if (first) {
            m.setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                    .setNode(Node.newBuilder().setId("gateway-1"))
                    .setLogName("meshguard-edge"));
            first = false;
        }
        stream.onNext(m.build());
    }

    /** An entry as the emitted config makes Envoy write it: route metadata as custom tags, identity headers. */
    private static HTTPAccessLogEntry.Builder gateway(
            String version, String lifecycle, String route, int status, long latencyMs, String tenant, String client) {
        AccessLogCommon.Builder common = AccessLogCommon.newBuilder()
                .setStartTime(Timestamp.newBuilder().setSeconds(NOW.getEpochSecond()))
                .setDuration(Duration.newBuilder()
                        .setSeconds(latencyMs / 1000)
                        .setNanos((int) (latencyMs % 1000) * 1_000_000))
                .setRouteName("payments." + version + "." + route)
                .putCustomTags(AccessLogTags.tag(AccessLogTags.API), "payments")
                .putCustomTags(AccessLogTags.tag(AccessLogTags.API_VERSION), version)
                .putCustomTags(AccessLogTags.tag(AccessLogTags.GATEWAY_ROUTE), route)
                .putCustomTags(AccessLogTags.tag(AccessLogTags.LIFECYCLE), lifecycle)
                .putCustomTags(AccessLogTags.tag(AccessLogTags.AUTHZ), AccessLogTags.AUTHZ_CHECKED);
        if (lifecycle.equals("deprecated")) {
            common.putCustomTags(AccessLogTags.tag(AccessLogTags.SUNSET), SUNSET.toString());
        }
        HTTPRequestProperties.Builder request = HTTPRequestProperties.newBuilder()
                .setRequestMethod(RequestMethod.POST)
                .setPath("/payments/" + version + "/transfers")
                .setRequestId("req-" + System.nanoTime());
        if (tenant != null) {
            request.putRequestHeaders("x-tenant-id", tenant);
        }
        if (client != null) {
            request.putRequestHeaders("x-client-id", client);
        }
        return HTTPAccessLogEntry.newBuilder()
                .setCommonProperties(common)
                .setRequest(request)
                .setResponse(HTTPResponseProperties.newBuilder().setResponseCode(UInt32Value.of(status)));
    }

    private double requests(String version, String route, String code) {
        Counter c = meters.find("meshguard_api_requests_total")
                .tags("api", "payments", "api_version", version, "route", route, "code", code)
                .counter();
        return c == null ? 0 : c.count();
    }

    private double deprecatedCalls(String tenant, String client) {
        Counter c = meters.find("meshguard_api_deprecated_requests_total")
                .tags("api", "payments", "api_version", "v1", "tenant", tenant, "client_id", client)
                .counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void gatewayEntries_areCountedPerApiVersionRouteAndStatus_withLatency() {
        send(
                gateway("v2", "active", "transfers", 201, 40, "acme", "app-1").build(),
                gateway("v2", "active", "transfers", 201, 700, "acme", "app-1").build(),
                gateway("v2", "active", "transfers", 503, 3, "acme", "app-1").build(),
                gateway("v1", "deprecated", "transfers", 200, 20, "acme", "app-1")
                        .build());
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 4);

        assertThat(requests("v2", "transfers", "201")).isEqualTo(2);
        assertThat(requests("v2", "transfers", "503")).isEqualTo(1);
        assertThat(requests("v1", "transfers", "200")).isEqualTo(1);
        var timer = meters.get("meshguard_api_request_duration_seconds")
                .tags("api", "payments", "api_version", "v2", "route", "transfers")
                .timer();
        assertThat(timer.count()).isEqualTo(3);
        Map<Double, Double> buckets = new java.util.HashMap<>();
        for (CountAtBucket b : timer.takeSnapshot().histogramCounts()) {
            buckets.put(b.bucket(TimeUnit.MILLISECONDS), b.count());
        }
        assertThat(buckets.get(5.0)).isEqualTo(1); // the 3 ms one
        assertThat(buckets.get(50.0)).isEqualTo(2); // + the 40 ms one
        assertThat(buckets.get(1000.0)).isEqualTo(3); // + the 700 ms one

        // the row itself: route is the gateway route, the version in the details, Envoy's route name kept aside
        AuditEvent row = received.get(0);
        assertThat(row.route()).hasValue("transfers");
        assertThat(row.details())
                .containsEntry("api", "payments")
                .containsEntry("api_version", "v2")
                .containsEntry("envoy_route", "payments.v2.transfers");
        assertThat(row.tenant()).hasValue("acme");
    }

    @Test
    void deprecatedVersionWithTraffic_getsASunsetCountdown_andItsCallersCounted() {
        send(
                gateway("v1", "deprecated", "transfers", 200, 20, "acme", "app-1")
                        .build(),
                gateway("v1", "deprecated", "transfers", 200, 20, "acme", "app-1")
                        .build(),
                gateway("v1", "deprecated", "transfers", 200, 20, "globex", "batch-7")
                        .build(),
                gateway("v2", "active", "transfers", 200, 20, "acme", "app-1").build());
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 4);

        assertThat(meters.get("meshguard_api_version_sunset_seconds")
                        .tags("api", "payments", "api_version", "v1")
                        .gauge()
                        .value())
                .isEqualTo(12 * 86400.0);
        assertThat(meters.find("meshguard_api_version_sunset_seconds")
                        .tags("api_version", "v2")
                        .gauge())
                .isNull();
        assertThat(deprecatedCalls("acme", "app-1")).isEqualTo(2);
        assertThat(deprecatedCalls("globex", "batch-7")).isEqualTo(1);
        assertThat(meters.find("meshguard_api_deprecated_requests_total")
                        .tags("api_version", "v2")
                        .counter())
                .isNull();

        send(gateway("v1", "deprecated", "transfers", 200, 20, "initech", null).build());
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 5);
        assertThat(deprecatedCalls("initech", ApiUsageMetrics.NONE)).isEqualTo(1);
    }

    @Test
    void versionRepublishedAsActive_dropsItsSunsetCountdown() {
        send(gateway("v1", "deprecated", "transfers", 200, 20, "acme", "app-1").build());
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 1);
        assertThat(meters.find("meshguard_api_version_sunset_seconds").gauge()).isNotNull();
        send(gateway("v1", "active", "transfers", 200, 20, "acme", "app-1").build());
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 2);
        assertThat(meters.find("meshguard_api_version_sunset_seconds").gauge()).isNull();
    }

    @Test
    void aSunsetThatIsNotADate_getsNoCountdown_butTheRequestStillCounts() {
        HTTPAccessLogEntry.Builder bad = gateway("v1", "deprecated", "transfers", 200, 20, "acme", "app-1");
        bad.getCommonPropertiesBuilder().putCustomTags(AccessLogTags.tag(AccessLogTags.SUNSET), "next spring");
        send(bad.build());
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 1);
        assertThat(meters.find("meshguard_api_version_sunset_seconds").gauge()).isNull();
        assertThat(requests("v1", "transfers", "200")).isEqualTo(1);

        send(gateway("v1", "deprecated", "transfers", 200, 20, "acme", "app-1").build());
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 2);
        assertThat(meters.get("meshguard_api_version_sunset_seconds").gauge().value())
                .isEqualTo(12 * 86400.0);
    }

    @Test
    void identityHeaders_countOnlyWhenExtAuthzAllowedTheRequest() {
        HTTPAccessLogEntry.Builder denied = gateway("v1", "deprecated", "transfers", 403, 2, "victim-bank", "forged");
        denied.getCommonPropertiesBuilder()
                .setResponseFlags(ResponseFlags.newBuilder()
                        .setUnauthorizedDetails(ResponseFlags.Unauthorized.newBuilder()
                                .setReason(ResponseFlags.Unauthorized.Reason.EXTERNAL_SERVICE)));
        HTTPAccessLogEntry.Builder closed =
                gateway("v0", "sunset", AccessLogTags.CLOSED_ROUTE, 410, 1, "victim-bank", "forged");
        closed.getCommonPropertiesBuilder()
                .putCustomTags(AccessLogTags.tag(AccessLogTags.AUTHZ), AccessLogTags.AUTHZ_NONE);
        send(denied.build(), closed.build());
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 2);

        assertThat(received).allSatisfy(e -> {
            assertThat(e.tenant()).isEmpty();
            assertThat(e.clientId()).isEmpty();
        });
        assertThat(deprecatedCalls(ApiUsageMetrics.UNVERIFIED, ApiUsageMetrics.UNVERIFIED))
                .isEqualTo(1);
        assertThat(deprecatedCalls("victim-bank", "forged")).isZero();
        assertThat(requests("v1", "transfers", "403")).isEqualTo(1);
        assertThat(requests("v0", "_closed", "410")).isEqualTo(1);
    }

    @Test
    void entriesWithoutRouteTags_areAuditedButNotCountedAsApiUsage() {
        HTTPAccessLogEntry.Builder sidecar = gateway("v1", "active", "transfers", 200, 5, "acme", "app-1");
        sidecar.getCommonPropertiesBuilder().clearCustomTags().setRouteName("default");
        send(sidecar.build());
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 1);
        assertThat(received.get(0).route()).hasValue("default");
        assertThat(received.get(0).tenant()).hasValue("acme");
        assertThat(meters.find("meshguard_api_requests_total").counters()).isEmpty();
    }

    @Test
    void hostileLabelValues_areEscaped_andBounded() {
        HTTPAccessLogEntry.Builder[] many = new HTTPAccessLogEntry.Builder[ApiUsageMetrics.MAX_ROUTES + 5];
        for (int i = 0; i < many.length; i++) {
            many[i] = gateway("v2", "active", "r" + i + "\"}\n{evil", 200, 1, "acme", "app-1");
        }
        send(Arrays.stream(many).map(HTTPAccessLogEntry.Builder::build).toArray(HTTPAccessLogEntry[]::new));
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == many.length);
        List<String> routes = meters.find("meshguard_api_requests_total").counters().stream()
                .map(c -> c.getId().getTag("route"))
                .toList();
        assertThat(routes)
                .hasSize(ApiUsageMetrics.MAX_ROUTES + 1)
                .contains(ProfileLabels.OTHER)
                .allSatisfy(r -> assertThat(r).matches("[A-Za-z0-9._-]+"));
        assertThat(requests("v2", ProfileLabels.OTHER, "200")).isEqualTo(5);
    }
}
