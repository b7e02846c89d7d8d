package io.meshguard.xds.zone;

import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.server.LoopbackCores;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.store.PgRevisionStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import javax.sql.DataSource;

/** Central on loopback for tests: revisions in PostgreSQL, the publisher, the zone hub on its own port. */
final class Central implements AutoCloseable {
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final XdsCore core;
    final ZoneRegistry registry;
    final ZoneBoard board;
    final ZoneHub hub;
    final ZoneHubServer server;
    private final io.meshguard.xds.store.PgGatewayStore draft;

    /** @param zonePort 0 for any; the same port again to restart central where its zones dial */
    Central(DataSource ds, int zonePort, Duration credentialLifetime, ZoneHubSettings settings) throws Exception {
        PgRevisionStore revisions = new PgRevisionStore(ds);
        this.draft = new io.meshguard.xds.store.PgGatewayStore(ds);
        this.core = LoopbackCores.over(revisions, meters);
        this.registry = new ZoneRegistry(ds, Clock.systemUTC(), credentialLifetime);
        this.board = new ZoneBoard(Clock.systemUTC(), meters);
        this.hub = new ZoneHub(registry, revisions, board, settings, Clock.systemUTC());
        this.server = new ZoneHubServer(new InetSocketAddress("127.0.0.1", zonePort), hub).start();
    }

    String address() {
        return "127.0.0.1:" + server.port();
    }

    /**
     * Adds {@code config}'s groups to the draft (tests share one database: other tests' groups stay, the shared
     * upstream and API are the same), then publishes them.
     */
    Publisher.Result publish(GatewayConfig config, String reason) {
        draft.edit(current -> new GatewayConfig(
                merged(current.groups(), config.groups(), io.meshguard.xds.model.GatewayGroup::name),
                merged(current.upstreams(), config.upstreams(), io.meshguard.xds.model.Upstream::name),
                merged(current.apis(), config.apis(), io.meshguard.xds.model.Api::name),
                merged(current.routes(), config.routes(), r -> r.group() + "/" + r.name())));
        Publisher.Result r = core.publisher().publish(config, "test", reason);
        if (!r.published()) {
            throw new AssertionError("refused: " + r.problems());
        }
        return r;
    }

    private static <T> java.util.List<T> merged(
            java.util.List<T> current, java.util.List<T> added, java.util.function.Function<T, String> key) {
        java.util.Map<String, T> out = new java.util.LinkedHashMap<>();
        current.forEach(t -> out.put(key.apply(t), t));
        added.forEach(t -> out.put(key.apply(t), t));
        return java.util.List.copyOf(out.values());
    }

    @Override
    public void close() throws Exception {
        server.close();
        core.close();
    }
}
