package io.meshguard.bench.extauthz;

import com.nimbusds.jose.JWSAlgorithm;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditSink;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.server.AuthorizationService;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.runtime.grpc.GrpcServerHost;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server side of {@link CheckCpuOverGrpc}, in a JVM of its own so that its process CPU time is the servers' alone
 * (the load generator runs in the parent). Three Check servers on the runtime's {@code GrpcServerHost}, as
 * extauthz-server hosts its service: the no-op server, extauthz with the JWT policy of ExtAuthzBench (the RS256 token
 * cached after its first Check), and extauthz with {@link SubscriptionCheckBench}'s API-key route and a pushed
 * snapshot of 10,000 subscriptions. Audit is on: every decision becomes an audit event handed to a sink (what the
 * Check thread does for the PostgreSQL writer up to its queue).
 *
 * <p>Prints one line {@code READY noop=P jwt=P products=P token=T key=K}, then answers each {@code cpu} line on stdin
 * with {@code CPU <process CPU ns> <bytes allocated by all threads> <audit events>}; ends at end of input.
 */
public final class CheckServerProcess {
    private CheckServerProcess() {}

    public static void main(String[] args) throws Exception {
        AtomicLong audited = new AtomicLong();
        AuditSink counting = (AuditEvent e) -> {
            audited.incrementAndGet();
            return true;
        };
        TestKeys rs = TestKeys.generate("bench-rs", JWSAlgorithm.RS256);
        String token = rs.sign(BenchPolicies.alice(BenchPolicies.ISSUER));
        AuthzPipeline jwt = DecisionCost.pipeline(
                BenchPolicies.policy("https://unused.example/jwks", 8), TestKeys.publicSet(List.of(rs)));

        InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
        ApiKeyService service = new ApiKeyService(keys, Clock.systemUTC());
        List<ApiKeyService.Created> created = new ArrayList<>();
        for (int i = 0; i < SubscriptionCheckBench.SUBSCRIBERS; i++) {
            created.add(service.create(
                    "app-" + i, "owner-" + i, "t-" + (i % 50), List.of(), List.of(), "free", Optional.empty()));
        }
        AuthzPipeline products = SubscriptionCheckBench.pipeline(
                SubscriptionCheckBench.POLICY.formatted("off"),
                keys,
                Optional.of(SubscriptionCheckBench.snapshot(created, PlanLimits.NONE)));

        try (NoopCheckServer noop = new NoopCheckServer();
                GrpcServerHost jwtHost = host("extauthz-jwt", jwt, counting);
                GrpcServerHost productHost = host("extauthz-products", products, counting)) {
            jwtHost.start();
            productHost.start();
            System.out.printf(
                    "READY noop=%d jwt=%d products=%d token=%s key=%s%n",
                    noop.port(),
                    jwtHost.port(),
                    productHost.port(),
                    token,
                    created.get(SubscriptionCheckBench.SUBSCRIBERS / 2).text());
            System.out.flush();
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.equals("cpu")) {
                    System.out.printf(
                            "CPU %d %d %d%n",
                            os.getProcessCpuTime(), threads.getTotalThreadAllocatedBytes(), audited.get());
                    System.out.flush();
                }
            }
        }
        System.exit(0);
    }

    private static GrpcServerHost host(String name, AuthzPipeline pipeline, AuditSink audit) {
        AuthorizationService service = new AuthorizationService(
                pipeline,
                new AuditSinkDecisions(audit),
                Clock.systemUTC(),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        return new GrpcServerHost(
                name,
                GrpcServerSettings.defaults(0)
                        .withAddress("127.0.0.1", 0)
                        .withShutdown(Duration.ZERO, Duration.ofSeconds(5)),
                GrpcServerHost.bind(service),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }
}
