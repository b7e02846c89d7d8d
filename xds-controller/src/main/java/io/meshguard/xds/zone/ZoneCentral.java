package io.meshguard.xds.zone;

import io.meshguard.access.AdminEvents;
import io.meshguard.access.AdminGate;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.xds.store.PgRevisionStore;
import io.meshguard.xds.store.RevisionListener;
import io.meshguard.xds.store.RevisionStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;

/**
 * Central's side of zone mode as one {@link ServerComponent}: the registry, the hub on its own zone port, the board and
 * the operator routes. Added beside an {@code XdsController} over the same database and revision store.
 *
 * <pre>{@code
 * ZoneCentral zones = new ZoneCentral(dataSource, xds.revisions(), meters, bind, ZoneHubSettings.DEFAULTS, 1h);
 * zones.mountAdminApi(statusHttp, gate, events);   // before statusHttp.start()
 * zones.start();
 * }</pre>
 */
public final class ZoneCentral implements ServerComponent {
    private final ZoneRegistry registry;
    private final ZoneBoard board;
    private final ZoneHub hub;
    private final ZoneHubServer server;
    private final FleetView fleet;
    private final RevisionListener published;
    private final ZoneStreams streams;
    /** The catalogue's subscription state, rebuilt on every change, for the zones' extauthz replicas. */
    private final io.meshguard.xds.subscription.CatalogSnapshotFeed subscriptions;

    private volatile boolean started;

    /** @param credentialLifetime how long zone credentials live (at most 1 h; rotated at half) */
    public ZoneCentral(
            DataSource dataSource,
            RevisionStore revisions,
            MeterRegistry meters,
            InetSocketAddress bind,
            ZoneHubSettings settings,
            Duration credentialLifetime) {
        this(dataSource, revisions, meters, bind, settings, credentialLifetime, replicaName());
    }

    /** @param replica this replica's name in the fleet view (unique among central replicas) */
    public ZoneCentral(
            DataSource dataSource,
            RevisionStore revisions,
            MeterRegistry meters,
            InetSocketAddress bind,
            ZoneHubSettings settings,
            Duration credentialLifetime,
            String replica) {
        Clock clock = Clock.systemUTC();
        this.registry = new ZoneRegistry(dataSource, clock, credentialLifetime);
        this.streams = new ZoneStreams(dataSource, replica, settings.staleAfter(), clock);
        this.board = new ZoneBoard(clock, meters, java.util.Optional.of(streams));
        this.hub = new ZoneHub(registry, revisions, board, settings, clock);
        this.server = new ZoneHubServer(bind, hub);
        // push on publish: any replica's publish NOTIFYs; the hub's tick remains the safety net for a lost one
        this.published = new RevisionListener(
                dataSource, new PgRevisionStore(dataSource), hub::nudge, PUBLISH_DEBOUNCE, RECONCILE_INTERVAL);
        CatalogStore catalog = new CatalogStore(dataSource);
        this.subscriptions = new io.meshguard.xds.subscription.CatalogSnapshotFeed(
                dataSource, catalog, hub::subscriptionState, RECONCILE_INTERVAL);
        this.fleet = new FleetView(
                () -> catalog.clusters(TenantScope.ALL),
                registry::groups,
                revisions::latestIds,
                streams::zones,
                registry::revokedAt,
                clock);
    }

    /** The pod's name (Kubernetes sets HOSTNAME to it) and a suffix of its own: two hubs in one process differ. */
    private static String replicaName() {
        return System.getenv().getOrDefault("HOSTNAME", "central") + "/"
                + java.util.UUID.randomUUID().toString().substring(0, 8);
    }

    /** Adds the operator's zone routes and {@code /v1/operator/fleet} to the admin port; call before it starts. */
    public void mountAdminApi(StatusHttpServer http, AdminGate gate, AdminEvents events) {
        ZoneAdminApi api = new ZoneAdminApi(hub, fleet, gate, events, Clock.systemUTC());
        ZoneAdminApi.PREFIXES.forEach(p -> http.addHandler(p, api));
    }

    @Override
    public String name() {
        return "zone-hub";
    }

    /** Lets a multi-group publish commit before the streams read it (as the controller's own listener does). */
    private static final Duration PUBLISH_DEBOUNCE = Duration.ofMillis(20);

    private static final Duration RECONCILE_INTERVAL = Duration.ofSeconds(30);

    @Override
    public void start() throws IOException {
        // the first snapshot before the port opens: every zone's first stream carries it
        subscriptions.start();
        server.start();
        published.start();
        started = true;
    }

    public int port() {
        return server.port();
    }

    public ZoneHub hub() {
        return hub;
    }

    public FleetView fleet() {
        return fleet;
    }

    @Override
    public List<ReadinessCheck> readinessChecks() {
        return List.of(ReadinessCheck.of(
                "xds:zone-hub",
                () -> started
                        ? ReadinessCheck.Result.ready("zone port " + server.port() + ", zones connected: "
                                + board.zones().stream()
                                        .filter(z -> z.connected() && !z.stale())
                                        .count())
                        : ReadinessCheck.Result.notReady("zone port not started")));
    }

    @Override
    public void close() {
        started = false;
        published.close();
        subscriptions.close();
        try {
            server.close();
            streams.close(); // after the streams' disconnects were queued
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
