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
import java.util.List;
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

    private static final byte[] DOMAIN_CHUNKS = "meshguard revision seal v2: chunks".getBytes(StandardCharsets.UTF_8);

    /**
     * The chunk digests through which a revision names its upstreams, routes and APIs. A chunk's
     * digest is the SHA-256 of its part digests, so a seal over the chunk digests covers every part as long as each
     * chunk is checked against its digest where the seal is checked.
     */
    record Chunks(byte[][] upstream, byte[][] route, byte[][] api) {
        /** The row's {@code upstream_chunks}, {@code route_chunks} and {@code api_chunks}, when all three are set. */
        static Optional<Chunks> read(ResultSet rs) throws SQLException {
            Optional<byte[][]> upstream = digests(rs.getArray("upstream_chunks"));
            Optional<byte[][]> route = digests(rs.getArray("route_chunks"));
            Optional<byte[][]> api = digests(rs.getArray("api_chunks"));
            return upstream.isPresent() && route.isPresent() && api.isPresent()
                    ? Optional.of(new Chunks(upstream.get(), route.get(), api.get()))
                    : Optional.empty();
        }
    }

    /** A revision row as stored; {@code contentSha256} is PostgreSQL's SHA-256 of {@code content}'s text. */
    record Row(
            long id,
            String group,
            String createdBy,
            Optional<String> reason,
            Instant createdAt,
            byte[] contentSha256,
            Chunks chunks) {

        /**
         * The row at {@code rs}'s cursor, by column label ({@code id}, {@code group_name}, {@code created_by},
         * {@code reason}, {@code created_at}, {@code content_sha256}), with the chunks given.
         */
        static Row read(ResultSet rs, Chunks chunks) throws SQLException {
            return new Row(
                    rs.getLong("id"),
                    rs.getString("group_name"),
                    rs.getString("created_by"),
                    Optional.ofNullable(rs.getString("reason")),
                    rs.getTimestamp("created_at").toInstant(),
                    rs.getBytes("content_sha256"),
                    chunks);
        }
    }

    private RevisionSeal() {}

    /**
     * Whether {@code recorded} is {@code row}'s seal ({@link #ofChunks}; the caller checks each chunk against its
     * digest, so the seal commits to every part).
     */
    static boolean sealedBy(Row row, String recorded) {
        return ofChunks(row).equals(recorded);
    }

    /**
     * A revision's seal, hex: the row and its chunk digests (~1/32 as many as its parts: at 2,000 routes a seal over
     * every part digest was the largest cost left in a revision's write and in another replica's read).
     */
    static String ofChunks(Row row) {
        Chunks chunks = row.chunks();
        MessageDigest sha = header(DOMAIN_CHUNKS, row);
        digests(sha, Optional.of(chunks.upstream()));
        digests(sha, Optional.of(chunks.route()));
        digests(sha, Optional.of(chunks.api()));
        return HexFormat.of().formatHex(sha.digest());
    }

    /** A SHA-256 fed {@code domain} and the row's own fields, each length-prefixed: no two rows encode alike. */
    private static MessageDigest header(byte[] domain, Row row) {
        MessageDigest sha = sha256();
        field(sha, domain);
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
        return sha;
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
     * are not checked (their trail rows dropped by retention); every later one must name its objects through chunks,
     * have exactly one record and match it.
     */
    public static final AdminTrailVerifier.RecordedRows CHECK = RevisionSeal::firstBad;

    /** The admin trail's verifier as every surface runs it: the chain, then the revisions it sealed. */
    public static AdminTrailVerifier trailVerifier(javax.sql.DataSource dataSource) {
        return trailVerifier(dataSource, Optional.empty());
    }

    /**
     * As {@link #trailVerifier(javax.sql.DataSource)}, the chain also checked against {@code ownCheckpoints}: the
     * controller's signed heads, so a head moved back with the newest rows is named where the console and {@code
     * meshguard audit verify} look.
     */
    public static AdminTrailVerifier trailVerifier(
            javax.sql.DataSource dataSource, Optional<AdminTrailVerifier.CheckpointSource> ownCheckpoints) {
        return new AdminTrailVerifier(dataSource, List.of(CHECK), ownCheckpoints);
    }

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
        // the chunks of revisions sealed over them, each with the first revision naming it: checked after the rows
        Map<ByteBuffer, Named> chunks = new java.util.LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                select r.id, g.name as group_name, r.created_by, r.reason, r.created_at, %s,
                       r.upstream_chunks, r.route_chunks, r.api_chunks
                from config_revision r join gateway_group g on g.id = r.group_id
                where r.id >= ? order by r.id""".formatted(CONTENT_SHA256))) {
            ps.setLong(1, oldest);
            ps.setFetchSize(500);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong("id");
                    String group = rs.getString("group_name");
                    Recorded r = recorded.remove(id);
                    if (r == null) {
                        return Optional.of(new AdminTrailVerifier.Finding(
                                0,
                                AdminTrailVerifier.Problem.RECORD_UNTRAILED,
                                "revision " + id + " of group " + group + " (by " + rs.getString("created_by") + ", "
                                        + rs.getTimestamp("created_at").toInstant() + ") has no " + ACTION
                                        + " row in the trail: it was written into the database by hand"));
                    }
                    Optional<Chunks> named = Chunks.read(rs);
                    if (named.isEmpty()) {
                        return Optional.of(new AdminTrailVerifier.Finding(
                                r.seq(),
                                AdminTrailVerifier.Problem.RECORD_ALTERED,
                                "revision " + id + " of group " + group + " does not name its upstreams, routes and"
                                        + " APIs through chunks, as every revision is stored: its row was changed"
                                        + " after it was published, or written by hand"));
                    }
                    Row row = Row.read(rs, named.get());
                    if (ofChunks(row).equals(r.seal())) {
                        Chunks k = row.chunks();
                        for (byte[][] digests : List.of(k.upstream(), k.route(), k.api())) {
                            for (byte[] digest : digests) {
                                chunks.putIfAbsent(ByteBuffer.wrap(digest), new Named(row.id(), row.group(), r.seq()));
                            }
                        }
                    } else {
                        return Optional.of(new AdminTrailVerifier.Finding(
                                r.seq(),
                                AdminTrailVerifier.Problem.RECORD_ALTERED,
                                "revision " + row.id() + " of group " + row.group()
                                        + " no longer matches the seal row " + r.seq()
                                        + " recorded: its content, the chunks it names, its actor, reason or time"
                                        + " were changed after it was published"));
                    }
                }
            }
        }
        Optional<AdminTrailVerifier.Finding> chunkBad = firstBadChunk(c, chunks);
        if (chunkBad.isPresent()) {
            return chunkBad;
        }
        return recorded.entrySet().stream()
                .min(Map.Entry.comparingByKey())
                .map(gone -> new AdminTrailVerifier.Finding(
                        gone.getValue().seq(),
                        AdminTrailVerifier.Problem.RECORD_REMOVED,
                        "revision " + gone.getKey() + ", recorded at row "
                                + gone.getValue().seq() + ", is gone"));
    }

    /** The first revision (its id, group and seal row) that names a chunk. */
    private record Named(long id, String group, long seq) {}

    /**
     * The first of {@code chunks} gone from the table or whose parts no longer give its digest, worked out here:
     * PostgreSQL's constraint and digest function are the database owner's to drop or replace.
     */
    private static Optional<AdminTrailVerifier.Finding> firstBadChunk(Connection c, Map<ByteBuffer, Named> chunks)
            throws SQLException {
        List<ByteBuffer> all = List.copyOf(chunks.keySet());
        for (int from = 0; from < all.size(); from += 1_000) {
            List<ByteBuffer> batch = all.subList(from, Math.min(all.size(), from + 1_000));
            java.util.Set<ByteBuffer> found = new java.util.HashSet<>();
            Optional<ByteBuffer> altered = Optional.empty();
            try (PreparedStatement ps =
                    c.prepareStatement("select digest, parts from config_revision_chunk where digest = any(?)")) {
                ps.setArray(
                        1,
                        c.createArrayOf(
                                "bytea", batch.stream().map(ByteBuffer::array).toArray(byte[][]::new)));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        byte[] digest = rs.getBytes(1);
                        found.add(ByteBuffer.wrap(digest));
                        if (!MessageDigest.isEqual(
                                chunkDigest(digests(rs.getArray(2)).orElse(new byte[0][])), digest)) {
                            altered = Optional.of(ByteBuffer.wrap(digest));
                        }
                    }
                }
            }
            Optional<ByteBuffer> bad =
                    batch.stream().filter(k -> !found.contains(k)).findFirst();
            Optional<ByteBuffer> first = bad.isPresent() ? bad : altered;
            if (first.isPresent()) {
                Named by = chunks.get(first.get());
                return Optional.of(new AdminTrailVerifier.Finding(
                        by.seq(),
                        AdminTrailVerifier.Problem.RECORD_ALTERED,
                        "revision " + by.id() + " of group " + by.group() + " names chunk "
                                + HexFormat.of().formatHex(first.get().array())
                                + (bad.isPresent()
                                        ? ", which is gone"
                                        : ", whose parts no longer give its digest: a part it names was changed after"
                                                + " it was published")));
            }
        }
        return Optional.empty();
    }

    /** A chunk's digest: the SHA-256 of its part digests concatenated in order (the schema's {@code config_revision_chunk_digest}). */
    static byte[] chunkDigest(byte[][] parts) {
        MessageDigest sha = sha256();
        for (byte[] part : parts) {
            sha.update(part);
        }
        return sha.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
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
