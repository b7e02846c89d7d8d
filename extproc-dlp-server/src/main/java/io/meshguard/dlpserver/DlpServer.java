package io.meshguard.dlpserver;

import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.meshguard.audit.approval.ApprovedPolicies;
import io.meshguard.dlp.content.Transformers;
import io.meshguard.dlp.policy.PolicyInvalidException;
import io.meshguard.dlp.scan.ValueHasher;
import io.meshguard.runtime.grpc.GrpcServerHost;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.runtime.tracing.Tracing;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DLP server as one {@link ServerComponent}: the ext_proc service on the runtime's gRPC host (health,
 * reflection, drain, per-method metrics) plus dlp.yaml hot-reload. {@code meshguard dlp} and {@code meshguard up}
 * build it with {@link #create} and start/close it; /metrics and /readyz come from the runtime's status listener,
 * fed with {@link #readinessChecks()}.
 */
public final class DlpServer implements ServerComponent {
    private static final Logger log = LoggerFactory.getLogger(DlpServer.class);
    /** The policy's name in requests and approvals ({@code meshguard policy requests open --policy dlp}). */
    public static final String POLICY = "dlp";

    private final DlpServerSettings settings;
    private final MeterRegistry registry;
    private final DlpMetrics metrics;
    private final PolicyHolder policy;
    private final DlpProcessorService service;
    private final List<BindableService> extra = new ArrayList<>();
    private GrpcServerHost host;
    private ScheduledExecutorService reloader;
    private volatile boolean closed;
    private final Tracing tracing;
    /** Present with {@code dlp.require_approval}: only dlp.yaml files a second person approved are enforced. */
    private final Optional<ApprovedPolicies> approvals;

    private DlpServer(
            DlpServerSettings settings,
            DlpAuditSink audit,
            MeterRegistry registry,
            DecoderBudget decoders,
            Transformers.Factory transformers,
            Tracing tracing,
            Optional<DataSource> approvedFrom)
            throws PolicyInvalidException, IOException {
        this.settings = settings;
        this.tracing = tracing;
        this.registry = registry;
        this.metrics = new DlpMetrics(registry);
        this.approvals = approvedFrom.map(ds -> new ApprovedPolicies(POLICY, ds, registry));
        this.policy = new PolicyHolder(settings.policyFile(), metrics, approvals);
        byte[] key = settings.hashKey();
        if (key.length == 0) {
            log.warn("no DLP hash key configured (MESHGUARD_DLP_HASH_KEY): hash tokens and audit HMACs are "
                    + "stable only until this process restarts");
            key = ValueHasher.ephemeralMasterKey();
        }
        this.service = new DlpProcessorService(
                policy, key, metrics, audit, decoders, settings.deadlines(), transformers, tracing);
    }

    /**
     * Builds the server; dlp.yaml is loaded and validated now (the server never starts on an invalid policy).
     *
     * @param audit where findings and per-stream summaries go
     * @param registry where meters go (in a shared process: {@code ProcessMetrics.forServer("extproc-dlp")})
     * @throws PolicyInvalidException when dlp.yaml is invalid; errors carry file:line
     */
    public static DlpServer create(DlpServerSettings settings, DlpAuditSink audit, MeterRegistry registry)
            throws PolicyInvalidException, IOException {
        return create(settings, audit, registry, Tracing.disabled());
    }

    /**
     * With tracing: one SERVER span per ext_proc stream when it is on. The caller starts and closes (flushes) the
     * tracing around the server.
     */
    public static DlpServer create(
            DlpServerSettings settings, DlpAuditSink audit, MeterRegistry registry, Tracing tracing)
            throws PolicyInvalidException, IOException {
        return create(settings, audit, registry, tracing, Optional.empty());
    }

    /**
     * With {@code approvedFrom} ({@code dlp.require_approval}): dlp.yaml is enforced only when the newest approval of
     * the {@code dlp} policy in that database names its digest (docs/operate/change-policy.md "Policy changes"). A file no
     * approval names keeps the policy in force; at start it leaves none, and the server stays not ready.
     */
    public static DlpServer create(
            DlpServerSettings settings,
            DlpAuditSink audit,
            MeterRegistry registry,
            Tracing tracing,
            Optional<DataSource> approvedFrom)
            throws PolicyInvalidException, IOException {
        return new DlpServer(
                settings,
                audit,
                registry,
                DecoderBudget.forHeap(Runtime.getRuntime().maxMemory()),
                Transformers::forKind,
                tracing,
                approvedFrom);
    }

    /** With a given bound on large-window decoders (tests; the server sizes it from the heap). */
    static DlpServer create(
            DlpServerSettings settings, DlpAuditSink audit, MeterRegistry registry, DecoderBudget decoders)
            throws PolicyInvalidException, IOException {
        return new DlpServer(
                settings, audit, registry, decoders, Transformers::forKind, Tracing.disabled(), Optional.empty());
    }

    /** With the transformers made by {@code transformers} (tests stall a scan through it, as a stuck one would). */
    static DlpServer create(
            DlpServerSettings settings,
            DlpAuditSink audit,
            MeterRegistry registry,
            DecoderBudget decoders,
            Transformers.Factory transformers)
            throws PolicyInvalidException, IOException {
        return new DlpServer(settings, audit, registry, decoders, transformers, Tracing.disabled(), Optional.empty());
    }

    /** With given decoders, transformers and tracing (tests). */
    static DlpServer create(
            DlpServerSettings settings,
            DlpAuditSink audit,
            MeterRegistry registry,
            DecoderBudget decoders,
            Transformers.Factory transformers,
            Tracing tracing)
            throws PolicyInvalidException, IOException {
        return new DlpServer(settings, audit, registry, decoders, transformers, tracing, Optional.empty());
    }

    /**
     * Where tool calls held for approval ({@code mcp_approval:} in dlp.yaml) are recorded and redeemed; called before
     * {@link #start}. Without it a held tool is answered 503 and never runs. A lookup that takes longer than half the
     * body-chunk deadline is answered 503 too, so the caller learns why rather than getting the deadline's 504.
     */
    public DlpServer toolApprovals(io.meshguard.dlpserver.approval.McpToolApprovals approvals) {
        service.toolApprovals(new ToolApprovalGate(
                java.util.Optional.of(approvals),
                registry,
                settings.deadlines().bodyChunk().dividedBy(2)));
        return this;
    }

    /** Adds another gRPC service on the same port (e.g. the audit module's Envoy access-log receiver). */
    public DlpServer addService(BindableService s) {
        extra.add(s);
        return this;
    }

    @Override
    public String name() {
        return "extproc-dlp";
    }

    @Override
    public void start() throws IOException {
        // the JDK's charsets are read into a table once: before the first request, not during it
        io.meshguard.dlp.content.Charsets.lookup("utf-8");
        List<ServerServiceDefinition> services = new ArrayList<>();
        services.add(ServerInterceptors.intercept(tracing.bind(service), RouteHint.interceptor()));
        services.addAll(GrpcServerHost.bind(extra.toArray(BindableService[]::new)));
        host = new GrpcServerHost("extproc-dlp-grpc", settings.grpc(), services, registry);
        host.start();
        service.deadlines().start();
        reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dlp-policy-reload");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(100, settings.reloadInterval().toMillis());
        reloader.scheduleWithFixedDelay(policy::reload, every, every, TimeUnit.MILLISECONDS);
        // an approval arriving after the file was refused is noticed here: the refused file is read again
        approvals.ifPresent(a -> reloader.scheduleWithFixedDelay(
                () -> a.recheck(policy::reloadRefused), every, every, TimeUnit.MILLISECONDS));
        log.info(
                "extproc-dlp-server serving ext_proc on gRPC port {} with policy {}; byte searches: {}",
                grpcPort(),
                settings.policyFile(),
                io.meshguard.dlp.detect.Simd.describe());
    }

    @Override
    public List<ReadinessCheck> readinessChecks() {
        List<ReadinessCheck> checks = new ArrayList<>(host == null ? List.of() : host.readinessChecks());
        checks.add(new ReadinessCheck() {
            @Override
            public String name() {
                return "policy:dlp";
            }

            @Override
            public Result check() {
                var p = policy.get();
                Optional<String> problem = policy.problem();
                if (p == null) {
                    return Result.notReady(problem.orElse("dlp.yaml not loaded"));
                }
                String detail = p.profiles().size() + " profiles from " + settings.policyFile();
                return Result.ready(problem.map(why -> detail + "; newer files rejected: " + why)
                        .orElse(detail));
            }
        });
        return checks;
    }

    public int grpcPort() {
        return host == null ? -1 : host.port();
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
        host.awaitTermination();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (reloader != null) {
            reloader.shutdownNow();
        }
        service.deadlines().close();
        if (host != null) {
            host.close();
        }
        service.closeToolApprovals();
    }
}
