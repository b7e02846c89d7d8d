package io.meshguard.cli.audit;

import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.component.AuditComponent;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.audit.component.AuditSettings;
import io.meshguard.cli.common.DatabaseOptions;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import javax.sql.DataSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard audit receiver}: the Envoy access-log receiver, the audit writer and partition maintenance as
 * a process of their own, for meshes that send access logs somewhere other than the DLP server. SIGTERM stops it
 * and flushes (or spools) what is in memory.
 */
@Command(
        name = "receiver",
        mixinStandardHelpOptions = true,
        description = "Run the Envoy access-log receiver with the audit writer on their own.")
public final class AuditReceiverCommand implements Callable<Integer>, io.meshguard.cli.common.ServerCommand {
    /** Default status (metrics, health) port of the standalone receiver. */
    static final int HTTP_PORT = 9104;

    @Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML file with audit.* and http.* settings.")
    Path configFile;

    @Option(
            names = "--als-port",
            defaultValue = "9004",
            description = "gRPC port of the access-log receiver; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int alsPort;

    @Override
    public Integer call() throws Exception {
        ConfigSchema schema = ConfigSchema.builder()
                .add(AuditConfig.configGroup())
                .add(HttpServerSettings.configGroup(HTTP_PORT))
                .build();
        Config config = ConfigLoader.load(schema, Optional.ofNullable(configFile), System.getenv());
        AuditSettings settings = io.meshguard.cli.common.ServerAudit.ownSpool(
                        config, AuditConfig.read(config), "meshguard-audit-receiver")
                .withAlsPort(Optional.of(alsPort));
        DataSource db = database.open("meshguard-audit-cli", System.getenv());

        ProcessMetrics metrics = ProcessMetrics.create();
        io.meshguard.runtime.tracing.Tracing tracing = io.meshguard.runtime.tracing.Tracing.fromEnvironment(
                System.getenv(), "meshguard-audit", metrics.registry());
        ComponentStack stack = new ComponentStack();
        stack.closeOnJvmShutdown();
        StatusHttpServer status = new StatusHttpServer(
                "audit-http", HttpServerSettings.configGroup(HTTP_PORT).read(config), metrics.registry());
        AuditComponent audit =
                AuditComponent.create(settings, ConnectionSource.of(db), db, metrics.forServer("audit"), tracing);
        try {
            stack.start(tracing);
            stack.start(status);
            stack.start(audit);
            status.addReadinessChecks(audit.readinessChecks());
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(
                "audit receiver up: gRPC %d (Envoy AccessLogService), status http port %d, spool %s%n",
                audit.accessLogPort().orElseThrow(),
                status.port(),
                settings.writer().spool().directory());
        out.flush();
        stack.awaitClosed();
        return 0;
    }
}
