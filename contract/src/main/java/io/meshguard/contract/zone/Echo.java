package io.meshguard.contract.zone;

import java.util.List;
import java.util.Map;

/**
 * The zone's liveness above the transport: what it applied and what each of its nodes runs. Central marks a stream
 * stale after three missed echoes even while gRPC keepalives pass (a stream cut at an HTTP/2 proxy keeps its
 * TCP connection alive).
 *
 * @param sequence increases by one per echo on a stream
 * @param applied the revision the zone serves per gateway group
 * @param refused revisions the zone could not serve, per group, with the reason (it keeps serving the previous one)
 * @param nodes every node the zone has seen
 */
public record Echo(long sequence, Map<String, Long> applied, Map<String, String> refused, List<NodeReport> nodes) {
    public Echo {
        applied = applied == null ? Map.of() : Map.copyOf(applied);
        refused = refused == null ? Map.of() : Map.copyOf(refused);
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
    }
}
