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
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
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
                c.commit();
                return new Revision(id, group, slice, actor, reason, createdAt);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("cannot store a revision of group '" + group + "': " + e.getMessage(), e);
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
