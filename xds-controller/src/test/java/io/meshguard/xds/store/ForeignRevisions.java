package io.meshguard.xds.store;

import io.meshguard.audit.trail.AdminTrail;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Optional;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;

/**
 * Revision rows as this release's store would not write them, for fault-isolation tests: one written by a newer
 * release (a field or value this release does not know), sealed in the admin trail exactly as the store seals, and
 * one an insider changed behind its trigger.
 */
public final class ForeignRevisions {
    private ForeignRevisions() {}

    /**
     * A new revision of {@code group} made from revision {@code like}: its row's {@code content} rewritten by
     * {@code content}, and, when {@code routePart} is given, its routes replaced by one route part whose JSON is
     * {@code routePart} applied to the JSON of {@code like}'s first route. Parts, chunk and row are stored with
     * their digests, the row sealed in the admin trail and announced, as a newer release's store does.
     */
    public static long sealed(
            DataSource ds,
            String group,
            long like,
            UnaryOperator<String> content,
            Optional<UnaryOperator<String>> routePart)
            throws Exception {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            String json;
            byte[][] upstream;
            byte[][] route;
            byte[][] api;
            String firstRoute;
            try (PreparedStatement ps = c.prepareStatement("""
                    select r.content::text, r.upstream_chunks, r.route_chunks, r.api_chunks,
                           (select p.content::text from config_revision_chunk k
                              join config_revision_part p on p.digest = k.parts[1]
                             where k.digest = r.route_chunks[1])
                    from config_revision r where r.id = ?""")) {
                ps.setLong(1, like);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    json = content.apply(rs.getString(1));
                    upstream = digests(rs.getArray(2));
                    route = digests(rs.getArray(3));
                    api = digests(rs.getArray(4));
                    firstRoute = rs.getString(5);
                }
            }
            if (routePart.isPresent()) {
                String part = routePart.get().apply(firstRoute);
                byte[] partDigest = MessageDigest.getInstance("SHA-256").digest(part.getBytes(StandardCharsets.UTF_8));
                byte[][] parts = {partDigest};
                byte[] chunk = RevisionSeal.chunkDigest(parts);
                try (PreparedStatement ps = c.prepareStatement(
                        "insert into config_revision_part (digest, content) values (?, ?::json) on conflict do nothing")) {
                    ps.setBytes(1, partDigest);
                    ps.setString(2, part);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "insert into config_revision_chunk (digest, parts) values (?, ?) on conflict do nothing")) {
                    ps.setBytes(1, chunk);
                    ps.setArray(2, c.createArrayOf("bytea", parts));
                    ps.executeUpdate();
                }
                route = new byte[][] {chunk};
            }
            long id;
            java.time.Instant createdAt;
            byte[] contentSha256;
            try (PreparedStatement ps = c.prepareStatement("""
                    insert into config_revision as r
                        (group_id, created_by, reason, content, upstream_chunks, route_chunks, api_chunks)
                    values ((select id from gateway_group where name = ?), 'newer-release', 'written by a newer release',
                            ?::json, ?, ?, ?)
                    returning id, created_at, %s""".formatted(RevisionSeal.CONTENT_SHA256))) {
                ps.setString(1, group);
                ps.setString(2, json);
                ps.setArray(3, c.createArrayOf("bytea", upstream));
                ps.setArray(4, c.createArrayOf("bytea", route));
                ps.setArray(5, c.createArrayOf("bytea", api));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                    createdAt = rs.getTimestamp(2).toInstant();
                    contentSha256 = rs.getBytes(3);
                }
            }
            RevisionSeal.Row row = new RevisionSeal.Row(
                    id,
                    group,
                    "newer-release",
                    Optional.of("written by a newer release"),
                    createdAt,
                    contentSha256,
                    new RevisionSeal.Chunks(upstream, route, api));
            AdminTrail.appendWithin(c, RevisionSeal.entry(row, RevisionSeal.ofChunks(row)));
            try (PreparedStatement ps = c.prepareStatement("select pg_notify(?, ?)")) {
                ps.setString(1, PgRevisionStore.CHANNEL);
                ps.setString(2, Long.toString(id));
                ps.execute();
            }
            c.commit();
            return id;
        }
    }

    /** An insider with the owner's rights changes a stored revision's reason behind its trigger: its seal breaks. */
    public static void reasonChangedBehindTheTrigger(DataSource ds, long id) throws Exception {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            st.execute("alter table config_revision disable trigger config_revision_immutable");
            try {
                st.execute("update config_revision set reason = 'nothing to see' where id = " + id);
            } finally {
                st.execute("alter table config_revision enable trigger config_revision_immutable");
            }
        }
    }

    private static byte[][] digests(java.sql.Array array) throws java.sql.SQLException {
        Object[] values = (Object[]) array.getArray();
        byte[][] out = new byte[values.length][];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte[]) values[i];
        }
        return out;
    }
}
