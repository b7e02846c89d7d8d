package io.meshguard.cli.dlp;

import io.meshguard.audit.component.AuditComponent;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.audit.coverage.CoverageMonitor;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.TrailedPolicyReloads;
import io.meshguard.cli.common.ServerAudit;
import io.meshguard.db.DbConfig;
import io.meshguard.dlpserver.AuditLogRecorder;
import io.meshguard.dlpserver.DlpAuditSink;
import io.meshguard.dlpserver.DlpServer;
import io.meshguard.dlpserver.DlpServerSettings;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.metrics.ProcessMetrics;
import io.meshguard.runtime.tracing.Tracing;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code meshguard dlp}: runs the ext_proc DLP server (gRPC 9002, status HTTP 9102) until stopped. */
@Command(
        name = "dlp",
        mixinStandardHelpOptions = true,
        subcommands = {DlpScanCommand.class, DlpSendCommand.class, DlpImpactCommand.class, DlpPinCommand.class},
        description = {
            "Run the ext_proc DLP server (Envoy ExternalProcessor/Process).",
            "",
            "Keys (file or MESHGUARD_* environment): dlp.policy, dlp.hash_key_file, dlp.hash_key, "
                    + "dlp.policy_reload_interval, dlp.require_approval (four eyes on dlp.yaml; needs db.url), "
                    + "dlp.approval_key_file (tool calls held for approval; needs "
                    + "db.url), grpc.* (port 9002; max_inbound_message_bytes 16 MiB), http.* (port 9102).",
            "",
            "With db.url set, findings and API-call summaries go to the audit log (audit.*, db.* keys) "
                    + "and the Envoy access-log receiver is served on audit.als.port when set, else on the gRPC "
                    + "port. audit.decision_log (auto: on without db.url) writes them as one JSON object per line "
                    + "to standard output, for Fluent Bit or Vector."
        })
public final class DlpCommand implements Callable<Integer>, io.meshguard.cli.common.ServerCommand {
    @Option(names = "--config", description = "YAML configuration file (keys as listed above).")
    Path config;

    @Option(names = "--policy", description = "dlp.yaml to enforce (overrides dlp.policy).")
    Path policy;

    @Override
    public Integer call() throws Exception {
        Config cfg = ConfigLoader.load(
                ServerAudit.withAuditKeys(DlpServerSettings.schema()), Optional.ofNullable(config), System.getenv());
        DlpServerSettings settings = DlpServerSettings.from(cfg);
        if (policy != null) {
            settings = settings.withPolicyFile(policy);
        }
        // both read and write PostgreSQL: refused before anything starts, so that the refusal is all the output says
        boolean requireApproval = cfg.get(DlpServerSettings.REQUIRE_APPROVAL);
        Optional<java.nio.file.Path> approvalKey = cfg.get(DlpServerSettings.APPROVAL_KEY_FILE);
        if (cfg.get(DbConfig.URL).isBlank()) {
            if (requireApproval) {
                throw new IllegalArgumentException(
                        "dlp.require_approval needs db.url: the approvals are read from PostgreSQL (approved_policy)");
            }
            if (approvalKey.isPresent()) {
                throw new IllegalArgumentException(
                        "dlp.approval_key_file needs db.url: held tool calls are recorded in the database");
            }
        }
        try (ProcessMetrics metrics = ProcessMetrics.create();
                ComponentStack stack = new ComponentStack()) {
            stack.closeOnJvmShutdown();
            // first in the stack, so closed last: what the server records while draining is still exported
            Tracing tracing = Tracing.fromEnvironment(System.getenv(), "meshguard-dlp", metrics.registry());
            stack.start(tracing);
            Optional<AuditComponent> audit = ServerAudit.start(
                    cfg, "meshguard-dlp", metrics, stack, tracing, ServerAudit.AccessLogListener.WHEN_CONFIGURED);
            DlpAuditSink findings = ServerAudit.sink(cfg, "meshguard-dlp", metrics, stack, audit)
                    .<DlpAuditSink>map(AuditLogRecorder::new)
                    .orElse(DlpAuditSink.NONE);
            // with dlp.require_approval only a dlp.yaml a second person approved is enforced
            // (docs/operate/change-policy.md)
            DlpServer server = DlpServer.create(
                    settings,
                    findings,
                    metrics.forServer("extproc-dlp"),
                    tracing,
                    audit.filter(a -> requireApproval).map(AuditComponent::database));
            // with an audit database, every reload of dlp.yaml, taken or refused, is a row of the admin trail
            audit.ifPresent(a -> server.policy()
                    .addReloadListener(new TrailedPolicyReloads(
                            new AdminTrail(a.database()),
                            "extproc-dlp",
                            System.getenv().getOrDefault("HOSTNAME", "extproc-dlp"))));
            // tool calls held for two approvers (dlp.yaml mcp_approval) are recorded in the audit database
            if (approvalKey.isPresent() && audit.isPresent()) {
                server.toolApprovals(new io.meshguard.dlpserver.approval.McpToolApprovals(
                        audit.get().database(), DlpServerSettings.readKeyFile(approvalKey.get()), Clock.systemUTC()));
            }
            audit.ifPresent(a -> hostAccessLogs(server, a));
            // ...and so is the coverage join of those logs with the Checks and DLP sessions (the metric and alert)
            Duration coverageInterval = cfg.get(AuditConfig.COVERAGE_INTERVAL);
            if (audit.isPresent() && !coverageInterval.isZero()) {
                stack.start(new CoverageMonitor(
                        new CoverageReport(audit.get().database()),
                        coverageInterval,
                        cfg.get(AuditConfig.COVERAGE_LAG),
                        cfg.get(AuditConfig.COVERAGE_SETTLE),
                        Clock.systemUTC(),
                        metrics.forServer("extproc-dlp")));
            }
            StatusHttpServer http = new StatusHttpServer(
                    "extproc-dlp-http",
                    HttpServerSettings.configGroup(DlpServerSettings.DEFAULT_HTTP_PORT)
                            .read(cfg),
                    metrics.registry());
            stack.start(server);
            http.addReadinessChecks(stack.readinessChecks()); // the server's and the audit writer's
            stack.start(http);
            stack.awaitClosed();
        }
        return 0;
    }

    /**
     * Where Envoy's access logs are received: on {@code audit.als.port} alone when it is set (the audit component's
     * own listener, which the manifests admit only from proxies), otherwise on the ext_proc port. Never on both: a
     * receiver also served on the ext_proc port would take rows from every identity that port admits.
     */
    static void hostAccessLogs(DlpServer server, AuditComponent audit) {
        if (audit.accessLogPort().isEmpty()) {
            server.addService(audit.accessLogReceiver());
        }
    }
}
