package io.meshguard.cli.xds;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.access.AdminAccessSettings;
import io.meshguard.access.AdminGate;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.api.CatalogSettings;
import java.time.Clock;
import io.meshguard.access.TrailAdminEvents;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.AuditComponent;
import io.meshguard.audit.AuditConfig;
import io.meshguard.audit.ConnectionSource;
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
import io.meshguard.xds.policy.PolicyFileSet;
import io.meshguard.xds.admin.ConfigChangeAudit;
import java.nio.file.Path;
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
        subcommands = {XdsRenderCommand.class, XdsApplyCommand.class, XdsValidateCommand.class, XdsPublishCommand.class,
            XdsRollbackCommand.class, XdsApprovalsCommand.class})
public final class XdsCommand implements Callable<Integer> {
    @Option(names = "--config", description = "YAML config file (keys xds.*, http.*, db.*); MESHGUARD_* env vars override it.")
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
                .add(io.meshguard.xds.zone.ZoneConfig.hub())
                .add(io.meshguard.xds.console.ConsoleConfig.configGroup())
                .build();
    }

    @Override
    public Integer call() throws Exception {
        ConfigSchema schema = schema();
        Config config = ConfigLoader.load(schema, Optional.ofNullable(configFile), System.getenv());
        XdsSettings settings = XdsSettings.configGroup().read(config);
        Optional<PolicyFileSet> policies = XdsSettings.policyFiles(config);
        ProcessMetrics metrics = ProcessMetrics.create();
        Tracing tracing = Tracing.fromEnvironment(System.getenv(), "meshguard-xds", metrics.registry());
        ComponentStack stack = new ComponentStack();
        stack.closeOnJvmShutdown();
        HikariDataSource dataSource = DataSourceFactory.create(new DbConfig("meshguard-xds").read(config));
        try {
            Migrations.apply(dataSource);
            // first in the stack, so closed last: spans of the last rollouts are still exported
            stack.start(tracing);
            // the writer only: gateways' access logs go to the audit receiver, not to the controller
            AuditComponent audit = AuditComponent.create(AuditConfig.read(config).withAlsPort(Optional.empty()),
                    ConnectionSource.of(dataSource), dataSource, metrics.forServer("audit"), tracing);
            stack.start(audit);
            XdsController xds = XdsController.create(settings, dataSource, metrics.forServer("xds"),
                    ConfigChangeAudit.to(audit.sink()), policies, tracing);
            StatusHttpServer http = new StatusHttpServer("xds-http",
                    HttpServerSettings.configGroup(XdsSettings.DEFAULT_HTTP_PORT).read(config), metrics.registry());
            TrailAdminEvents adminEvents = new TrailAdminEvents(new AdminTrail(dataSource));
            AdminAccessSettings adminAccess = AdminAccessSettings.configGroup().read(config);
            AdminGate gate = adminAccess.gate(new BearerTokens(settings.adminTokenFile()), "xds.admin.token_file",
                    adminEvents);
            xds.mountAdminApi(http, gate);
            // the console on the same port: OIDC sign-in at the admin plane's issuer, or the token file's token
            xds.mountConsole(http, gate, io.meshguard.xds.console.ConsoleConfig.configGroup().read(config)
                    .settings(adminAccess.issuer(), HttpServerSettings.configGroup(XdsSettings.DEFAULT_HTTP_PORT)
                            .read(config).port()));
            CatalogSettings catalog = CatalogSettings.configGroup().read(config);
            http.addHandler(CatalogApi.PREFIX, new CatalogApi(new CatalogStore(dataSource), gate, adminEvents,
                    Clock.systemUTC(), catalog.domain(), catalog.keycloak(), xds.productServing()));
            http.addReadinessChecks(xds.readinessChecks());
            // zone mode's central side (issue 28): the port zone controllers in other clusters dial
            Optional<io.meshguard.xds.zone.ZoneCentral> zones = io.meshguard.xds.zone.ZoneConfig.hub().read(config)
                    .map(h -> new io.meshguard.xds.zone.ZoneCentral(dataSource, xds.revisions(),
                            metrics.forServer("xds"), new java.net.InetSocketAddress(h.bind(), h.port()),
                            h.settings(), h.credentialLifetime()));
            zones.ifPresent(z -> {
                z.mountAdminApi(http, gate, adminEvents);
                http.addReadinessChecks(z.readinessChecks());
            });
            stack.start(xds);
            if (zones.isPresent()) {
                stack.start(zones.get());
            }
            stack.start(http);
            System.out.printf("xds-controller: ADS %s:%d, admin API and metrics on HTTP port %d%n",
                    settings.adsBind(), xds.adsPort(), http.port());
            stack.awaitClosed();
        } finally {
            stack.close();
            dataSource.close();
        }
        return 0;
    }
}
