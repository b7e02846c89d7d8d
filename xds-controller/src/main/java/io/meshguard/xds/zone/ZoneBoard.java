package io.meshguard.xds.zone;

import io.meshguard.contract.zone.v1.ZoneProto;
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

    /** One zone replica of a cluster: what a stream, a fleet row and a credential lineage belong to. */
    public record Key(String cluster, String replica) {
        public Key {
            java.util.Objects.requireNonNull(cluster, "cluster");
            java.util.Objects.requireNonNull(replica, "replica");
        }

        @Override
        public String toString() {
            return replica.isEmpty() ? cluster : cluster + "/" + replica;
        }
    }

    /**
     * One zone replica as central last heard it.
     *
     * @param replica which of the cluster's zone replicas (its pod name; empty for a zone that names none)
     * @param stale its last stream carried no echo for three echo intervals (kept until it echoes again)
     * @param lag how long the oldest revision sent to it has waited for the zone to echo it as applied
     * @param centralReplica the central replica that holds (or held last) the zone's stream
     */
    public record Zone(
            String cluster,
            String replica,
            boolean connected,
            boolean stale,
            Instant since,
            Optional<Instant> lastEcho,
            Map<String, Long> applied,
            Map<String, String> refused,
            List<ZoneProto.NodeReport> nodes,
            Duration lag,
            String zoneVersion,
            String centralReplica) {
        public Zone {
            applied = Map.copyOf(applied);
            refused = Map.copyOf(refused);
            nodes = List.copyOf(nodes);
        }

        public Key key() {
            return new Key(cluster, replica);
        }

        /** Connected, and echoing. */
        public boolean live() {
            return connected && !stale;
        }

        public long driftedNodes() {
            return nodes.stream().filter(NodeReports::drifted).count();
        }
    }

    private final Map<Key, Zone> zones = new ConcurrentHashMap<>();
    private final Map<Key, Integer> streams = new ConcurrentHashMap<>();
    private final Clock clock;
    private final MeterRegistry meters;
    private final Optional<ZoneStreams> shared;
    private final String centralReplica;
    private final Counter takeovers;

    /** A board this replica alone reads (tests, and a hub without a fleet view). */
    public ZoneBoard(Clock clock, MeterRegistry meters) {
        this(clock, meters, Optional.empty());
    }

    /** @param shared where every replica's fleet view reads the streams this replica holds */
    public ZoneBoard(Clock clock, MeterRegistry meters, Optional<ZoneStreams> shared) {
        this.clock = clock;
        this.meters = meters;
        this.shared = shared;
        this.centralReplica = shared.map(ZoneStreams::replica).orElse("this replica");
        Gauge.builder("meshguard_xds_zones_connected", this, b -> b.count(Zone::live))
                .description("Zone replicas with an open stream that echoes")
                .register(meters);
        Gauge.builder("meshguard_xds_zones_stale", this, b -> b.count(Zone::stale))
                .description("Zone replicas whose last stream stopped echoing (three missed echoes)")
                .register(meters);
        Gauge.builder("meshguard_xds_zone_drifted_nodes", this, b -> b.zones.values().stream()
                        .mapToLong(Zone::driftedNodes)
                        .sum())
                .description("Nodes whose ACKed revision differs from what their zone serves")
                .register(meters);
        for (ZoneRegistry.Refusal r : ZoneRegistry.Refusal.values()) {
            refusals(r);
        }
        this.takeovers = Counter.builder("meshguard_xds_zone_stream_takeovers_total")
                .description(
                        "Zone streams closed because a second hello of the same zone replica took over"
                                + " (a copied credential or a duplicated pod; each replica of a cluster has a stream of its own)")
                .register(meters);
    }

    void connected(Key key, String zoneVersion) {
        streams.merge(key, 1, Integer::sum);
        zones.compute(
                key,
                (k, z) -> new Zone(
                        k.cluster(),
                        k.replica(),
                        true,
                        false,
                        clock.instant(),
                        z == null ? Optional.empty() : z.lastEcho(),
                        z == null ? Map.of() : z.applied(),
                        z == null ? Map.of() : z.refused(),
                        z == null ? List.of() : z.nodes(),
                        Duration.ZERO,
                        zoneVersion,
                        centralReplica));
        shared.ifPresent(s -> s.connected(key, zoneVersion));
        Gauge.builder("meshguard_xds_zone_revision_lag_seconds", this, b -> b.zone(key)
                        .map(z -> z.lag().toMillis() / 1000.0)
                        .orElse(0.0))
                .description("Age of the oldest revision sent to the zone replica that it has not echoed as applied")
                .tag("cluster", key.cluster())
                .tag("replica", key.replica())
                .register(meters);
    }

    void echoed(Key key, ZoneProto.Echo echo, Duration lag) {
        zones.computeIfPresent(
                key,
                (k, z) -> new Zone(
                        k.cluster(),
                        k.replica(),
                        z.connected(),
                        false,
                        z.since(),
                        Optional.of(clock.instant()),
                        echo.getAppliedMap(),
                        echo.getRefusedMap(),
                        echo.getNodesList(),
                        lag,
                        z.zoneVersion(),
                        centralReplica));
        shared.ifPresent(s -> s.echoed(key, echo, lag));
    }

    void lag(Key key, Duration lag) {
        zones.computeIfPresent(
                key,
                (k, z) -> new Zone(
                        k.cluster(),
                        k.replica(),
                        z.connected(),
                        z.stale(),
                        z.since(),
                        z.lastEcho(),
                        z.applied(),
                        z.refused(),
                        z.nodes(),
                        lag,
                        z.zoneVersion(),
                        centralReplica));
    }

    void stale(Key key) {
        zones.computeIfPresent(
                key,
                (k, z) -> new Zone(
                        k.cluster(),
                        k.replica(),
                        z.connected(),
                        true,
                        z.since(),
                        z.lastEcho(),
                        z.applied(),
                        z.refused(),
                        z.nodes(),
                        z.lag(),
                        z.zoneVersion(),
                        centralReplica));
    }

    void disconnected(Key key) {
        int left = streams.merge(key, -1, Integer::sum);
        if (left <= 0) {
            streams.remove(key);
            zones.computeIfPresent(
                    key,
                    (k, z) -> new Zone(
                            k.cluster(),
                            k.replica(),
                            false,
                            z.stale(),
                            clock.instant(),
                            z.lastEcho(),
                            z.applied(),
                            z.refused(),
                            z.nodes(),
                            z.lag(),
                            z.zoneVersion(),
                            centralReplica));
            shared.ifPresent(s -> s.disconnected(key));
        }
    }

    /** A second hello of a zone replica closed its first stream (a copied credential, or a duplicated pod). */
    void takenOver() {
        takeovers.increment();
    }

    void refused(ZoneRegistry.Refusal reason) {
        refusals(reason).increment();
    }

    private Counter refusals(ZoneRegistry.Refusal reason) {
        return Counter.builder("meshguard_xds_zone_registration_failures_total")
                .description("Registration tokens and zone credentials refused, by reason")
                .tag("reason", reason.name().toLowerCase(java.util.Locale.ROOT))
                .register(meters);
    }

    public Optional<Zone> zone(Key key) {
        return Optional.ofNullable(zones.get(key));
    }

    /** The cluster's first zone replica by name that streams to this central replica (tests of one replica). */
    public Optional<Zone> zone(String cluster) {
        return replicas(cluster).stream().findFirst();
    }

    /** The cluster's zone replicas that stream (or streamed) to this central replica, by name. */
    public List<Zone> replicas(String cluster) {
        return zones().stream().filter(z -> z.cluster().equals(cluster)).toList();
    }

    /** Every zone replica central has heard from since it started, by cluster id and replica. */
    public List<Zone> zones() {
        return zones.values().stream()
                .sorted(Comparator.comparing(Zone::cluster).thenComparing(Zone::replica))
                .toList();
    }

    private double count(java.util.function.Predicate<Zone> p) {
        return zones.values().stream().filter(p).count();
    }
}
