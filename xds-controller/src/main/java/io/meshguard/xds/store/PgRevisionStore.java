package io.meshguard.xds.store;

import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Revisions in {@code config_revision} (immutable rows; a trigger refuses updates). Each append sends
 * {@code NOTIFY meshguard_xds_publish} in the same transaction, so other replicas serve it as soon as it commits.
 */
public final class PgRevisionStore implements RevisionStore {
    /** The PostgreSQL notification channel that announces new revisions. */
    public static final String CHANNEL = "meshguard_xds_publish";

    private final DataSource dataSource;

    public PgRevisionStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public Revision append(String group, GatewayConfig slice, String actor, String reason) {
        return prepare(Map.of(group, slice), actor, reason).commit().get(group);
    }

    /**
     * Inserts the revisions and their {@code NOTIFY}s in one transaction left open until {@code commit} (one
     * connection held meanwhile): PostgreSQL takes in the content while the caller validates, and other replicas
     * see the revisions, and hear of them, only at the commit. Their ids are taken at once; an aborted prepare
     * leaves a gap in the ids, nothing else.
     */
    @Override
    public Pending prepare(Map<String, GatewayConfig> slices, String actor, String reason) {
        Connection c = null;
        try {
            c = dataSource.getConnection();
            c.setAutoCommit(false);
            Map<String, Revision> written = new LinkedHashMap<>();
            for (Map.Entry<String, GatewayConfig> e : slices.entrySet()) {
                written.put(e.getKey(), insert(c, e.getKey(), e.getValue(), actor, reason));
            }
            return new OpenRevisions(c, written);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c, true);
            throw new StoreException(
                    "cannot store a revision of group(s) " + slices.keySet() + ": " + e.getMessage(), e);
        }
    }

    private static Revision insert(Connection c, String group, GatewayConfig slice, String actor, String reason)
            throws SQLException {
        long id;
        java.time.Instant createdAt;
        try (PreparedStatement ps = c.prepareStatement("""
                insert into config_revision (group_id, created_by, reason, content)
                values ((select id from gateway_group where name = ?), ?, ?, ?::json)
                returning id, created_at""")) {
            ps.setString(1, group);
            ps.setString(2, actor);
            ps.setString(3, reason);
            ps.setString(4, ConfigJson.write(slice));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
                createdAt = rs.getTimestamp(2).toInstant();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("select pg_notify(?, ?)")) {
            ps.setString(1, CHANNEL);
            ps.setString(2, Long.toString(id));
            ps.execute();
        }
        return new Revision(id, group, slice, actor, reason, createdAt);
    }

    /** A transaction holding written revisions; its connection is returned to the pool by commit or abort. */
    private static final class OpenRevisions implements Pending {
        private final Connection connection;
        private final Map<String, Revision> written;
        private boolean open = true;

        OpenRevisions(Connection connection, Map<String, Revision> written) {
            this.connection = connection;
            this.written = java.util.Collections.unmodifiableMap(written);
        }

        @Override
        public synchronized Map<String, Revision> commit() {
            if (!open) {
                throw new IllegalStateException("these revisions were already committed or aborted");
            }
            open = false;
            try {
                connection.commit();
                closeQuietly(connection, false);
                return written;
            } catch (SQLException e) {
                closeQuietly(connection, true);
                throw new StoreException(
                        "cannot store a revision of group(s) " + written.keySet() + ": " + e.getMessage(), e);
            }
        }

        @Override
        public synchronized void abort() {
            if (open) {
                open = false;
                closeQuietly(connection, true);
            }
        }
    }

    private static void closeQuietly(Connection c, boolean rollback) {
        if (c == null) {
            return;
        }
        try (c) {
            if (rollback) {
                c.rollback();
            }
        } catch (SQLException ignored) {
            // the pool discards a connection that failed; the transaction ends with it
        }
    }

    @Override
    public Optional<Revision> get(long id) {
        try (Connection c = dataSource.getConnection()) {
            return get(c, id);
        } catch (SQLException e) {
            throw new StoreException("cannot read revision " + id, e);
        }
    }

    private static Optional<Revision> get(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " where r.id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(revision(rs)) : Optional.empty();
            }
        }
    }

    @Override
    public Map<String, Revision> latestPerGroup() {
        Map<String, Revision> out = new LinkedHashMap<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(SELECT
                        + " where r.id in (select max(id) from config_revision group by group_id) order by g.name");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Revision r = revision(rs);
                out.put(r.group(), r);
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("cannot read the latest revisions", e);
        }
    }

    @Override
    public Map<String, Long> latestIds() {
        Map<String, Long> out = new LinkedHashMap<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                        select g.name, max(r.id) from config_revision r join gateway_group g on g.id = r.group_id
                        group by g.name order by g.name""");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("cannot read the latest revision ids", e);
        }
    }

    /** The id of the newest revision of any group (0 when none): a cheap "did anything change?" for reconciling. */
    public long newestId() {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("select coalesce(max(id), 0) from config_revision");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new StoreException("cannot read the newest revision id", e);
        }
    }

    @Override
    public List<Revision.Summary> list(Optional<String> group, int limit) {
        List<Revision.Summary> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                        select r.id, g.name, r.created_by, r.reason, r.created_at
                        from config_revision r join gateway_group g on g.id = r.group_id
                        where (?::varchar is null or g.name = ?) order by r.id desc limit ?""")) {
            ps.setString(1, group.orElse(null));
            ps.setString(2, group.orElse(null));
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Revision.Summary(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getString(4) == null ? "" : rs.getString(4),
                            rs.getTimestamp(5).toInstant()));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("cannot list revisions", e);
        }
    }

    private static final String SELECT = """
            select r.id, g.name, r.content, r.created_by, r.reason, r.created_at
            from config_revision r join gateway_group g on g.id = r.group_id""";

    private static Revision revision(ResultSet rs) throws SQLException {
        return new Revision(
                rs.getLong(1),
                rs.getString(2),
                ConfigJson.readConfig(rs.getString(3)),
                rs.getString(4),
                rs.getString(5) == null ? "" : rs.getString(5),
                rs.getTimestamp(6).toInstant());
    }
}
