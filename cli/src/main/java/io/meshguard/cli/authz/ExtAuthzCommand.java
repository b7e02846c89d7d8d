package io.meshguard.cli.authz;

import io.meshguard.access.AdminAccessSettings;
import io.meshguard.audit.component.AuditComponent;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.cli.common.ServerAudit;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbConfig;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.audit.DecisionSink;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.metrics.ProcessMetrics;
import io.meshguard.runtime.tracing.Tracing;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import javax.sql.DataSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code meshguard extauthz --config FILE}: the ext_authz server on its own (gRPC 9001, HTTP 9101). */
@Command(
        name = "extauthz",
        mixinStandardHelpOptions = true,
        description = {
            "Run the ext_authz server (Envoy Check API): gRPC on grpc.port (9001), /metrics /healthz "
                    + "/readyz on http.port (9101).",
            "",
            "Settings: the YAML file, then MESHGUARD_* environment variables (e.g. MESHGUARD_GRPC_PORT, "
                    + "MESHGUARD_POLICY_FILE).",
            "",
            "With db.url set, API keys are checked against PostgreSQL and every decision is written to "
                    + "the audit log (audit.* keys); without it, API-key routes deny with 503. audit.decision_log "
                    + "(auto: on without db.url) writes every decision as one JSON object per line to standard "
                    + "output, for Fluent Bit or Vector."
        })
public final class ExtAuthzCommand implements Callable<Integer>, io.meshguard.cli.common.ServerCommand {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML settings file.")
    Path config;

    @Override
    public Integer call() throws Exception {
        Config loaded = ConfigLoader.load(
                ServerAudit.withAuditKeys(ExtAuthzConfig.SCHEMA), Optional.ofNullable(config), System.getenv());
        Running running = start(loaded, System.getenv());
        running.stack().closeOnJvmShutdown();
        ExtAuthzConfig settings = ExtAuthzConfig.read(loaded);
        // Standard output carries only decision log lines when the decision log is on (log shippers parse it).
        PrintStream banner = AuditConfig.decisionLogOn(loaded, running.audited()) ? System.err : System.out;
        banner.printf(
                "meshguard extauthz: gRPC %s:%d, HTTP %s:%d (policy %s)%n",
                settings.grpc().bind(),
                running.server().grpcPort(),
                settings.http().bind(),
                running.http().port(),
                settings.policyFile());
        banner.flush();
        running.stack().awaitClosed();
        return 0;
    }

    /** The server as this command runs it, started; closing it stops every part and the database pool. */
    public record Running(ComponentStack stack, ExtAuthzServer server, StatusHttpServer http, boolean audited)
            implements AutoCloseable {
        @Override
        public void close() {
            stack.close();
        }
    }

    /**
     * Starts the server from {@code loaded} (keys of {@link ExtAuthzConfig#SCHEMA} with the audit keys) exactly as
     * {@code meshguard extauthz} does: tests run this wiring.
     *
     * @param environment where tracing settings are read ({@code OTEL_*})
     */
    public static Running start(Config loaded, java.util.Map<String, String> environment) throws Exception {
        ExtAuthzConfig settings = ExtAuthzConfig.read(loaded);
        ProcessMetrics metrics = ProcessMetrics.create();
        ComponentStack stack = new ComponentStack();
        try {
            // first in the stack, so closed last: what the servers record while draining is still exported
            Tracing tracing = Tracing.fromEnvironment(environment, "meshguard-extauthz", metrics.registry());
            stack.start(tracing);
            Optional<DataSource> dataSource = Optional.empty();
            if (!loaded.get(DbConfig.URL).isBlank()) {
                var ds = DataSourceFactory.create(new DbConfig("meshguard-extauthz").read(loaded));
                stack.start(new ServerAudit.ClosingResource("extauthz-db", ds::close));
                dataSource = Optional.of(ds);
            }
            Optional<AuditComponent> audit = ServerAudit.start(loaded, "meshguard-extauthz", metrics, stack, tracing);
            DecisionSink decisions = ServerAudit.sink(loaded, "meshguard-extauthz", metrics, stack, audit)
                    .<DecisionSink>map(AuditSinkDecisions::new)
                    .orElse(DecisionSink.NONE);
            ExtAuthzServer server = new ExtAuthzServer(
                    settings, metrics.forServer("extauthz"), dataSource, decisions, Clock.systemUTC(), tracing);
            StatusHttpServer status = new StatusHttpServer("extauthz-http", settings.http(), metrics.registry());
            server.mountQuotaApi(
                    status,
                    AdminAccessSettings.configGroup().read(loaded)); // /quotas: admin.* and quota.admin.token_file
            stack.start(status);
            stack.start(server);
            status.addReadinessChecks(stack.readinessChecks()); // the server's and the audit writer's
            return new Running(stack, server, status, audit.isPresent());
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }
    }
}
