package io.meshguard.xds.zone;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.meshguard.contract.zone.v1.ZoneProto;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The zone streams as every central replica sees them (table {@code zone_stream}, V50; one row per zone replica since
 * V67): the central replica holding a zone replica's stream writes what it echoed; {@code /v1/operator/fleet} on any replica reads it. Staleness is worked out
 * at read time from the last echo, never stored: a replica that dies leaves its rows saying connected, and their
 * echoes age into stale on the replicas that remain.
 */
public final class ZoneStreams implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ZoneStreams.class);
    private static final TypeReference<Map<String, Long>> APPLIED = new TypeReference<>() {};
    private static final TypeReference<Map<String, String>> REFUSED = new TypeReference<>() {};

    private final DataSource dataSource;
    private final String replica;
    private final Duration staleAfter;
    private final Clock clock;
    /** One writer, in order: a stream's thread never waits on the database for the fleet view. */
    private final ExecutorService writer = Executors.newSingleThreadExecutor(
            Thread.ofVirtual().name("zone-streams-writer").factory());
    /** The newest echo per zone replica not written yet: a slow database writes the latest, not a backlog. */
    private final Map<ZoneBoard.Key, Runnable> echoes = new ConcurrentHashMap<>();

    /**
     * @param replica this central replica's name, written beside the streams it holds
     * @param staleAfter a zone not echoed for this long is stale (three echo intervals)
     */
    public ZoneStreams(DataSource dataSource, String replica, Duration staleAfter, Clock clock) {
        this.dataSource = dataSource;
        this.replica = replica;
        this.staleAfter = staleAfter;
        this.clock = clock;
    }

    public String replica() {
        return replica;
    }

    /** A zone replica opened its stream on this central replica (it takes the row over from any that held it). */
    void connected(ZoneBoard.Key zone, String zoneVersion) {
        Instant now = clock.instant();
        later(() -> write(
                "insert into zone_stream (cluster_id, replica, central_replica, connected, since,"
                        + " zone_version) values (?, ?, ?, true, ?, ?) on conflict (cluster_id, replica) do update set"
                        + " central_replica = excluded.central_replica, connected = true, since = excluded.since,"
                        + " zone_version = excluded.zone_version",
                ps -> {
                    ps.setString(1, zone.cluster());
                    ps.setString(2, zone.replica());
                    ps.setString(3, replica);
                    ps.setTimestamp(4, Timestamp.from(now));
                    ps.setString(5, zoneVersion);
                }));
    }

    /** What the zone echoed, on the stream this replica holds. */
    void echoed(ZoneBoard.Key zone, ZoneProto.Echo echo, Duration lag) {
        Instant now = clock.instant();
        Runnable write = () -> write(
                "update zone_stream set last_echo = ?, applied = ?::jsonb, refused = ?::jsonb, nodes = ?::jsonb,"
                        + " drifted_nodes = ?, lag_ms = ? where cluster_id = ? and replica = ? and central_replica = ?",
                ps -> {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setString(2, json(echo.getAppliedMap()));
                    ps.setString(3, json(echo.getRefusedMap()));
                    ps.setString(4, NodeReports.json(echo.getNodesList()));
                    ps.setInt(5, (int) echo.getNodesList().stream()
                            .filter(NodeReports::drifted)
                            .count());
                    ps.setLong(6, lag.toMillis());
                    ps.setString(7, zone.cluster());
                    ps.setString(8, zone.replica());
                    ps.setString(9, replica);
                });
        if (echoes.put(zone, write) == null) {
            later(() -> {
                Runnable newest = echoes.remove(zone);
                if (newest != null) {
                    newest.run();
                }
            });
        }
    }

    /** The stream this replica held ended; a row another replica took over since is left alone. */
    void disconnected(ZoneBoard.Key zone) {
        Instant now = clock.instant();
        later(() -> write(
                "update zone_stream set connected = false, since = ? where cluster_id = ? and replica = ?"
                        + " and central_replica = ?",
                ps -> {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setString(2, zone.cluster());
                    ps.setString(3, zone.replica());
                    ps.setString(4, replica);
                }));
    }

    /**
     * Every zone replica any central replica heard from, with {@code stale} computed now: no echo for {@link #staleAfter} (counted
     * from the stream's start when it never echoed). A stale zone is not shown connected.
     */
    public List<ZoneBoard.Zone> zones() {
        Instant now = clock.instant();
        List<ZoneBoard.Zone> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("select cluster_id, central_replica, connected, since,"
                        + " last_echo, applied::text, refused::text, nodes::text, lag_ms, zone_version, replica"
                        + " from zone_stream order by cluster_id, replica");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Instant since = rs.getTimestamp(4).toInstant();
                Optional<Instant> lastEcho =
                        Optional.ofNullable(rs.getTimestamp(5)).map(Timestamp::toInstant);
                boolean stale = Duration.between(lastEcho.orElse(since), now).compareTo(staleAfter) > 0;
                out.add(new ZoneBoard.Zone(
                        rs.getString(1),
                        rs.getString(11),
                        rs.getBoolean(3) && !stale,
                        stale,
                        since,
                        lastEcho,
                        ZoneStream.JSON.readValue(rs.getString(6), APPLIED),
                        ZoneStream.JSON.readValue(rs.getString(7), REFUSED),
                        NodeReports.fromJson(rs.getString(8)),
                        Duration.ofMillis(rs.getLong(9)),
                        rs.getString(10),
                        rs.getString(2)));
            }
        } catch (SQLException | JsonProcessingException e) {
            throw new IllegalStateException("cannot read the zone streams: " + e.getMessage(), e);
        }
        return out;
    }

    /** The cluster's zone replicas, by name. */
    public List<ZoneBoard.Zone> replicas(String cluster) {
        return zones().stream().filter(z -> z.cluster().equals(cluster)).toList();
    }

    private void later(Runnable write) {
        try {
            writer.execute(write);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: the replica's rows age into stale on the others, as a crashed replica's do
        }
    }

    /** Writes what is queued (the disconnects of a closing hub), for at most a few seconds. */
    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    /** A write that fails is logged, not thrown: the stream and the zone's serving never wait on the fleet view. */
    private void write(String sql, Binder binder) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            ps.executeUpdate();
        } catch (SQLException | RuntimeException e) {
            log.warn("zone streams: cannot record ({}): {}", sql.substring(0, sql.indexOf(' ', 8)), e.getMessage());
        }
    }

    private static String json(Object value) {
        try {
            return ZoneStream.JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
