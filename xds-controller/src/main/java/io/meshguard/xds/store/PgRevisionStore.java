package io.meshguard.xds.store;

import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.SameInstance;
import io.meshguard.xds.model.Upstream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Revisions in {@code config_revision} (immutable rows; a trigger refuses updates). Each append sends
 * {@code NOTIFY meshguard_xds_publish} in the same transaction, so other replicas serve it as soon as it commits.
 *
 * <p>A revision keeps its group in {@code content} and names its upstreams, routes and APIs by the SHA-256 of their
 * JSON, each stored once in {@code config_revision_part} and shared by the revisions that hold it, through chunks:
 * runs of part digests, each stored once in {@code config_revision_chunk} under the digest of the run. A publish
 * writes the objects it changed, the chunks holding them and a digest per chunk, not the group's whole document nor
 * a digest per object. A row that names its objects any other way (the schema still admits the layouts of builds
 * from before 1.0) is refused, not served: this store never writes one.
 */
public final class PgRevisionStore implements RevisionStore {
    /** The PostgreSQL notification channel that announces new revisions. */
    public static final String CHANNEL = "meshguard_xds_publish";

    /** Entries in each memo of parts, least recently used out (a larger group is sent or read whole each time). */
    static final int REMEMBERED_PARTS = 16_384;

    /** Chunks read, at ~32 parts each: the parts of {@link #REMEMBERED_PARTS} and room for their neighbours. */
    static final int REMEMBERED_CHUNKS = 2_048;

    private final DataSource dataSource;
    /** Each model object's part, by the object's identity: the draft's unchanged objects are the same instances. */
    private final Map<SameInstance, Part> parts = SameInstance.recentlyUsed(REMEMBERED_PARTS);
    /** Digests (hex) of parts committed, so not sent again; parts are never deleted (a trigger refuses it). */
    private final Map<String, Boolean> stored = SameInstance.recentlyUsed(REMEMBERED_PARTS);
    /** The same for chunks, also never deleted. */
    private final Map<String, Boolean> storedChunks = SameInstance.recentlyUsed(REMEMBERED_PARTS);
    /** Each group's last committed revision's objects and parts, place by place (all stored). */
    private final Map<String, Written> lastWritten = SameInstance.recentlyUsed(1_024);

    /** The upstreams, routes and APIs of a revision and their parts, in the revision's order. */
    private record Written(
            List<?> upstreams,
            List<Part> upstreamParts,
            List<?> routes,
            List<Part> routeParts,
            List<?> apis,
            List<Part> apiParts) {}

    public PgRevisionStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** An upstream's or route's JSON as a revision part, and its SHA-256. */
    private record Part(String hex, byte[] digest, String json) {
        static Part of(Object model) {
            return of(ConfigJson.write(model));
        }

        static Part of(String json) {
            byte[] digest = sha256().digest(json.getBytes(StandardCharsets.UTF_8));
            return new Part(HexFormat.of().formatHex(digest), digest, json);
        }
    }

    /**
     * The parts of {@code objects}: where an object is the instance at the same place in the group's last revision
     * ({@code before}, whose parts are stored), that part; else its own, put in {@code unsent} to be written unless
     * known stored. A one-route change of a 2,000-route group looked up and re-checked ~3,000 parts.
     */
    private List<Part> parts(List<?> objects, List<?> before, List<Part> beforeParts, Map<String, Part> unsent) {
        List<Part> out = new ArrayList<>(objects.size());
        for (int i = 0; i < objects.size(); i++) {
            Object o = objects.get(i);
            if (i < before.size() && before.get(i) == o) {
                out.add(beforeParts.get(i));
            } else {
                Part p = part(o);
                unsent.put(p.hex(), p);
                out.add(p);
            }
        }
        return out;
    }

    private Part part(Object model) {
        SameInstance key = new SameInstance(model);
        Part known = parts.get(key);
        if (known != null) {
            return known;
        }
        Part part = Part.of(model);
        parts.put(key, part);
        return part;
    }

    /**
     * A run of parts a revision names by one digest: SHA-256 over the parts' digests, in order (the schema's
     * {@code config_revision_chunk_digest}).
     */
    private record Chunk(String hex, byte[] digest, byte[][] parts) {
        /** Parts per chunk at most: a run without a boundary (one in 32 parts on average) ends here. */
        static final int MAX_PARTS = 128;

