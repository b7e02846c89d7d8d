package io.meshguard.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.audit.AuditComponent;
import io.meshguard.audit.AuditConfig;
import io.meshguard.audit.AuditSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbConfig;
import io.meshguard.db.DbSettings;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit writer a server runs in its own process ({@code meshguard extauthz}, {@code meshguard dlp}) so that its
 * decisions and findings reach PostgreSQL, with the on-disk spool while the database is away. Without
 * {@code db.url} there is no audit database: the server then logs its audit events as JSON lines and says so.
 */
public final class ServerAudit {
    private static final Logger log = LoggerFactory.getLogger(ServerAudit.class);

    private ServerAudit() {}

    /** {@code serverSchema} plus the {@code audit.*} keys and, where missing, the {@code db.*} keys. */
    public static ConfigSchema withAuditKeys(ConfigSchema serverSchema) {
        ConfigSchema.Builder schema = ConfigSchema.builder().addAll(serverSchema.keys()).add(AuditConfig.configGroup());
        if (serverSchema.find(DbConfig.URL.name()).isEmpty()) {
            schema.add(new DbConfig("meshguard"));
        }
        return schema.build();
    }

    /**
     * Starts the audit writer and partition maintenance in {@code stack} when {@code db.url} is set.
     *
     * @param applicationName what PostgreSQL shows for the writer's connections, e.g. {@code meshguard-extauthz}
     */
    public static Optional<AuditComponent> start(Config config, String applicationName, ProcessMetrics metrics,
            ComponentStack stack) throws Exception {
        return start(config, applicationName, metrics, stack, io.meshguard.runtime.tracing.Tracing.disabled());
    }

    /** As {@link #start(Config, String, ProcessMetrics, ComponentStack)}, with a span per batch written (tracing on). */
    public static Optional<AuditComponent> start(Config config, String applicationName, ProcessMetrics metrics,
            ComponentStack stack, io.meshguard.runtime.tracing.Tracing tracing) throws Exception {
        if (config.get(DbConfig.URL).isBlank()) {
            log.warn("{}: db.url is not set; audit events go to the log only, not to the audit database",
                    applicationName);
            return Optional.empty();
        }
        DbSettings db = new DbConfig(applicationName).read(config);
        AuditSettings settings = ownSpool(config, AuditConfig.read(config), applicationName).withAlsPort(Optional.empty());
        HikariDataSource maintenance = DataSourceFactory.create(db.withPoolSize(2, 0));
        stack.start(new ClosingResource(applicationName + "-audit-db", maintenance::close));
        AuditComponent audit = AuditComponent.create(settings,
                ConnectionSource.forUrl(db.jdbcUrl(), db.user(), db.password(), db.connectionTimeout()),
                maintenance, metrics.forServer("audit"), tracing);
        stack.start(audit);
        return Optional.of(audit);
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
        return settings.withWriter(settings.writer().withSpool(new io.meshguard.audit.spool.SpoolSettings(
                spool.directory().resolve(applicationName), spool.maxBytes(), spool.segmentBytes(), spool.fsync(),
                spool.fsyncInterval(), spool.whenFull())));
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
