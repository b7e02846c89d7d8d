package io.meshguard.dlp.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.meshguard.dlp.policy.PolicyInvalidException;
import io.meshguard.dlp.scan.ValueHasher;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The extproc-dlp-server process part: the ext_proc gRPC service (with gRPC health and reflection), policy
 * hot-reload, and a small status listener. {@code meshguard dlp} and {@code meshguard up} build it with
 * {@link #create} and call {@link #start()} / {@link #close()}.
 */
public final class DlpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DlpServer.class);

    private final DlpServerSettings settings;
    private final MeterRegistry registry;
    private final DlpMetrics metrics;
    private final PolicyHolder policy;
    private final DlpProcessorService service;
    private final List<BindableService> extra = new ArrayList<>();
    private final HealthStatusManager health = new HealthStatusManager();
    private Server grpc;
    private HttpServer http;
    private ScheduledExecutorService reloader;
    private volatile boolean closed;

    private DlpServer(DlpServerSettings settings, DlpAuditSink audit, MeterRegistry registry)
            throws PolicyInvalidException, IOException {
        this.settings = settings;
        this.registry = registry;
        this.metrics = new DlpMetrics(registry);
        this.policy = new PolicyHolder(settings.policyFile(), metrics);
        byte[] key = settings.hashKey();
        if (key.length == 0) {
            log.warn("no DLP hash key configured (MESHGUARD_DLP_HASH_KEY): hash tokens and audit HMACs are "
                    + "stable only until this process restarts");
            key = ValueHasher.ephemeralMasterKey();
        }
        this.service = new DlpProcessorService(policy, key, metrics, audit);
    }

    /**
     * Builds the server; the policy file is loaded and validated now.
     *
     * @param audit where findings and per-stream summaries go
     * @param registry where meters go; a {@link PrometheusMeterRegistry} is also served on /metrics
     * @throws PolicyInvalidException when dlp.yaml is invalid (errors carry file:line)
     */
    public static DlpServer create(DlpServerSettings settings, DlpAuditSink audit, MeterRegistry registry)
            throws PolicyInvalidException, IOException {
        return new DlpServer(settings, audit, registry);
    }

    /** Convenience for a standalone process: its own Prometheus registry. */
    public static DlpServer create(DlpServerSettings settings, DlpAuditSink audit)
            throws PolicyInvalidException, IOException {
        return create(settings, audit, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    /** Adds another gRPC service on the same port (e.g. the audit module's Envoy access-log receiver). */
    public DlpServer addService(BindableService s) {
        extra.add(s);
        return this;
    }

    public String name() {
        return "extproc-dlp";
    }

    public void start() throws IOException {
        NettyServerBuilder b = NettyServerBuilder
                .forAddress(new InetSocketAddress(settings.bindAddress(), settings.grpcPort()))
                .maxInboundMessageSize(settings.maxMessageBytes())
                .addService(service)
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance());
        extra.forEach(b::addService);
        grpc = b.build().start();
        health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
        health.setStatus("envoy.service.ext_proc.v3.ExternalProcessor",
                io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
        if (settings.httpPort() >= 0) {
            http = HttpServer.create(new InetSocketAddress(settings.bindAddress(), settings.httpPort()), 0);
            http.createContext("/metrics", this::metricsPage);
            http.createContext("/healthz", ex -> respond(ex, 200, "ok\n"));
            http.createContext("/readyz", ex -> respond(ex, ready() ? 200 : 503, ready() ? "ready\n" : "not ready\n"));
            http.start();
        }
        reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dlp-policy-reload");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(100, settings.reloadInterval().toMillis());
        reloader.scheduleWithFixedDelay(policy::reload, every, every, TimeUnit.MILLISECONDS);
        log.info("extproc-dlp-server listening grpc={} http={} policy={}", grpcPort(), httpPort(),
                settings.policyFile());
    }

    public boolean ready() {
        return grpc != null && !grpc.isShutdown() && policy.get() != null && !closed;
    }

    public int grpcPort() {
        return grpc == null ? -1 : grpc.getPort();
    }

    public int httpPort() {
        return http == null ? -1 : http.getAddress().getPort();
    }

    public PolicyHolder policy() {
        return policy;
    }

    public DlpProcessorService service() {
        return service;
    }

    public DlpMetrics metrics() {
        return metrics;
    }

    /** Blocks until the gRPC server terminates. */
    public void awaitTermination() throws InterruptedException {
        grpc.awaitTermination();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        health.enterTerminalState();
        if (reloader != null) {
            reloader.shutdownNow();
        }
        if (grpc != null) {
            grpc.shutdown();
            try {
                if (!grpc.awaitTermination(10, TimeUnit.SECONDS)) {
                    grpc.shutdownNow();
                }
            } catch (InterruptedException e) {
                grpc.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        if (http != null) {
            http.stop(0);
        }
    }

    private void metricsPage(HttpExchange ex) throws IOException {
        String body = registry instanceof PrometheusMeterRegistry p ? p.scrape() : "";
        ex.getResponseHeaders().add("content-type", "text/plain; version=0.0.4; charset=utf-8");
        respond(ex, 200, body);
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }
}