        /**
         * {@code parts} cut into chunks where their digests say (after a part whose digest's first byte has its low
         * five bits set) or after {@link #MAX_PARTS}: the same parts always give the same chunks, and a changed part
         * changes its own chunk and at most the next, so a one-route change writes one or two chunks.
         */
        static List<Chunk> of(List<Part> parts) {
            List<Chunk> out = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < parts.size(); i++) {
                if ((parts.get(i).digest()[0] & 0x1f) == 0x1f || i - start + 1 == MAX_PARTS || i == parts.size() - 1) {
                    out.add(remembered(parts.subList(start, i + 1)));
                    start = i + 1;
                }
            }
            return out;
        }

        /**
         * The chunk of a run whose first part began a chunk before, when the run holds the same part instances (a
         * revision takes its group's last parts place by place): hashed anew, a 2,000-route group's ~100 chunks cost
         * a quarter of a millisecond per publish. Keyed weakly by the first part; a chunk holds its parts'
         * digests, not the parts.
         */
        private static Chunk remembered(List<Part> run) {
            Chunk known = BY_FIRST_PART.get(run.get(0));
            if (known != null && known.parts().length == run.size()) {
                boolean same = true;
                for (int i = 0; i < run.size() && same; i++) {
                    same = known.parts()[i] == run.get(i).digest();
                }
                if (same) {
                    return known;
                }
            }
            Chunk chunk = run(run);
            BY_FIRST_PART.put(run.get(0), chunk);
            return chunk;
        }

        private static final Map<Part, Chunk> BY_FIRST_PART = SameInstance.weaklyRemembered();

