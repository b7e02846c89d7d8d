package io.meshguard.cli.xds;

import io.meshguard.access.AdminEvents;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.audit.trail.TrailCheckpointSettings;
import io.meshguard.audit.trail.TrailCheckpointer;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.api.CatalogService;
import io.meshguard.catalog.api.CatalogSettings;
import io.meshguard.catalog.apikey.ApiKeyAdminApi;
import io.meshguard.console.CatalogConsole;
import io.meshguard.console.ConsoleMount;
import io.meshguard.console.ConsoleSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.admin.AdminPortDocument;
import io.meshguard.xds.store.RevisionSeal;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin plane on the controller's HTTP port, wired once for {@code meshguard xds} (a cluster) and
 * {@code meshguard up}: the controller's admin API, the catalogue API, and the console with Approvals and the developer
 * portal over those same operations, all behind one gate and one admin trail. A test of {@code up}'s console is a
 * test of what a cluster serves.
 *
 * @param keys the API keys' admin operations the portal calls (on the key database extauthz reads); the keys a
 *     customer makes there carry no roles, scopes or tier of their own (the bank's grant, ApiKeyAdminApi)
 * @param checkpoints where the admin trail's head is signed and written outside the database (TrailCheckpointer)
 * @param meters the controller's registry (the checkpoints' metrics)
 */
public record AdminPlane(
        AdminGate gate,
        AdminEvents events,
        DataSource dataSource,
        CatalogSettings catalog,
        ConsoleSettings console,
        ApiKeyAdminApi keys,
        TrailCheckpointSettings checkpoints,
        MeterRegistry meters) {
    private static final Logger LOG = LoggerFactory.getLogger(AdminPlane.class);

    /**
     * What {@link #configure} mounted: the catalogue API, and the trail's checkpoints, which the caller starts and
     * stops with its other parts.
     */
    public record Mounted(CatalogApi catalogue, ServerComponent trailCheckpoints) {}

    /**
     * Mounts every handler on {@code http}, before it starts; returns what it mounted. The caller has mounted
     * {@link #keys} on the same port.
     */
    public Mounted configure(StatusHttpServer http, XdsController xds) throws IOException {
        return configure(http, xds, List.of());
    }

    /**
     * As {@link #configure(StatusHttpServer, XdsController)}, where the caller has also mounted the operations
     * {@code alsoMounted} on the port ({@code up}: the quotas): the port's one OpenAPI document lists them too.
     */
    public Mounted configure(StatusHttpServer http, XdsController xds, List<? extends AdminOperation<?>> alsoMounted)
            throws IOException {
        // one document for the port, from every table on it; /openapi.json and /v1/openapi.json answer its bytes
        byte[] openApi =
                AdminPortDocument.of(Stream.of(CatalogApi.operations(), ApiKeyAdminApi.operations(), alsoMounted)
                        .<AdminOperation<?>>flatMap(List::stream)
                        .toList());
        Optional<TrailCheckpointer> signer = checkpoints.checkpointer(dataSource, meters, instanceName());
        // the admin plane's verify (console, `meshguard audit verify`) checks the heads this controller signed
        xds.mountAdminApi(http, gate, openApi, RevisionSeal.trailVerifier(dataSource, signer.map(c ->
                (AdminTrailVerifier.CheckpointSource) c::signedCheckpoints)));
        CatalogApi catalogue = new CatalogApi(
                new CatalogService(new CatalogStore(dataSource), gate, events, Clock.systemUTC(), catalog.keycloak()),
                gate,
                catalog.domain(),
                xds.productServing(),
                openApi,
                xds.planChangeReplay());
        http.addHandler(CatalogApi.PREFIX, catalogue);
        ConsoleMount.mount(
                xds,
                http,
                gate,
                console,
                Optional.of(new CatalogConsole(
                        new CatalogStore(dataSource),
                        catalogue.service(),
                        new io.meshguard.catalog.api.ApplicationKeys(catalogue.service(), keys.admin()),
                        catalogue.planChanges(),
                        catalogue.productApis())));
        http.addReadinessChecks(xds.readinessChecks());
        ServerComponent trail = signer.<ServerComponent>map(c -> c).orElseGet(CheckpointsOff::new);
        http.addReadinessChecks(trail.readinessChecks());
        return new Mounted(catalogue, trail);
    }

    private static String instanceName() {
        return Optional.ofNullable(System.getenv("HOSTNAME"))
                .filter(h -> !h.isBlank())
                .orElse("controller");
    }

    /** No key configured: said at start and in /readyz (ready: the admin plane works, the trail is less guarded). */
    private static final class CheckpointsOff implements ServerComponent {
        private static final String WHY = "admin trail checkpoints off: set " + TrailCheckpointSettings.KEY_FILE.name()
                + " so the trail's head leaves the database signed (docs/operate/audit.md,"
                + " \"The admin trail's signed checkpoints\")";

        @Override
        public String name() {
            return "admin-trail-checkpoints";
        }

        @Override
        public void start() {
            LOG.warn(WHY);
        }

        @Override
        public List<ReadinessCheck> readinessChecks() {
            return List.of(ReadinessCheck.of("admin-trail-checkpoints", () -> ReadinessCheck.Result.ready(WHY)));
        }

        @Override
        public void close() {}
    }
}
