package io.meshguard.bench.dlp;

import io.meshguard.audit.DecisionLog;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.dlpserver.AuditLogRecorder;
import io.meshguard.dlpserver.DlpServer;
import io.meshguard.dlpserver.DlpServerSettings;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.grpc.GrpcServerHost;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The DLP server as {@code meshguard dlp} wires it without {@code db.url}: settings read by the server's own config
 * schema (every default as shipped, overrides given as {@code MESHGUARD_*} variables), the audit sink the server
 * records into (the decision log, one JSON line per finding and per API call, here into a file instead of standard
 * output), metrics in a {@link ProcessMetrics} view named {@code extproc-dlp}. A pass-through ext_proc server on the
 * same gRPC settings is the baseline. For benchmarks.
 */
final class ProductionDlp implements AutoCloseable {
    final Config config;
    final ProcessMetrics metrics;
    final DecisionLog decisionLog;
    final DlpServer server;
    private final OutputStream logFile;
    private final Path logPath;

    private ProductionDlp(
            Config config, ProcessMetrics metrics, DecisionLog log, DlpServer server, OutputStream file, Path path) {
        this.config = config;
        this.metrics = metrics;
        this.decisionLog = log;
        this.server = server;
        this.logFile = file;
        this.logPath = path;
    }

    /** The {@code MESHGUARD_*} variables for a loopback server on a free port, plus {@code overrides}. */
    static Map<String, String> environment(Path policy, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put("MESHGUARD_GRPC_BIND", "127.0.0.1");
        env.put("MESHGUARD_GRPC_PORT", "0");
        env.put("MESHGUARD_DLP_POLICY", policy.toString());
        env.put("MESHGUARD_DLP_HASH_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
        env.putAll(overrides);
        return env;
    }

    static Config load(Map<String, String> env) throws Exception {
        ConfigSchema schema = ConfigSchema.builder()
                .addAll(DlpServerSettings.schema().keys())
                .add(AuditConfig.configGroup())
                .build();
        return ConfigLoader.load(schema, Optional.empty(), env);
    }

    /** Starts the server with the decision log on (as {@code audit.decision_log: auto} does without a database). */
    static ProductionDlp start(Path policy, Map<String, String> overrides) throws Exception {
        Config config = load(environment(policy, overrides));
        ProcessMetrics metrics = ProcessMetrics.create();
        Path path = Files.createTempFile("meshguard-bench-decision-log", ".jsonl");
        OutputStream file = new BufferedOutputStream(Files.newOutputStream(path), 64 * 1024);
        DecisionLog log = new DecisionLog(
                AuditConfig.decisionLog(config, Map.of("service", "meshguard-dlp")),
                file,
                "file",
                metrics.forServer("audit"));
        log.start();
        DlpServer server = DlpServer.create(
                DlpServerSettings.from(config), new AuditLogRecorder(log), metrics.forServer("extproc-dlp"));
        server.start();
        return new ProductionDlp(config, metrics, log, server, file, path);
    }

    /** The pass-through ext_proc server on the same {@code grpc.*} settings and runtime wiring. */
    static GrpcServerHost passThrough(Config config, ProcessMetrics metrics) throws Exception {
        GrpcServerSettings grpc = DlpServerSettings.from(config).grpc();
        GrpcServerHost host = new GrpcServerHost(
                "pass-through-grpc",
                grpc,
                GrpcServerHost.bind(new ExtProcLatency.PassThrough()),
                metrics.forServer("pass-through"));
        host.start();
        return host;
    }

    /** A Prometheus sample's value, summed over its series, from this process's scrape (0 when absent). */
    double sample(String name, String serverTag) {
        double sum = 0;
        for (String line : metrics.scrape().split("\n")) {
            if (line.startsWith(name + "{") && line.contains("server=\"" + serverTag + "\"")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    /** Decision log lines written so far. */
    long decisionLogLines() {
        return (long) sample("meshguard_decision_log_events_written_total", "audit");
    }

    @Override
    public void close() throws Exception {
        server.close();
        decisionLog.close();
        logFile.close();
        Files.deleteIfExists(logPath);
        metrics.close();
    }
}