        private static Chunk run(List<Part> run) {
            byte[][] digests = run.stream().map(Part::digest).toArray(byte[][]::new);
            byte[] digest = RevisionSeal.chunkDigest(digests);
            return new Chunk(HexFormat.of().formatHex(digest), digest, digests);
        }
    }

    private static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
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
            Map<String, Part> fresh = new LinkedHashMap<>();
            Map<String, Chunk> freshChunks = new LinkedHashMap<>();
            Map<String, Written> partsWritten = new LinkedHashMap<>();
            for (Map.Entry<String, GatewayConfig> e : slices.entrySet()) {
                written.put(
                        e.getKey(),
                        insert(c, e.getKey(), e.getValue(), actor, reason, fresh, freshChunks, partsWritten));
            }
            return new OpenRevisions(c, written, () -> {
                fresh.keySet().forEach(hex -> stored.put(hex, true));
                freshChunks.keySet().forEach(hex -> storedChunks.put(hex, true));
                lastWritten.putAll(partsWritten);
            });
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c, true);
            throw new StoreException(
                    "cannot store a revision of group(s) " + slices.keySet() + ": " + e.getMessage(), e);
        }
    }

    /** A revision's {@code content}: its group in JSON (its objects are parts). */
    private static String contentJson(GatewayConfig slice) {
        return ConfigJson.write(new GatewayConfig(slice.groups(), List.of(), List.of(), List.of()));
    }

    /**
     * Writes the parts and chunks not known stored (collected in {@code fresh} and {@code freshChunks}), then the
     * revision naming its chunks.
     */
    private Revision insert(
            Connection c,
            String group,
            GatewayConfig slice,
            String actor,
            String reason,
            Map<String, Part> fresh,
            Map<String, Chunk> freshChunks,
            Map<String, Written> partsWritten)
            throws SQLException {
        Optional<Written> last = Optional.ofNullable(lastWritten.get(group));
        Map<String, Part> unsent = new LinkedHashMap<>();
        List<Part> upstreams = parts(
                slice.upstreams(),
                last.map(Written::upstreams).orElse(List.of()),
                last.map(Written::upstreamParts).orElse(List.of()),
                unsent);
        List<Part> routes = parts(
                slice.routes(),
                last.map(Written::routes).orElse(List.of()),
                last.map(Written::routeParts).orElse(List.of()),
                unsent);
        List<Part> apis = parts(
                slice.apis(),
                last.map(Written::apis).orElse(List.of()),
                last.map(Written::apiParts).orElse(List.of()),
                unsent);
        partsWritten.put(group, new Written(slice.upstreams(), upstreams, slice.routes(), routes, slice.apis(), apis));
        unsent.keySet().removeIf(hex -> stored.containsKey(hex) || fresh.containsKey(hex));
        if (!unsent.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("""
                    insert into config_revision_part (digest, content)
                    select digest, content::json from unnest(?::bytea[], ?::text[]) as p(digest, content)
                    on conflict (digest) do nothing""")) {
                ps.setArray(
                        1,
                        c.createArrayOf(
                                "bytea",
                                unsent.values().stream().map(Part::digest).toArray(byte[][]::new)));
                ps.setArray(
                        2,
                        c.createArrayOf(
                                "text", unsent.values().stream().map(Part::json).toArray(String[]::new)));
                ps.executeUpdate();
            }
            fresh.putAll(unsent);
        }
        List<Chunk> upstreamChunks = Chunk.of(upstreams);
        List<Chunk> routeChunks = Chunk.of(routes);
        List<Chunk> apiChunks = Chunk.of(apis);
        Map<String, Chunk> unsentChunks = new LinkedHashMap<>();
        for (List<Chunk> chunks : List.of(upstreamChunks, routeChunks, apiChunks)) {
            for (Chunk k : chunks) {
                if (!storedChunks.containsKey(k.hex()) && !freshChunks.containsKey(k.hex())) {
                    unsentChunks.put(k.hex(), k);
                }
            }
        }
        if (!unsentChunks.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into config_revision_chunk (digest, parts) values (?, ?) on conflict (digest) do nothing")) {
                for (Chunk k : unsentChunks.values()) {
                    ps.setBytes(1, k.digest());
                    ps.setArray(2, c.createArrayOf("bytea", k.parts()));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            freshChunks.putAll(unsentChunks);
        }
        long id;
        java.time.Instant createdAt;
        byte[] contentSha256;
        try (PreparedStatement ps = c.prepareStatement("""
                insert into config_revision as r
                    (group_id, created_by, reason, content, upstream_chunks, route_chunks, api_chunks)
                values ((select id from gateway_group where name = ?), ?, ?, ?::json, ?, ?, ?)
                returning id, created_at, %s""".formatted(RevisionSeal.CONTENT_SHA256))) {
            ps.setString(1, group);
            ps.setString(2, actor);
            ps.setString(3, reason);
            ps.setString(4, contentJson(slice));
            ps.setArray(5, c.createArrayOf("bytea", digests(upstreamChunks)));
            ps.setArray(6, c.createArrayOf("bytea", digests(routeChunks)));
            ps.setArray(7, c.createArrayOf("bytea", digests(apiChunks)));
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
                actor,
                Optional.ofNullable(reason),
                createdAt,
                contentSha256,
                new RevisionSeal.Chunks(digests(upstreamChunks), digests(routeChunks), digests(apiChunks)));
        AdminTrail.appendWithin(c, RevisionSeal.entry(row, RevisionSeal.ofChunks(row)));
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
        private final Runnable committed;
        private boolean open = true;

        OpenRevisions(Connection connection, Map<String, Revision> written, Runnable committed) {
            this.connection = connection;
            this.written = java.util.Collections.unmodifiableMap(written);
            this.committed = committed;
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
                committed.run();
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

    /**
     * A revision that names its parts through chunks is read by what this store has not read before: its row and
     * chunk digests, then the chunks and parts it does not hold, each checked against its digest. Another replica
     * read every part of a 2,000-route group on each publish (~30 ms, {@code RevisionStoreBench}); unchanged objects
     * are now the instances of the revision read before, as on the publishing replica. Older revisions are read
     * whole.
     */
    private Optional<Revision> get(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(ROW)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(byChunks(c, rs)) : Optional.empty();
            }
        }
    }

    /** The seal the admin trail recorded for the revision row {@code r}, as {@code recorded_seal} (null: none). */
    private static final String RECORDED_SEAL = """
            (select t.after_digest from admin_trail t
               where t.action = '%s' and t.target = 'revision/' || r.id) as recorded_seal""".formatted(RevisionSeal.ACTION);

    private static final String ROW = """
            select r.id, g.name as group_name, r.content, r.created_by, r.reason, r.created_at,
                   r.upstream_chunks, r.route_chunks, r.api_chunks, %s, %s
            from config_revision r join gateway_group g on g.id = r.group_id
            where r.id = ?""".formatted(RevisionSeal.CONTENT_SHA256, RECORDED_SEAL);

    /**
     * A chunk as read: its part digests (checked against the chunk's digest) and, once read, their objects of
     * {@code type} (null until then).
     */
    private record ReadChunk(byte[][] parts, Class<?> type, List<Object> objects) {
        boolean readAs(Class<?> wanted) {
            return objects != null && type == wanted;
        }
    }

    /** Chunks this store read, by digest; a chunk's digest fixes its parts, so they never go stale. */
    private final Map<ByteBuffer, ReadChunk> readChunks = SameInstance.recentlyUsed(REMEMBERED_CHUNKS);
    /** Parts read, as objects, by digest (immutable records, shared by the revisions that hold the part). */
    private final Map<ByteBuffer, Object> readParts = SameInstance.recentlyUsed(REMEMBERED_PARTS);

    private Revision byChunks(Connection c, ResultSet rs) throws SQLException {
        Optional<RevisionSeal.Chunks> read = RevisionSeal.Chunks.read(rs);
        if (read.isEmpty()) {
            throw new StoreException(
                    "revision " + rs.getLong("id") + " of group " + rs.getString("group_name")
                            + " does not name its upstreams, routes and APIs through chunks, as every revision is"
                            + " stored (its row was changed or written by hand); not served",
                    new SQLException("config_revision row without chunks"));
        }
        RevisionSeal.Chunks named = read.get();
        byte[][] upstreamChunks = named.upstream();
        byte[][] routeChunks = named.route();
        byte[][] apiChunks = named.api();
        Map<ByteBuffer, ReadChunk> chunks = chunks(c, upstreamChunks, routeChunks, apiChunks);
        RevisionSeal.Row row = RevisionSeal.Row.read(rs, named);
        // every chunk was checked against its digest when read (chunks), so a seal over chunks covers the parts
        checkSeal(row, rs.getString("recorded_seal"));
        GatewayConfig content = ConfigJson.readConfig(rs.getString("content"));
        Map<ByteBuffer, Class<?>> unread = new LinkedHashMap<>();
        unreadParts(upstreamChunks, chunks, Upstream.class, unread);
        unreadParts(routeChunks, chunks, Route.class, unread);
        unreadParts(apiChunks, chunks, Api.class, unread);
        Map<ByteBuffer, Object> objects = objects(c, unread);
        return new Revision(
                row.id(),
                row.group(),
                new GatewayConfig(
                        content.groups(),
                        objectsOf(upstreamChunks, chunks, objects, Upstream.class),
                        objectsOf(apiChunks, chunks, objects, Api.class),
                        objectsOf(routeChunks, chunks, objects, Route.class)),
                row.createdBy(),
                row.reason().orElse(""),
                row.createdAt());
    }

    /** The chunks named, from memory or PostgreSQL; a stored chunk whose parts do not give its digest is refused. */
    private Map<ByteBuffer, ReadChunk> chunks(Connection c, byte[][]... named) throws SQLException {
        Map<ByteBuffer, ReadChunk> out = new java.util.HashMap<>();
        Map<ByteBuffer, byte[]> missing = new LinkedHashMap<>();
        for (byte[][] list : named) {
            for (byte[] digest : list) {
                ByteBuffer key = ByteBuffer.wrap(digest);
                if (!out.containsKey(key) && !missing.containsKey(key)) {
                    ReadChunk known = readChunks.get(key);
                    if (known == null) {
                        missing.put(key, digest);
                    } else {
                        out.put(key, known);
                    }
                }
            }
        }
        if (missing.isEmpty()) {
            return out;
        }
        try (PreparedStatement ps =
                c.prepareStatement("select digest, parts from config_revision_chunk where digest = any(?)")) {
            ps.setArray(1, c.createArrayOf("bytea", missing.values().toArray(byte[][]::new)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byte[] digest = rs.getBytes(1);
                    byte[][] parts = digests(rs.getArray(2));
                    if (!java.security.MessageDigest.isEqual(RevisionSeal.chunkDigest(parts), digest)) {
                        throw new StoreException(
                                "revision chunk " + HexFormat.of().formatHex(digest) + " does not match its digest",
                                new SQLException("config_revision_chunk parts altered"));
                    }
                    missing.remove(ByteBuffer.wrap(digest));
                    out.put(ByteBuffer.wrap(digest), new ReadChunk(parts, null, null));
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new StoreException(
                    "a revision names " + missing.size() + " chunk(s) that are not stored",
                    new SQLException("config_revision_chunk rows missing"));
        }
        return out;
    }

    /** Adds to {@code unread} the parts of the chunks not yet read as objects of {@code type}. */
    private static void unreadParts(
            byte[][] chunkDigests, Map<ByteBuffer, ReadChunk> chunks, Class<?> type, Map<ByteBuffer, Class<?>> unread) {
        for (byte[] digest : chunkDigests) {
            ReadChunk chunk = chunks.get(ByteBuffer.wrap(digest));
            if (!chunk.readAs(type)) {
                for (byte[] part : chunk.parts()) {
                    unread.put(ByteBuffer.wrap(part), type);
                }
            }
        }
    }

    /** The objects of {@code unread} parts: from memory, else from PostgreSQL, each part checked against its digest. */
    private Map<ByteBuffer, Object> objects(Connection c, Map<ByteBuffer, Class<?>> unread) throws SQLException {
        Map<ByteBuffer, Object> out = new java.util.HashMap<>();
        Map<ByteBuffer, Class<?>> missing = new LinkedHashMap<>();
        unread.forEach((key, type) -> {
            Object known = readParts.get(key);
            if (type.isInstance(known)) {
                out.put(key, known);
            } else {
                missing.put(key, type);
            }
        });
        if (missing.isEmpty()) {
            return out;
        }
        try (PreparedStatement ps =
                c.prepareStatement("select digest, content::text from config_revision_part where digest = any(?)")) {
            ps.setArray(
                    1,
                    c.createArrayOf(
                            "bytea",
                            missing.keySet().stream().map(ByteBuffer::array).toArray(byte[][]::new)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ByteBuffer key = ByteBuffer.wrap(rs.getBytes(1));
                    Class<?> type = missing.remove(key);
                    Part part = Part.of(rs.getString(2));
                    if (type == null || !java.security.MessageDigest.isEqual(part.digest(), key.array())) {
                        throw new StoreException(
                                "revision part " + HexFormat.of().formatHex(key.array()) + " does not match its digest",
                                new SQLException("config_revision_part content altered"));
                    }
                    Object read = ConfigJson.read(part.json(), type);
                    readParts.put(key, read);
                    stored.put(part.hex(), true);
                    out.put(key, read);
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new StoreException(
                    "a revision names " + missing.size() + " part(s) that are not stored",
                    new SQLException("config_revision_part rows missing"));
        }
        return out;
    }

    /** The objects of {@code chunkDigests}' parts in order; each chunk read anew keeps its objects for the next read. */
    private <T> List<T> objectsOf(
            byte[][] chunkDigests, Map<ByteBuffer, ReadChunk> chunks, Map<ByteBuffer, Object> objects, Class<T> type) {
        List<T> out = new ArrayList<>();
        for (byte[] digest : chunkDigests) {
            ByteBuffer key = ByteBuffer.wrap(digest);
            ReadChunk chunk = chunks.get(key);
            if (!chunk.readAs(type)) {
                List<Object> read = new ArrayList<>(chunk.parts().length);
                for (byte[] part : chunk.parts()) {
                    read.add(objects.get(ByteBuffer.wrap(part)));
                }
                chunk = new ReadChunk(chunk.parts(), type, List.copyOf(read));
                chunks.put(key, chunk);
                readChunks.put(key, chunk);
            }
            chunk.objects().forEach(o -> out.add(type.cast(o)));
        }
        return List.copyOf(out);
    }

    @Override
    public Map<String, Revision> latestPerGroup() {
        Map<String, Revision> out = new LinkedHashMap<>();
        Map<String, Long> latest = latestIds();
        try (Connection c = dataSource.getConnection()) {
            for (long id : latest.values()) {
                get(c, id).ifPresent(r -> out.put(r.group(), r));
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

    /** Refuses {@code row} unless it gives the seal the admin trail recorded (none recorded: pruned by retention). */
    private static void checkSeal(RevisionSeal.Row row, String recorded) {
        if (recorded != null && !RevisionSeal.sealedBy(row, recorded)) {
            throw new StoreException(
                    "revision " + row.id() + " of group " + row.group()
                            + " does not match the seal the admin trail recorded when it was stored; not served",
                    new SQLException("config_revision row altered"));
        }
    }

    private static byte[][] digests(List<Chunk> chunks) {
        return chunks.stream().map(Chunk::digest).toArray(byte[][]::new);
    }

    private static byte[][] digests(java.sql.Array array) throws SQLException {
        Object[] values = (Object[]) array.getArray();
        byte[][] out = new byte[values.length][];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte[]) values[i];
        }
        return out;
    }
}
