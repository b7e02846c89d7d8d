package io.meshguard.extauthz.server;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.meshguard.extauthz.apikey.ApiKeyAuthenticator;
import io.meshguard.extauthz.apikey.JdbcApiKeyStore;
import io.meshguard.extauthz.audit.DecisionSink;
import io.meshguard.extauthz.decision.SecretFiles;
import io.meshguard.extauthz.jwt.JwksRegistry;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ext_authz server: gRPC Check (+ health, reflection) and the status HTTP listener, the policy watcher and the
 * API-key usage flusher. Plain constructor wiring; {@link #start()} / {@link #close()} (drains in-flight Checks).
 */
public final class ExtAuthzServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExtAuthzServer.class);
    public static final String SERVICE = "envoy.service.auth.v3.Authorization";

    private final ExtAuthzConfig config;
    private final PrometheusMeterRegistry registry;
    private final AuthzPipeline pipeline;
    private final PolicyFileWatcher watcher;
    private final Optional<ApiKeyAuthenticator> apiKeys;
    private final AuthorizationService service;
    private final HealthStatusManager health = new HealthStatusManager();
    private final ScheduledExecutorService background;
    private Server grpc;
    private StatusHttpServer http;

    /**
     * @param dataSource PostgreSQL with the {@code api_keys} table; empty = API-key routes deny with 503
     * @param audit receives every decision; must not block
     */
    public ExtAuthzServer(ExtAuthzConfig config, Optional<DataSource> dataSource, DecisionSink audit, Clock clock) {
        this.config = config;
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.apiKeys = dataSource.map(ds -> new ApiKeyAuthenticator(new JdbcApiKeyStore(ds), clock, config.apiKeyCacheTtl()));
        this.pipeline = new AuthzPipeline(
                new JwksRegistry(registry, Map.of(), config.jwksHttpTimeout()),
                apiKeys,
                new TokenBucketLimiter(Math.max(1, config.rateLimitMaxBuckets()), Duration.ofMinutes(10), System::nanoTime),
                new SecretFiles(System::nanoTime),
                clock, registry, Math.max(0, config.tokenCacheMaxEntries()), config.tokenCacheMaxTtl());
        this.watcher = new PolicyFileWatcher(config.policyFile(), pipeline, registry);
        this.service = new AuthorizationService(pipeline, audit, clock, registry);
        this.background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "extauthz-background");
            t.setDaemon(true);
            return t;
        });
    }

    /** Loads the policy, binds both listeners and starts watching; the server denies everything until a policy loads. */
    public ExtAuthzServer start() throws IOException {
        watcher.loadNow();
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress(config.bind(), config.grpcPort()))
                .addService(service)
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .maxInboundMessageSize(4 * 1024 * 1024)
                .build()
                .start();
        http = new StatusHttpServer(config.bind(), config.httpPort(), registry, this::notReady);
        http.start();
        watcher.start(config.policyReloadInterval());
        background.execute(pipeline::warmUp);
        background.scheduleWithFixedDelay(this::refreshHealth, 1, 1, TimeUnit.SECONDS);
        apiKeys.ifPresent(a -> background.scheduleWithFixedDelay(a::flushUsage,
                config.apiKeyUsageFlushInterval().toMillis(), config.apiKeyUsageFlushInterval().toMillis(), TimeUnit.MILLISECONDS));
        refreshHealth();
        LOG.info("extauthz listening: gRPC {}:{}, HTTP {}:{}", config.bind(), grpcPort(), config.bind(), httpPort());
        return this;
    }

    private void refreshHealth() {
        boolean ready = notReady().isEmpty();
        health.setStatus(SERVICE, ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
        health.setStatus("", ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
        if (!ready && pipeline.policy().isPresent()) {
            background.execute(pipeline::warmUp);
        }
    }

    /** Why the server is not ready (empty when it is). */
    public List<String> notReady() {
        List<String> problems = new ArrayList<>();
        if (pipeline.policy().isEmpty()) {
            problems.add("policy not loaded: " + String.join("; ", watcher.lastErrors()));
        }
        for (String issuer : pipeline.issuersNotReady()) {
            problems.add("issuer keys never retrieved: " + issuer);
        }
        return problems;
    }

    public int grpcPort() {
        return grpc.getPort();
    }

    public int httpPort() {
        return http.port();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public AuthzPipeline pipeline() {
        return pipeline;
    }

    public PolicyFileWatcher watcher() {
        return watcher;
    }

    /** Stops taking new Checks, lets in-flight ones finish (up to the drain timeout), then stops. */
    @Override
    public void close() {
        health.enterTerminalState();
        watcher.close();
        background.shutdownNow();
        if (grpc != null) {
            grpc.shutdown();
            try {
                if (!grpc.awaitTermination(config.drainTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                    grpc.shutdownNow();
                }
            } catch (InterruptedException e) {
                grpc.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        apiKeys.ifPresent(ApiKeyAuthenticator::flushUsage);
        if (http != null) {
            http.close();
        }
        pipeline.close();
    }
}
