package io.meshguard.xds.server;

import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes node status changes to {@code node_status} off the ADS threads. Changes of one node coalesce: only its
 * latest status is written, so a burst of ACKs costs one row update. Reading gives the view of every replica.
 */
public final class PgNodeStatusWriter implements Fleet.Sink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgNodeStatusWriter.class);

    private final DataSource dataSource;
    private final String controller;
    private final Map<NodeStatus.Key, NodeStatus> pending = new LinkedHashMap<>();
    private final ExecutorService writer = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("xds-node-status").daemon().factory());

    public PgNodeStatusWriter(DataSource dataSource, String controller) {
        this.dataSource = dataSource;
        this.controller = controller;
    }

    @Override
    public void changed(NodeStatus status) {
        boolean schedule;
        synchronized (pending) {
            schedule = pending.isEmpty();
            pending.put(status.key(), status);
        }
        if (schedule) {
            writer.execute(this::flush);
        }
    }

    private void flush() {
        List<NodeStatus> batch;
        synchronized (pending) {
            batch = new ArrayList<>(pending.values());
            pending.clear();
        }
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                        insert into node_status (node_id, peer_identity, group_name, connected, acked_versions, last_nack_type_url,
                            last_nack_version, last_nack_error, last_nack_at, last_seen, streams, user_agent,
                            revision_id, controller)
                        values (?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        on conflict (peer_identity, node_id) do update set group_name = excluded.group_name,
                            connected = excluded.connected, acked_versions = excluded.acked_versions,
                            last_nack_type_url = excluded.last_nack_type_url,
                            last_nack_version = excluded.last_nack_version,
                            last_nack_error = excluded.last_nack_error, last_nack_at = excluded.last_nack_at,
                            last_seen = excluded.last_seen, streams = excluded.streams,
                            user_agent = excluded.user_agent, revision_id = excluded.revision_id,
                            controller = excluded.controller""")) {
            for (NodeStatus s : batch) {
                int i = 1;
                ps.setString(i++, s.nodeId());
                ps.setString(i++, s.peerIdentity());
                ps.setString(i++, s.group());
                ps.setBoolean(i++, s.connected());
                ps.setString(i++, ConfigJson.write(s.ackedVersions()));
                ps.setString(i++, s.lastNack().map(NodeStatus.Nack::typeUrl).orElse(null));
                ps.setString(i++, s.lastNack().map(NodeStatus.Nack::version).orElse(null));
                ps.setString(i++, s.lastNack().map(NodeStatus.Nack::error).orElse(null));
                ps.setTimestamp(
                        i++, s.lastNack().map(n -> Timestamp.from(n.at())).orElse(null));
                ps.setTimestamp(i++, Timestamp.from(s.lastSeen()));
                ps.setInt(i++, s.streams());
                ps.setString(i++, s.userAgent());
                ps.setObject(i++, s.revision().orElse(null));
                ps.setString(i, controller);
                ps.addBatch();
            }
            ps.executeBatch();
        } catch (SQLException e) {
            // the live view keeps working; the table catches up with the node's next change
            log.warn("cannot record the status of {} node(s): {}", batch.size(), e.getMessage());
        }
    }

    /** Every node any replica has recorded, sorted by node id. */
    public List<NodeStatus> all() {
        List<NodeStatus> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                        select node_id, group_name, connected, streams, user_agent, acked_versions::text, revision_id,
                               last_nack_type_url, last_nack_version, last_nack_error, last_nack_at, last_seen,
                               peer_identity
                        from node_status order by node_id, peer_identity""");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                @SuppressWarnings("unchecked")
                Map<String, String> acked = ConfigJson.read(rs.getString(6), Map.class);
                long rev = rs.getLong(7);
                Optional<Long> revision = rs.wasNull() ? Optional.empty() : Optional.of(rev);
                Optional<NodeStatus.Nack> nack = rs.getString(8) == null
                        ? Optional.empty()
                        : Optional.of(new NodeStatus.Nack(
                                rs.getString(8),
                                rs.getString(9),
                                rs.getString(10),
                                rs.getTimestamp(11).toInstant()));
                out.add(new NodeStatus(
                        rs.getString(1),
                        rs.getString(13),
                        rs.getString(2) == null ? "" : rs.getString(2),
                        rs.getBoolean(3),
                        rs.getInt(4),
                        rs.getString(5) == null ? "" : rs.getString(5),
                        acked,
                        revision,
                        nack,
                        rs.getTimestamp(12).toInstant()));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("cannot read node status", e);
        }
    }

    /** Writes what is pending and stops. */
    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
