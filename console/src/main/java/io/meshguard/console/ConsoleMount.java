package io.meshguard.console;

import io.meshguard.access.AdminGate;
import io.meshguard.audit.query.AuditExport;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.audit.query.TrafficReport;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.revision.RevisionActions;
import java.time.Clock;
import java.util.Optional;

/**
 * Mounts the console under {@code /console} on the admin port, over the same services and gate as the controller's
 * admin API (docs/console.md). Whoever wires the admin port calls it (cli's admin plane, devstack's up): the
 * controller does not know the console.
 */
public final class ConsoleMount {
    private ConsoleMount() {}

    /** The console without Approvals and the developer portal; call before the listener starts. */
    public static Console mount(XdsController xds, StatusHttpServer http, AdminGate gate, ConsoleSettings console) {
        return mount(xds, http, gate, console, Optional.empty());
    }

    /**
     * As {@link #mount(XdsController, StatusHttpServer, AdminGate, ConsoleSettings)}, with Approvals and the developer
     * portal over the catalogue's API and the API keys' API mounted beside it.
     */
    public static Console mount(
            XdsController xds,
            StatusHttpServer http,
            AdminGate gate,
            ConsoleSettings console,
            Optional<CatalogConsole> catalogue) {
        XdsController.AdminServices s = xds.adminServices();
        RevisionActions actions =
                new RevisionActions(s.revisions(), s.publisher(), s.approvals(), s.products(), s.audit());
        Clock clock = Clock.systemUTC();
        FleetScreen fleet = new FleetScreen(xds::fleet, s.publisher()::servedRevision, clock);
        Console handler = new Console(
                console,
                gate,
                new RevisionsScreen(
                        s.revisions(),
                        s.approvals(),
                        s.publisher(),
                        actions,
                        s.draft(),
                        gate,
                        new AuditReader(s.dataSource())),
                fleet,
                new AuditScreen(
                        new AuditReader(s.dataSource()),
                        s.trailVerifier(),
                        new AuditExport(s.dataSource(), clock),
                        gate,
                        clock),
                new ValidateScreen(s.draft(), s.publisher().validator()),
                new TrafficScreen(new TrafficReport(s.dataSource()), clock),
                new CoverageScreen(new CoverageReport(s.dataSource()), clock),
                new PolicyChangesScreen(s.policyChanges(), new AuditReader(s.dataSource()), gate),
                new ToolCallsScreen(s.toolCalls(), gate),
                catalogue,
                clock);
        http.addHandler(Console.PREFIX, handler);
        // the live streams end first, so the admin port's stop does not wait for them
        xds.beforeClose(handler::closeStreams);
        return handler;
    }
}
