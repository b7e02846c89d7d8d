package io.meshguard.xds.zone;

import io.meshguard.contract.zone.Echo;
import io.meshguard.contract.zone.NodeReport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This central replica's view of the zone streams it holds: which are connected, which went stale, what each applied
 * and what its nodes run, as the zones echoed it. Feeds the {@code meshguard_xds_zone*} metrics, and writes through to
 * {@link ZoneStreams} (when given) so that {@code /v1/operator/fleet} answers the same from every replica.
 */
public final class ZoneBoard {

    /**
     * One zone as central last heard it.
     *
     * @param stale its last stream carried no echo for three echo intervals (kept until it echoes again)
     * @param lag how long the oldest revision sent to it has waited for the zone to echo it as applied
     * @param centralReplica the central replica that holds (or held last) the zone's stream
     */
    public record Zone(String cluster, boolean connected, boolean stale, Instant since, Optional<Instant> lastEcho,
            Map<String, Long> applied, Map<String, String> refused, List<NodeReport> nodes, Duration lag,
            String zoneVersion, String centralReplica) {
        public Zone {
            applied = Map.copyOf(applied);
            refused = Map.copyOf(refused);
            nodes = List.copyOf(nodes);
        }

        public long driftedNodes() {
            return nodes.stream().filter(NodeReport::drifted).count();
        }
    }

    private final Map<String, Zone> zones = new ConcurrentHashMap<>();
    private final Map<String, Integer> streams = new ConcurrentHashMap<>();
    private final Clock clock;
    private final MeterRegistry meters;
    private final Optional<ZoneStreams> shared;
    private final String replica;

    /** A board this replica alone reads (tests, and a hub without a fleet view). */
    public ZoneBoard(Clock clock, MeterRegistry meters) {
        this(clock, meters, Optional.empty());
    }

    /** @param shared where every replica's fleet view reads the streams this replica holds */
    public ZoneBoard(Clock clock, MeterRegistry meters, Optional<ZoneStreams> shared) {
        this.clock = clock;
        this.meters = meters;
        this.shared = shared;
        this.replica = shared.map(ZoneStreams::replica).orElse("this replica");
        Gauge.builder("meshguard_xds_zones_connected", this, b -> b.count(z -> z.connected() && !z.stale()))
                .description("Zones with an open stream that echoes").register(meters);
        Gauge.builder("meshguard_xds_zones_stale", this, b -> b.count(Zone::stale))
                .description("Zones whose last stream stopped echoing (three missed echoes)").register(meters);
        Gauge.builder("meshguard_xds_zone_drifted_nodes", this,
                        b -> b.zones.values().stream().mapToLong(Zone::driftedNodes).sum())
                .description("Nodes whose ACKed revision differs from what their zone serves").register(meters);
        for (ZoneRegistry.Refusal r : ZoneRegistry.Refusal.values()) {
            refusals(r);
        }
    }

    void connected(String cluster, String zoneVersion) {
        streams.merge(cluster, 1, Integer::sum);
        zones.compute(cluster, (c, z) -> new Zone(c, true, false, clock.instant(),
                z == null ? Optional.empty() : z.lastEcho(), z == null ? Map.of() : z.applied(),
                z == null ? Map.of() : z.refused(), z == null ? List.of() : z.nodes(), Duration.ZERO, zoneVersion, replica));
        shared.ifPresent(s -> s.connected(cluster, zoneVersion));
        Gauge.builder("meshguard_xds_zone_revision_lag_seconds", this,
                        b -> b.zone(cluster).map(z -> z.lag().toMillis() / 1000.0).orElse(0.0))
                .description("Age of the oldest revision sent to the zone that it has not echoed as applied")
                .tag("cluster", cluster).register(meters);
    }

    void echoed(String cluster, Echo echo, Duration lag) {
        zones.computeIfPresent(cluster, (c, z) -> new Zone(c, z.connected(), false, z.since(),
                Optional.of(clock.instant()), echo.applied(), echo.refused(), echo.nodes(), lag, z.zoneVersion(),
                replica));
        shared.ifPresent(s -> s.echoed(cluster, echo, lag));
    }

    void lag(String cluster, Duration lag) {
        zones.computeIfPresent(cluster, (c, z) -> new Zone(c, z.connected(), z.stale(), z.since(), z.lastEcho(),
                z.applied(), z.refused(), z.nodes(), lag, z.zoneVersion(), replica));
    }

    void stale(String cluster) {
        zones.computeIfPresent(cluster, (c, z) -> new Zone(c, z.connected(), true, z.since(), z.lastEcho(),
                z.applied(), z.refused(), z.nodes(), z.lag(), z.zoneVersion(), replica));
    }

    void disconnected(String cluster) {
        int left = streams.merge(cluster, -1, Integer::sum);
        if (left <= 0) {
            streams.remove(cluster);
            zones.computeIfPresent(cluster, (c, z) -> new Zone(c, false, z.stale(), clock.instant(), z.lastEcho(),
                    z.applied(), z.refused(), z.nodes(), z.lag(), z.zoneVersion(), replica));
            shared.ifPresent(s -> s.disconnected(cluster));
        }
    }

    void refused(ZoneRegistry.Refusal reason) {
        refusals(reason).increment();
    }

    private Counter refusals(ZoneRegistry.Refusal reason) {
        return Counter.builder("meshguard_xds_zone_registration_failures_total")
                .description("Registration tokens and zone credentials refused, by reason")
                .tag("reason", reason.name().toLowerCase(java.util.Locale.ROOT)).register(meters);
    }

    public Optional<Zone> zone(String cluster) {
        return Optional.ofNullable(zones.get(cluster));
    }

    /** Every zone central has heard from since it started, by cluster id. */
    public List<Zone> zones() {
        return zones.values().stream().sorted(Comparator.comparing(Zone::cluster)).toList();
    }

    private double count(java.util.function.Predicate<Zone> p) {
        return zones.values().stream().filter(p).count();
    }
}
