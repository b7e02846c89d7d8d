package io.meshguard.bench.audit;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.PathPolicy;
import io.meshguard.audit.als.AccessLogHeaders;
import io.meshguard.audit.als.AccessLogMapper;
import io.meshguard.audit.als.AccessLogSenders;
import io.meshguard.audit.als.ApiUsageMetrics;
import io.meshguard.audit.als.MalformedEntryException;
import io.meshguard.audit.als.UsageTags;
import io.meshguard.contract.RouteContract.AccessLogTags;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What per-version usage adds to each gateway access-log entry the receiver handles: the baseline maps the entry
 * to its {@code api_call} event (what the receiver did before); the measured path also reads the route's usage tags
 * and counts the request ({@link ApiUsageMetrics} on the process's Prometheus registry: counter, latency histogram,
 * deprecated-caller counter). The entry is a deprecated version's, the most work: all three meters.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Dlogback.configurationFile=none"})
@State(Scope.Benchmark)
public class AccessLogUsageBenchmark {
    private static final AccessLogSenders.Sender GATEWAY = new AccessLogSenders.Sender(
            AccessLogSenders.Kind.GATEWAY, "spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway");
    private static final Instant START = Instant.parse("2026-11-21T10:00:00Z");

    private AccessLogMapper mapper;
    private ApiUsageMetrics usage;
    private HTTPAccessLogEntry entry;

    @Setup
    public void setUp() {
        mapper = new AccessLogMapper(AccessLogHeaders.defaults(), PathPolicy.DROP_QUERY);
        usage = new ApiUsageMetrics(ProcessMetrics.create().registry(), Clock.systemUTC());
        entry = HTTPAccessLogEntry.newBuilder()
                .setCommonProperties(AccessLogCommon.newBuilder()
                        .setStartTime(Timestamp.newBuilder().setSeconds(START.getEpochSecond()))
                        .setDuration(Duration.newBuilder().setNanos(12_000_000))
                        .setRouteName("payments.v1.transfers")
                        .setUpstreamCluster("payments")
                        .putCustomTags(AccessLogTags.tag(AccessLogTags.API), "payments")
                        .putCustomTags(AccessLogTags.tag(AccessLogTags.API_VERSION), "v1")
                        .putCustomTags(AccessLogTags.tag(AccessLogTags.GATEWAY_ROUTE), "transfers")
                        .putCustomTags(AccessLogTags.tag(AccessLogTags.LIFECYCLE), "deprecated")
                        .putCustomTags(AccessLogTags.tag(AccessLogTags.SUNSET), "2027-06-01T00:00:00Z")
                        .putCustomTags(AccessLogTags.tag(AccessLogTags.AUTHZ), AccessLogTags.AUTHZ_CHECKED))
                .setRequest(HTTPRequestProperties.newBuilder()
                        .setRequestMethod(RequestMethod.POST)
                        .setAuthority("api.bank.example")
                        .setPath("/payments/v1/transfers")
                        .setRequestId("5f0c9a6e-3c1d-4d8e-9a51-6a2f0b7c1d2e")
                        .putRequestHeaders("x-tenant-id", "acme")
                        .putRequestHeaders("x-user-id", "alice")
                        .putRequestHeaders("x-client-id", "app-1")
                        .putRequestHeaders("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                .setResponse(HTTPResponseProperties.newBuilder()
                        .setResponseCode(UInt32Value.of(200))
                        .putResponseHeaders("content-type", "application/json"))
                .build();
    }

    @Benchmark
    public AuditEvent mapOnly() throws MalformedEntryException {
        return mapper.toEvent(entry, "gateway-1", "meshguard-edge", GATEWAY);
    }

    @Benchmark
    public AuditEvent mapAndCount() throws MalformedEntryException {
        AuditEvent event = mapper.toEvent(entry, "gateway-1", "meshguard-edge", GATEWAY);
        UsageTags.of(entry.getCommonProperties()).ifPresent(t -> usage.record(t, event));
        return event;
    }

    /**
     * {@code cpu [N]}: thread CPU time per entry of both paths, alternating blocks of N (200,000) for 8 rounds —
     * steadier than wall time on a shared machine. Otherwise JMH's own command line after the class name
     * ({@code -wi 5 -i 10 -bm sample}, ...).
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("cpu")) {
            cpu(args.length > 1 ? Integer.parseInt(args[1]) : 200_000);
            return;
        }
        String[] all = new String[args.length + 1];
        all[0] = AccessLogUsageBenchmark.class.getName();
        System.arraycopy(args, 0, all, 1, args.length);
        org.openjdk.jmh.Main.main(all);
    }

    private static void cpu(int n) throws MalformedEntryException {
        AccessLogUsageBenchmark b = new AccessLogUsageBenchmark();
        b.setUp();
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (int round = 0; round < 8; round++) {
            long c0 = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < n; i++) {
                sink += b.mapOnly().hashCode();
            }
            long c1 = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < n; i++) {
                sink += b.mapAndCount().hashCode();
            }
            long c2 = threads.getCurrentThreadCpuTime();
            System.out.printf(
                    "round %d: map only %,.0f ns CPU/entry, map and count %,.0f ns CPU/entry (%.2fx)%n",
                    round, (c1 - c0) / (double) n, (c2 - c1) / (double) n, (c2 - c1) / (double) (c1 - c0));
        }
        System.out.println(sink == 42 ? "" : "(rounds 0-1 are warm-up)");
    }
}
