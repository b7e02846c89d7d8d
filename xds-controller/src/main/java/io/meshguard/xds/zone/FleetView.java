package io.meshguard.xds.zone;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.xds.model.ConfigJson;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code GET /v1/operator/fleet}: clusters → groups → nodes. Per cluster its zone's link (connected while any of its
 * replicas is, stale, lag) and every zone replica's own link (V67: one row per replica, not per cluster); per group the
 * revision central published and the lowest one the replicas applied; per node (of every replica, named with it) the
 * revision it ACKed, whether that is drift, and a staleness from when it was last seen and whether its replica echoes.
 */
public final class FleetView {
    /** A node not heard of for this long, while disconnected, is shown as gone. */
    static final Duration GONE_AFTER = Duration.ofMinutes(10);

    private final Supplier<List<Cluster>> clusters;
    private final Function<String, ZoneRegistry.ClusterGroups> groups;
    private final Supplier<Map<String, Long>> published;
    private final Supplier<List<ZoneBoard.Zone>> zones;
    private final Function<String, Optional<Instant>> revokedAt;
    private final Clock clock;

    /**
     * @param published central's newest revision id per group
     * @param zones the zone streams as every central replica wrote them ({@link ZoneStreams#zones()})
     * @param revokedAt when a cluster's zone was revoked
     */
    public FleetView(
            Supplier<List<Cluster>> clusters,
            Function<String, ZoneRegistry.ClusterGroups> groups,
            Supplier<Map<String, Long>> published,
            Supplier<List<ZoneBoard.Zone>> zones,
            Function<String, Optional<Instant>> revokedAt,
            Clock clock) {
        this.clusters = clusters;
        this.groups = groups;
        this.published = published;
        this.zones = zones;
        this.revokedAt = revokedAt;
        this.clock = clock;
    }

    public ObjectNode render() {
        Instant now = clock.instant();
        Map<String, Long> latest = published.get();
        Map<String, List<ZoneBoard.Zone>> byCluster =
                zones.get().stream().collect(java.util.stream.Collectors.groupingBy(ZoneBoard.Zone::cluster));
        ObjectNode out = ConfigJson.mapper().createObjectNode();
        ArrayNode list = out.putArray("clusters");
        long connected = 0;
        long stale = 0;
        long drifted = 0;
        for (Cluster c : clusters.get()) {
            List<ZoneBoard.Zone> replicas = byCluster.getOrDefault(c.id(), List.of());
            ObjectNode cn = list.addObject()
                    .put("id", c.id())
                    .put("region", c.region())
                    .put("provider", c.provider().orElse(""));
            ArrayNode caps = cn.putArray("capabilities");
            new TreeSet<>(c.capabilities()).forEach(caps::add);
            long live = replicas.stream().filter(ZoneBoard.Zone::live).count();
            boolean anyStale = replicas.stream().anyMatch(ZoneBoard.Zone::stale);
            ObjectNode zn = cn.putObject("zone");
            Optional<Instant> revoked = revokedAt.apply(c.id());
            zn.put("revoked", revoked.isPresent());
            revoked.ifPresent(r -> zn.put("revoked_at", r.toString()));
            // the cluster follows central while any of its replicas does; stale when none does and one went silent
            zn.put("connected", live > 0);
            zn.put("stale", live == 0 && anyStale);
            zn.put("replicas", replicas.size()).put("replicas_connected", live);
            zn.put(
                    "revision_lag_seconds",
                    replicas.stream()
                            .filter(ZoneBoard.Zone::live)
                            .mapToLong(z -> z.lag().toSeconds())
                            .max()
                            .orElse(0));
            connected += live;
            stale += replicas.stream().filter(ZoneBoard.Zone::stale).count();
            ArrayNode rl = cn.putArray("replicas");
            for (ZoneBoard.Zone z : replicas) {
                ObjectNode rn = rl.addObject()
                        .put("name", z.replica())
                        .put("connected", z.connected())
                        .put("stale", z.stale())
                        .put("since", z.since().toString());
                z.lastEcho().ifPresent(e -> rn.put("last_echo", e.toString())
                        .put("last_echo_seconds_ago", Duration.between(e, now).toSeconds()));
                rn.put("revision_lag_seconds", z.lag().toSeconds())
                        .put("zone_version", z.zoneVersion())
                        .put("central_replica", z.centralReplica())
                        .put("nodes", z.nodes().size());
                ObjectNode applied = rn.putObject("applied");
                new java.util.TreeMap<>(z.applied()).forEach(applied::put);
            }
            ArrayNode gl = cn.putArray("groups");
            ZoneRegistry.ClusterGroups cg = groups.apply(c.id());
            for (String g : cg.serving()) {
                ObjectNode gn = gl.addObject().put("name", g);
                Optional.ofNullable(latest.get(g)).ifPresent(r -> gn.put("published_revision", r));
                // what every replica that reports the group applied at least: a lagging replica shows, not hides
                replicas.stream()
                        .map(z -> z.applied().get(g))
                        .filter(java.util.Objects::nonNull)
                        .min(Long::compare)
                        .ifPresent(r -> gn.put("applied_revision", r));
                replicas.stream()
                        .map(z -> z.refused().get(g))
                        .filter(java.util.Objects::nonNull)
                        .findFirst()
                        .ifPresent(r -> gn.put("refused", r));
                ArrayNode nl = gn.putArray("nodes");
                for (ZoneBoard.Zone z : replicas) {
                    for (ZoneProto.NodeReport n : z.nodes()) {
                        if (!n.getGroup().equals(g)) {
                            continue;
                        }
                        ObjectNode nn = nl.addObject()
                                .put("id", n.getNodeId())
                                .put("replica", z.replica())
                                .put("client", n.getClient())
                                .put("connected", n.getConnected());
                        if (n.hasRevision()) {
                            nn.put("revision", n.getRevision());
                        }
                        if (n.hasExpected()) {
                            nn.put("expected_revision", n.getExpected());
                        }
                        nn.put("drift", NodeReports.drifted(n));
                        if (n.hasNack()) {
                            nn.put("last_nack", n.getNack());
                        }
                        Instant lastSeen = NodeReports.lastSeen(n);
                        nn.put("last_seen", lastSeen.toString())
                                .put(
                                        "last_seen_seconds_ago",
                                        Duration.between(lastSeen, now).toSeconds())
                                .put("staleness", staleness(z.live(), n, now));
                        if (NodeReports.drifted(n)) {
                            drifted++;
                        }
                    }
                }
            }
            ArrayNode wl = cn.putArray("withdrawn_groups");
            cg.withdrawn().forEach(wl::add);
        }
        out.putObject("summary")
                .put("clusters", list.size())
                .put("zones_connected", connected)
                .put("zones_stale", stale)
                .put("drifted_nodes", drifted);
        return out;
    }

    /**
     * {@code live}: connected, reported by a zone that echoes; {@code unverified}: what a zone that stopped echoing
     * last said; {@code disconnected}: the node left within {@link #GONE_AFTER}; {@code gone}: longer ago.
     */
    static String staleness(boolean zoneLive, ZoneProto.NodeReport n, Instant now) {
        if (!zoneLive) {
            return "unverified";
        }
        if (n.getConnected()) {
            return "live";
        }
        return Duration.between(NodeReports.lastSeen(n), now).compareTo(GONE_AFTER) > 0 ? "gone" : "disconnected";
    }
}
