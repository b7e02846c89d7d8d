package io.meshguard.xds.store;

import io.meshguard.audit.trail.AdminTrailEntry;
import io.meshguard.audit.trail.AdminTrailVerifier;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * A revision row as one SHA-256: its id, group, actor, reason and time, its {@code content} and the digests of the
 * parts it names. The transaction that stores a revision appends its seal to the admin trail ({@value #ACTION}, the
 * row's after-digest), and {@code meshguard audit verify} works it out again from the row ({@link #CHECK}). Someone
 * who can write the database and disables the revision table's trigger to point a revision at other parts (an older
 * route, say), or to change its groups, APIs or who published it, changes the seal; someone who inserts a revision
 * leaves it without a trail row. The trail's hash chain and signed checkpoints keep the recorded seals.
 */
public final class RevisionSeal {
    /** The admin-trail action of a stored revision; its target is {@code revision/ID}. */
    public static final String ACTION = "revision-stored";

    /**
     * The SQL of a revision row's {@code content_sha256} (PostgreSQL's SHA-256 of its {@code content} text, what the
     * seal covers), for the row aliased {@code r}: the store's insert and reads and the verifier use this one spelling.
     */
    static final String CONTENT_SHA256 = "sha256(convert_to(r.content::text, 'UTF8')) as content_sha256";

    /**
     * The part digests a revision row {@code r} names, as {@code x.upstream_parts}, {@code x.route_parts} and
     * {@code x.api_parts}: its own arrays (V75), or its chunks' parts in order (V77, APIs since V78; a chunk gone from
     * the table drops its parts, so the seal no longer matches), or null for what the revision keeps in
     * {@code content}. A FROM item after the row.
     */
    static final String PART_DIGESTS = """
            cross join lateral (select %s as upstream_parts, %s as route_parts, %s as api_parts) x""".formatted(
            expanded("upstream", "r.upstream_parts"), expanded("route", "r.route_parts"), expanded("api", "null"));

    private static String expanded(String kind, String ownArray) {
        return """
                coalesce(%2$s, case when r.%1$s_chunks is not null then coalesce(
                    (select array_agg(p.digest order by c.n, p.m)
                       from unnest(r.%1$s_chunks) with ordinality as c(digest, n)
                       join config_revision_chunk k on k.digest = c.digest
                       cross join lateral unnest(k.parts) with ordinality as p(digest, m)),
                    array[]::bytea[]) end)""".formatted(kind, ownArray);
    }

    private static final byte[] DOMAIN = "meshguard revision seal v1".getBytes(StandardCharsets.UTF_8);

    /**
     * A revision row as stored; {@code contentSha256} is PostgreSQL's SHA-256 of {@code content}'s text.
     * {@code apiParts} is empty for a revision that keeps its APIs in {@code content} (before V78).
     */
    record Row(
            long id,
            String group,
            String createdBy,
            Optional<String> reason,
            Instant createdAt,
            byte[] contentSha256,
            Optional<byte[][]> upstreamParts,
            Optional<byte[][]> routeParts,
            Optional<byte[][]> apiParts) {

        /**
         * The row at {@code rs}'s cursor, by column label: {@code id}, {@code group_name}, {@code created_by},
         * {@code reason}, {@code created_at}, {@code content_sha256}, {@code upstream_parts}, {@code route_parts},
         * {@code api_parts}.
         */
        static Row read(ResultSet rs) throws SQLException {
            return new Row(
                    rs.getLong("id"),
                    rs.getString("group_name"),
                    rs.getString("created_by"),
                    Optional.ofNullable(rs.getString("reason")),
                    rs.getTimestamp("created_at").toInstant(),
                    rs.getBytes("content_sha256"),
                    digests(rs.getArray("upstream_parts")),
                    digests(rs.getArray("route_parts")),
                    digests(rs.getArray("api_parts")));
        }
    }

    private RevisionSeal() {}

    /** The seal of {@code row}, hex. */
    static String of(Row row) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        // each field length-prefixed: no two rows encode alike
        field(sha, DOMAIN);
        field(sha, Long.toString(row.id()).getBytes(StandardCharsets.UTF_8));
        field(sha, row.group().getBytes(StandardCharsets.UTF_8));
        field(sha, row.createdBy().getBytes(StandardCharsets.UTF_8));
        if (row.reason().isPresent()) {
            field(sha, row.reason().get().getBytes(StandardCharsets.UTF_8));
        } else {
            sha.update(ByteBuffer.allocate(4).putInt(-1).array());
        }
        field(sha, row.createdAt().toString().getBytes(StandardCharsets.UTF_8));
        field(sha, row.contentSha256());
        digests(sha, row.upstreamParts());
        digests(sha, row.routeParts());
        // after the rest, and only when present: a revision with its APIs in content seals as it did before V78
        if (row.apiParts().isPresent()) {
            digests(sha, row.apiParts());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void field(MessageDigest sha, byte[] bytes) {
        sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
        sha.update(bytes);
    }

    /** The count (-1 for none), then each digest length-prefixed, in one call: ~3,000 digests per publish. */
    private static void digests(MessageDigest sha, Optional<byte[][]> parts) {
        byte[][] all = parts.orElse(new byte[0][]);
        int size = 4;
        for (byte[] d : all) {
            size += 4 + d.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).putInt(parts.isPresent() ? all.length : -1);
        for (byte[] d : all) {
            out.putInt(d.length).put(d);
        }
        sha.update(out.array());
    }

    /** The trail row recording a revision's seal; it commits with the revision. */
    static AdminTrailEntry entry(Row row, String seal) {
        return new AdminTrailEntry(
                Instant.now(),
                row.createdBy(),
                "xds-controller",
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                ACTION,
                "revision/" + row.id(),
                "group " + row.group(),
                Optional.empty(),
                Optional.of(seal),
                Map.of("group", row.group()));
    }

    /**
     * Checks every revision against the seal the trail recorded for it. Revisions older than the oldest recorded one
     * are not checked (written before seals, or their trail rows dropped by retention); every later one must have
     * exactly one record and match it.
     */
    public static final AdminTrailVerifier.RecordedRows CHECK = RevisionSeal::firstBad;

    private record Recorded(long seq, String seal) {}

    private static Optional<AdminTrailVerifier.Finding> firstBad(Connection c) throws SQLException {
        Map<Long, Recorded> recorded = new HashMap<>();
        try (PreparedStatement ps =
                c.prepareStatement("select seq, target, after_digest from admin_trail where action = ? order by seq")) {
            ps.setString(1, ACTION);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long seq = rs.getLong(1);
                    String target = rs.getString(2);
                    if (!target.matches("revision/[0-9]{1,18}") || rs.getString(3) == null) {
                        return Optional.of(new AdminTrailVerifier.Finding(
                                seq,
                                AdminTrailVerifier.Problem.RECORD_ALTERED,
                                "row " + seq + " records no revision and seal ('" + target + "')"));
                    }
                    long id = Long.parseLong(target.substring("revision/".length()));
                    if (recorded.put(id, new Recorded(seq, rs.getString(3))) != null) {
                        return Optional.of(new AdminTrailVerifier.Finding(
                                seq,
                                AdminTrailVerifier.Problem.RECORD_UNTRAILED,
                                "revision " + id + " is recorded as stored twice (row " + seq
                                        + "): a revision was put in under a taken id"));
                    }
                }
            }
        }
        if (recorded.isEmpty()) {
            return Optional.empty();
        }
        long oldest =
                recorded.keySet().stream().mapToLong(Long::longValue).min().orElseThrow();
        try (PreparedStatement ps = c.prepareStatement("""
                select r.id, g.name as group_name, r.created_by, r.reason, r.created_at, %s,
                       x.upstream_parts, x.route_parts, x.api_parts
                from config_revision r join gateway_group g on g.id = r.group_id
                %s
                where r.id >= ? order by r.id""".formatted(CONTENT_SHA256, PART_DIGESTS))) {
            ps.setLong(1, oldest);
            ps.setFetchSize(500);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Row row = Row.read(rs);
                    Recorded r = recorded.remove(row.id());
                    if (r == null) {
                        return Optional.of(new AdminTrailVerifier.Finding(
                                0,
                                AdminTrailVerifier.Problem.RECORD_UNTRAILED,
                                "revision " + row.id() + " of group " + row.group() + " (by " + row.createdBy()
                                        + ", " + row.createdAt() + ") has no " + ACTION
                                        + " row in the trail: it was written into the database by hand"));
                    }
                    if (!of(row).equals(r.seal())) {
                        return Optional.of(new AdminTrailVerifier.Finding(
                                r.seq(),
                                AdminTrailVerifier.Problem.RECORD_ALTERED,
                                "revision " + row.id() + " of group " + row.group()
                                        + " no longer matches the seal row " + r.seq()
                                        + " recorded: its content, the parts it names, its actor, reason or time"
                                        + " were changed after it was published"));
                    }
                }
            }
        }
        return recorded.entrySet().stream()
                .min(Map.Entry.comparingByKey())
                .map(gone -> new AdminTrailVerifier.Finding(
                        gone.getValue().seq(),
                        AdminTrailVerifier.Problem.RECORD_REMOVED,
                        "revision " + gone.getKey() + ", recorded at row "
                                + gone.getValue().seq() + ", is gone"));
    }

    private static Optional<byte[][]> digests(Array array) throws SQLException {
        if (array == null) {
            return Optional.empty();
        }
        Object[] values = (Object[]) array.getArray();
        byte[][] out = new byte[values.length][];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte[]) values[i];
        }
        return Optional.of(out);
    }
}
