package io.meshguard.cli.xds;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.access.AdminAccessSettings;
import io.meshguard.access.AdminGate;
import io.meshguard.access.TrailAdminEvents;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.component.AuditComponent;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.catalog.api.CatalogSettings;
import io.meshguard.catalog.apikey.ApiKeyAdminApi;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbConfig;
import io.meshguard.db.Migrations;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.metrics.ProcessMetrics;
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.meshguard.xds.policy.PolicyFileSet;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshguard xds --config FILE}: the xDS controller on its own — ADS on 18000, admin API and metrics on 9103,
 * configuration from PostgreSQL ({@code db.*}).
 */
@Command(
        name = "xds",
        mixinStandardHelpOptions = true,
        description = "Run the xDS controller: ADS for Envoy and proxyless gRPC, admin API on the status port.",
        subcommands = {
            XdsRenderCommand.class,
            XdsApplyCommand.class,
            XdsValidateCommand.class,
            XdsPublishCommand.class,
            XdsRollbackCommand.class,
            XdsApprovalsCommand.class,
            ToolApprovalsCommand.class
        })
public final class XdsCommand implements Callable<Integer>, io.meshguard.cli.common.ServerCommand {
    @Option(
            names = "--config",
            description = "YAML config file (keys xds.*, http.*, db.*); MESHGUARD_* env vars override it.")
    Path configFile;

    /** Every key the controller reads. */
    public static ConfigSchema schema() {
        return ConfigSchema.builder()
                .add(XdsSettings.configGroup())
                .add(HttpServerSettings.configGroup(XdsSettings.DEFAULT_HTTP_PORT))
                .add(new DbConfig("meshguard-xds"))
                .add(AuditConfig.configGroup())
                .add(AdminAccessSettings.configGroup())
                .add(CatalogSettings.configGroup())
                .add(io.meshguard.catalog.apikey.ApiKeyLimits.configGroup())
                .add(io.meshguard.xds.zone.ZoneConfig.hub())
                .add(io.meshguard.console.ConsoleConfig.configGroup())
                .add(io.meshguard.audit.trail.TrailCheckpointSettings.configGroup())
                .build();
    }

    @Override
    public Integer call() throws Exception {
        Config config = ConfigLoader.load(schema(), Optional.ofNullable(configFile), System.getenv());
        try (Running running = start(config, System.getenv())) {
            running.stack().closeOnJvmShutdown();
            System.out.printf(
                    "xds-controller: ADS %s:%d, admin API and metrics on HTTP port %d%n",
                    XdsSettings.configGroup().read(config).adsBind(),
                    running.xds().adsPort(),
                    running.http().port());
            running.stack().awaitClosed();
        }
        return 0;
    }

    /** The controller as this command runs it, started; closing it stops every part and the database pool. */
    public record Running(ComponentStack stack, HikariDataSource dataSource, XdsController xds, StatusHttpServer http)
            implements AutoCloseable {
        @Override
        public void close() {
            try {
                stack.close();
            } finally {
                dataSource.close();
            }
        }
    }

    /**
     * Starts the controller from {@code config} exactly as {@code meshguard xds} does (tests run this wiring).
     *
     * @param environment where tracing settings are read ({@code OTEL_*})
     */
    public static Running start(Config config, java.util.Map<String, String> environment) throws Exception {
        XdsSettings settings = XdsSettings.configGroup().read(config);
        Optional<PolicyFileSet> policies = XdsSettings.policyFiles(config);
        ProcessMetrics metrics = ProcessMetrics.create();
        Tracing tracing = Tracing.fromEnvironment(environment, "meshguard-xds", metrics.registry());
        ComponentStack stack = new ComponentStack();
        HikariDataSource dataSource = DataSourceFactory.create(new DbConfig("meshguard-xds").read(config));
        try {
            if (config.get(XdsSettings.MIGRATE_ON_START)) {
                Migrations.apply(dataSource);
            } else {
                Migrations.requireCurrent(dataSource);
            }
            // first in the stack, so closed last: spans of the last rollouts are still exported
            stack.start(tracing);
            // the writer only: gateways' access logs go to the audit receiver, not to the controller
            AuditComponent audit = AuditComponent.create(
                    AuditConfig.read(config).withAlsPort(Optional.empty()),
                    ConnectionSource.of(dataSource),
                    dataSource,
                    metrics.forServer("audit"),
                    tracing);
            stack.start(audit);
            XdsController xds = XdsController.create(
                    settings,
                    dataSource,
                    metrics.forServer("xds"),
                    ConfigChangeAudit.to(audit.sink()),
                    policies,
                    tracing);
            StatusHttpServer http = new StatusHttpServer(
                    "xds-http",
                    HttpServerSettings.configGroup(XdsSettings.DEFAULT_HTTP_PORT)
                            .read(config),
                    metrics.registry());
            TrailAdminEvents adminEvents = new TrailAdminEvents(new AdminTrail(dataSource));
            AdminAccessSettings adminAccess = AdminAccessSettings.configGroup().read(config);
            AdminGate gate =
                    adminAccess.gate(new BearerTokens(settings.adminTokenFile()), "xds.admin.token_file", adminEvents);
            // the same admin plane as `up` (AdminPlane): admin API, catalogue, console with Approvals and the portal
            io.meshguard.console.ConsoleConfig console =
                    io.meshguard.console.ConsoleConfig.configGroup().read(config);
            // API keys on the admin port, as `up` serves them there: the portal's operations for pipelines and
            // `meshguard apikey --url`, behind the same gate (tenants, OIDC); extauthz follows revocations by NOTIFY
            ApiKeyAdminApi keys = new ApiKeyAdminApi(
                    Optional.of(new JdbcApiKeyStore(dataSource)),
                    Clock.systemUTC(),
                    gate,
                    Optional.of(audit.sink()),
                    keyId -> {},
                    io.meshguard.catalog.apikey.ApiKeyLimits.configGroup().read(config));
            http.addHandler(ApiKeyAdminApi.PREFIX, keys);
            AdminPlane.Mounted plane = new AdminPlane(
                            gate,
                            adminEvents,
                            dataSource,
                            CatalogSettings.configGroup().read(config),
                            console.settings(
                                    adminAccess.issuer(),
                                    HttpServerSettings.configGroup(XdsSettings.DEFAULT_HTTP_PORT)
                                            .read(config)
                                            .port()),
                            keys,
                            io.meshguard.audit.trail.TrailCheckpointSettings.configGroup()
                                    .read(config),
                            metrics.forServer("xds"))
                    .configure(http, xds);
            // zone mode's central side: the port zone controllers in other clusters dial
            Optional<io.meshguard.xds.zone.ZoneCentral> zones = io.meshguard.xds.zone.ZoneConfig.hub()
                    .read(config)
                    .map(h -> new io.meshguard.xds.zone.ZoneCentral(
                            dataSource,
                            xds.revisions(),
                            metrics.forServer("xds"),
                            new java.net.InetSocketAddress(h.bind(), h.port()),
                            h.settings(),
                            h.credentialLifetime()));
            zones.ifPresent(z -> {
                z.mountAdminApi(http, gate, adminEvents);
                http.addReadinessChecks(z.readinessChecks());
            });
            stack.start(xds);
            stack.start(plane.trailCheckpoints());
            if (zones.isPresent()) {
                stack.start(zones.get());
            }
            stack.start(http);
            return new Running(stack, dataSource, xds, http);
        } catch (Exception | Error e) {
            stack.close();
            dataSource.close();
            throw e;
        }
    }
}
