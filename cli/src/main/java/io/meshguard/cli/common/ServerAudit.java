package io.meshguard.cli.common;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.audit.AuditSink;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.DecisionLog;
import io.meshguard.audit.component.AuditComponent;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.audit.component.AuditSettings;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbConfig;
import io.meshguard.db.DbSettings;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.runtime.metrics.ProcessMetrics;
import io.meshguard.runtime.tracing.Tracing;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit writer a server runs in its own process ({@code meshguard extauthz}, {@code meshguard dlp}) so that its
 * decisions and findings reach PostgreSQL, with the on-disk spool while the database is away, and the decision log
 * ({@code audit.decision_log}): the same events as one JSON object per line on standard output, beside the database
 * or without it.
 */
public final class ServerAudit {
    private static final Logger log = LoggerFactory.getLogger(ServerAudit.class);

    private ServerAudit() {}

    /** {@code serverSchema} plus the {@code audit.*} keys and, where missing, the {@code db.*} keys. */
    public static ConfigSchema withAuditKeys(ConfigSchema serverSchema) {
        ConfigSchema.Builder schema =
                ConfigSchema.builder().addAll(serverSchema.keys()).add(AuditConfig.configGroup());
        if (serverSchema.find(DbConfig.URL.name()).isEmpty()) {
            schema.add(new DbConfig("meshguard"));
        }
        return schema.build();
    }

    /**
     * Starts the audit writer and partition maintenance in {@code stack} when {@code db.url} is set, with a span per
     * batch written when tracing is on.
     *
     * @param applicationName what PostgreSQL shows for the writer's connections, e.g. {@code meshguard-extauthz}
     */
    public static Optional<AuditComponent> start(
            Config config, String applicationName, ProcessMetrics metrics, ComponentStack stack, Tracing tracing)
            throws Exception {
        return start(config, applicationName, metrics, stack, tracing, AccessLogListener.NONE);
    }

    /** Whether the audit component opens the access-log receiver's own listener ({@code audit.als.port}). */
    public enum AccessLogListener {
        /** Never: a server that does not receive Envoy's access logs (extauthz). */
        NONE,
        /** On {@code audit.als.port} when it is set (the DLP server; unset, it hosts the receiver on its own port). */
        WHEN_CONFIGURED
    }

    /**
     * As {@link #start(Config, String, ProcessMetrics, ComponentStack, Tracing)}, with the access-log receiver on its
     * own listener when {@code listener} asks for it and {@code audit.als.port} is set
     * ({@link AuditComponent#accessLogPort()} then names it).
     */
    public static Optional<AuditComponent> start(
            Config config,
            String applicationName,
            ProcessMetrics metrics,
            ComponentStack stack,
            Tracing tracing,
            AccessLogListener listener)
            throws Exception {
        if (config.get(DbConfig.URL).isBlank()) {
            log.warn(
                    "{}: db.url is not set; audit events go to the log only, not to the audit database",
                    applicationName);
            return Optional.empty();
        }
        DbSettings db = new DbConfig(applicationName).read(config);
        AuditSettings settings = ownSpool(config, AuditConfig.read(config), applicationName);
        if (listener == AccessLogListener.NONE) {
            settings = settings.withAlsPort(Optional.empty());
        }
        HikariDataSource maintenance = DataSourceFactory.create(db.withPoolSize(2, 0));
        stack.start(new ClosingResource(applicationName + "-audit-db", maintenance::close));
        AuditComponent audit = AuditComponent.create(
                settings,
                ConnectionSource.forUrl(db.jdbcUrl(), db.user(), db.password(), db.connectionTimeout()),
                maintenance,
                metrics.forServer("audit"),
                tracing);
        stack.start(audit);
        return Optional.of(audit);
    }

    /**
     * Where the server records its audit events: the database writer {@code database} (when {@code db.url} is set),
     * the decision log on standard output ({@code audit.decision_log}; by default on exactly when there is no
     * database), or both. Empty only when an operator turned the decision log off and there is no database; that
     * is logged as an ERROR, since decisions are then recorded nowhere. Start it before the server that records
     * into it, so the stack drains it after the server has stopped.
     */
    public static Optional<AuditSink> sink(
            Config config,
            String applicationName,
            ProcessMetrics metrics,
            ComponentStack stack,
            Optional<AuditComponent> database)
            throws Exception {
        Optional<AuditSink> databaseSink = database.map(AuditComponent::sink);
        if (!AuditConfig.decisionLogOn(config, database.isPresent())) {
            if (database.isEmpty()) {
                log.error(
                        "{}: no db.url and audit.decision_log=off: decisions and findings are recorded nowhere",
                        applicationName);
            }
            return databaseSink;
        }
        DecisionLog decisionLog = DecisionLog.toStdout(
                AuditConfig.decisionLog(config, labels(applicationName)), metrics.forServer("audit"));
        stack.start(decisionLog);
        log.info(
                "{}: decision log on standard output (one JSON object per line, \"type\":\"meshguard/decision_log\")"
                        + "{}",
                applicationName,
                database.isPresent() ? ", beside the audit database" : "");
        return Optional.of(databaseSink.map(d -> AuditSink.both(d, decisionLog)).orElse(decisionLog));
    }

    /** {@code service} and, in a pod, {@code instance} (the pod name Kubernetes puts in HOSTNAME). */
    private static Map<String, String> labels(String applicationName) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("service", applicationName);
        String host = System.getenv("HOSTNAME");
        if (host != null && !host.isBlank()) {
            labels.put("instance", host);
        }
        return labels;
    }

    /**
     * {@code settings} with the spool in a subdirectory named after the server when {@code audit.spool.dir} is not
     * set: two servers started from one working tree must not share a spool (one writer per directory).
     */
    public static AuditSettings ownSpool(Config config, AuditSettings settings, String applicationName) {
        if (!(config.source(AuditConfig.SPOOL_DIR) instanceof io.meshguard.runtime.config.ConfigSource.Default)) {
            return settings;
        }
        io.meshguard.audit.spool.SpoolSettings spool = settings.writer().spool();
        return settings.withWriter(settings.writer()
                .withSpool(new io.meshguard.audit.spool.SpoolSettings(
                        spool.directory().resolve(applicationName),
                        spool.maxBytes(),
                        spool.segmentBytes(),
                        spool.fsync(),
                        spool.fsyncInterval(),
                        spool.whenFull())));
    }

    /** Closes a resource when the stack shuts down (after everything started later). */
    public record ClosingResource(String name, Runnable onClose) implements ServerComponent {
        @Override
        public void start() {}

        @Override
        public void close() {
            onClose.run();
        }
    }
}
