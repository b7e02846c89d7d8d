package io.meshguard.xds.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.model.GatewayConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An operator who can write the database, against the revisions served: each stored revision's seal is in the admin
 * trail, a replica refuses to serve a revision that no longer matches it, and {@code audit verify} names a revision
 * changed behind its trigger, put in by hand, or deleted.
 */
@IntegrationTest
class RevisionSealTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static HikariDataSource ds;
    static GatewayConfig slice;

    @BeforeAll
    static void start() throws Exception {
        ds = PG.dataSource();
        GatewayConfig sample = PostgresStoreTest.sample();
        new PgGatewayStore(ds).replace(sample);
        slice = sample.slice("local");
    }

    private static GatewayConfig withTimeout(long ms) {
        return PostgresStoreTest.withRoute(
                slice, slice.routes().getFirst().name(), r -> PostgresStoreTest.withTimeout(r, ms));
    }

    private static AdminTrailVerifier.Report verify() throws Exception {
        return RevisionSeal.trailVerifier(ds).verify(Optional.empty());
    }

    private static void sql(String statement) throws Exception {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            st.execute(statement);
        }
    }

    /** As an insider with the owner's rights: the revision table's no-update trigger off meanwhile. */
    private static void behindTheTrigger(String statement) throws Exception {
        sql("alter table config_revision disable trigger config_revision_immutable");
        try {
            sql(statement);
        } finally {
            sql("alter table config_revision enable trigger config_revision_immutable");
        }
    }

    @Test
    void storedRevision_hasItsSealInTheTrail_andAnAbortedOneNone() throws Exception {
        PgRevisionStore store = new PgRevisionStore(ds);
        Revision r = store.append("local", withTimeout(1_100), "alice", "sealed");
        store.prepare(Map.of("local", withTimeout(1_200)), "alice", "never committed")
                .abort();

        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select target, actor, after_digest, details->>'group' from admin_trail"
                        + " where action = 'revision-stored' order by seq desc limit 1")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("revision/" + r.id());
            assertThat(rs.getString(2)).isEqualTo("alice");
            assertThat(rs.getString(3)).matches("[0-9a-f]{64}");
            assertThat(rs.getString(4)).isEqualTo("local");
        }
        assertThat(verify().firstBad()).isEmpty();
    }

    @Test
    void revisionPointedAtAnOlderRoute_behindItsTrigger_isNamedByVerify() throws Exception {
        PgRevisionStore store = new PgRevisionStore(ds);
        Revision older = store.append("local", withTimeout(2_100), "alice", "first");
        Revision newer = store.append("local", withTimeout(2_200), "alice", "second");
        keep(older, newer);
        behindTheTrigger("update config_revision set route_chunks = (select route_chunks from config_revision"
                + " where id = " + older.id() + ") where id = " + newer.id());
        try {
            // every part is intact, so only the seal tells that the newer revision now serves the older route
            assertRefusedAndNamed(store, newer);
            try (io.meshguard.xds.XdsCore replica = io.meshguard.xds.server.LoopbackCores.over(store)) {
                assertThat(replica.publisher().servedRevision("local")).isEmpty();
            }
        } finally {
            restore();
        }
        assertThat(verify().firstBad()).isEmpty();
        assertThat(store.get(newer.id()).orElseThrow().config()).isEqualTo(newer.config());

        keep(older);
        behindTheTrigger("update config_revision set reason = 'approved by bob' where id = " + older.id());
        try {
            assertThat(verify().firstBad().orElseThrow().problem())
                    .isEqualTo(AdminTrailVerifier.Problem.RECORD_ALTERED);
        } finally {
            restore();
        }
        assertThat(verify().firstBad()).isEmpty();
    }

    @Test
    void revisionPutInByHand_orDeleted_isNamedByVerify() throws Exception {
        Revision sealed = new PgRevisionStore(ds).append("local", withTimeout(3_100), "alice", "sealed");
        long forged;
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "insert into config_revision (group_id, created_by, reason, content, upstream_chunks, route_chunks)"
                                + " select group_id, 'mallory', 'looks routine', content, upstream_chunks, route_chunks"
                                + " from config_revision where id = " + sealed.id() + " returning id")) {
            rs.next();
            forged = rs.getLong(1);
        }
        try {
            AdminTrailVerifier.Finding bad = verify().firstBad().orElseThrow();
            assertThat(bad.problem()).isEqualTo(AdminTrailVerifier.Problem.RECORD_UNTRAILED);
            assertThat(bad.explanation()).contains("revision " + forged, "mallory", "by hand");
        } finally {
            sql("delete from config_revision where id = " + forged);
        }
        assertThat(verify().firstBad()).isEmpty();

        keep(sealed);
        sql("delete from config_revision where id = " + sealed.id());
        try {
            AdminTrailVerifier.Finding bad = verify().firstBad().orElseThrow();
            assertThat(bad.problem()).isEqualTo(AdminTrailVerifier.Problem.RECORD_REMOVED);
            assertThat(bad.explanation()).contains("revision " + sealed.id());
        } finally {
            restore();
        }
        assertThat(verify().firstBad()).isEmpty();
    }

    /**
     * A seal, once recorded, must verify under every later build: the seal of a fixed row (the value printed by the
     * 1.0 code) stays what it is, and each field it covers changes it.
     */
    @Test
    void seal_ofAFixedRow_isStable() {
        byte[] content = new byte[32];
        for (int i = 0; i < 32; i++) {
            content[i] = (byte) i;
        }
        byte[][] upstreams = {new byte[32], new byte[32]};
        upstreams[1][0] = 1;
        byte[][] routes = {new byte[32]};
        routes[0][31] = 7;
        byte[][] apis = {new byte[32]};
        apis[0][5] = 9;
        RevisionSeal.Row row = new RevisionSeal.Row(
                42,
                "local",
                "alice",
                Optional.of("why"),
                java.time.Instant.parse("2026-11-27T12:00:00.123456Z"),
                content,
                new RevisionSeal.Chunks(upstreams, routes, apis));

        assertThat(RevisionSeal.ofChunks(row))
                .isEqualTo("8c34492cbc79f4921ef36708097c12e8d8a24d855efd4b517ed8630b9543159a");
        assertThat(RevisionSeal.ofChunks(new RevisionSeal.Row(
                        row.id(),
                        row.group(),
                        row.createdBy(),
                        Optional.empty(),
                        row.createdAt(),
                        content,
                        row.chunks())))
                .isNotEqualTo(RevisionSeal.ofChunks(row));
        assertThat(RevisionSeal.ofChunks(new RevisionSeal.Row(
                        row.id(),
                        row.group(),
                        row.createdBy(),
                        row.reason(),
                        row.createdAt(),
                        content,
                        new RevisionSeal.Chunks(upstreams, apis, routes))))
                .isNotEqualTo(RevisionSeal.ofChunks(row));
    }

    /**
     * A revision is sealed over its chunk digests, and each chunk's digest must be what its parts give:
     * `audit verify` works each chunk out itself (the constraint and the digest function are the owner's to drop),
     * so a chunk pointed at another stored part, or deleted, behind its constraint and trigger is named.
     */
    @Test
    void chunkChangedOrDeletedBehindItsConstraint_isNamedByVerify() throws Exception {
        PgRevisionStore store = new PgRevisionStore(ds);
        Revision older = store.append("local", withTimeout(6_100), "alice", "older");
        Revision newer = store.append("local", withTimeout(6_200), "alice", "newer");
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select after_digest from admin_trail where action = 'revision-stored'"
                        + " and target = 'revision/" + newer.id() + "'")) {
            rs.next();
            String recorded = rs.getString(1);
            RevisionSeal.Row row = sealedRow(c, newer.id());
            assertThat(RevisionSeal.ofChunks(row)).isEqualTo(recorded);
        }
        // the newer revision's chunk holding the changed route, pointed at the older route's part (stored, intact)
        String chunk = "(select c.d from config_revision r cross join unnest(r.route_chunks) as c(d)"
                + " where r.id = " + newer.id() + " and c.d <> all((select route_chunks from config_revision"
                + " where id = " + older.id() + ")::bytea[]) limit 1)";
        String oldPart = "(select p.d from config_revision r cross join unnest(r.route_chunks) as c(d)"
                + " join config_revision_chunk k on k.digest = c.d cross join unnest(k.parts) as p(d)"
                + " where r.id = " + older.id() + " and c.d <> all((select route_chunks from config_revision"
                + " where id = " + newer.id() + ")::bytea[]) limit 1)";
        sql("create table kept_chunk as select * from config_revision_chunk where digest = " + chunk);
        sql("alter table config_revision_chunk drop constraint config_revision_chunk_digest");
        sql("alter table config_revision_chunk disable trigger config_revision_chunk_immutable");
        try {
            sql("update config_revision_chunk set parts = array[" + oldPart + "] || parts[2:] where digest = "
                    + "(select digest from kept_chunk)");
            AdminTrailVerifier.Finding bad = verify().firstBad().orElseThrow();
            assertThat(bad.problem()).isEqualTo(AdminTrailVerifier.Problem.RECORD_ALTERED);
            assertThat(bad.explanation())
                    .contains("revision " + newer.id() + " of group local names chunk")
                    .contains("parts no longer give its digest");
            assertThatThrownBy(() -> new PgRevisionStore(ds).get(newer.id()))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("does not match its digest");

            sql("delete from config_revision_chunk where digest = (select digest from kept_chunk)");
            assertThat(verify().firstBad().orElseThrow().explanation())
                    .contains("revision " + newer.id() + " of group local names chunk")
                    .contains("which is gone");
            assertThatThrownBy(() -> new PgRevisionStore(ds).get(newer.id()))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("chunk(s) that are not stored");
        } finally {
            sql("delete from config_revision_chunk where digest = (select digest from kept_chunk)");
            sql("insert into config_revision_chunk select * from kept_chunk");
            sql("drop table kept_chunk");
            sql("alter table config_revision_chunk enable trigger config_revision_chunk_immutable");
            sql("alter table config_revision_chunk add constraint config_revision_chunk_digest"
                    + " check (digest = config_revision_chunk_digest(parts))");
        }
        assertThat(verify().firstBad()).isEmpty();
        assertThat(new PgRevisionStore(ds).get(newer.id()).orElseThrow().config())
                .isEqualTo(newer.config());
    }

    /** Revision {@code id} as the seal reads it. */
    private static RevisionSeal.Row sealedRow(Connection c, long id) throws Exception {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select r.id, g.name as group_name, r.created_by, r.reason,"
                        + " r.created_at, " + RevisionSeal.CONTENT_SHA256 + ", r.upstream_chunks, r.route_chunks,"
                        + " r.api_chunks from config_revision r join gateway_group g on g.id = r.group_id"
                        + " where r.id = " + id)) {
            rs.next();
            return RevisionSeal.Row.read(rs, RevisionSeal.Chunks.read(rs).orElseThrow());
        }
    }

    /**
     * Every revision names its upstreams, routes and APIs through chunks; a row that does not (the schema still
     * admits the layouts of builds from before 1.0: APIs in {@code content}, parts named one by one, everything in
     * {@code content}) is refused when read and named by `audit verify`, whatever seal it carries.
     */
    @Test
    void revisionWithoutApiChunks_behindItsTrigger_isRefusedAndNamedByVerify() throws Exception {
        PgRevisionStore store = new PgRevisionStore(ds);
        Revision stored = store.append("local", withTimeout(4_100), "alice", "stored");
        keep(stored);
        behindTheTrigger("update config_revision set api_chunks = null where id = " + stored.id());
        try {
            assertThatThrownBy(() -> new PgRevisionStore(ds).get(stored.id()))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("revision " + stored.id() + " of group local does not name its upstreams,"
                            + " routes and APIs through chunks");
            AdminTrailVerifier.Finding bad = verify().firstBad().orElseThrow();
            assertThat(bad.problem()).isEqualTo(AdminTrailVerifier.Problem.RECORD_ALTERED);
            assertThat(bad.explanation())
                    .contains("revision " + stored.id() + " of group local does not name its upstreams");
        } finally {
            restore();
        }
        assertThat(verify().firstBad()).isEmpty();
        assertThat(new PgRevisionStore(ds).get(stored.id()).orElseThrow().config())
                .isEqualTo(stored.config());
    }

    /** The APIs are parts too: a revision pointed at another revision's APIs no longer matches its seal. */
    @Test
    void revisionPointedAtOtherApis_behindItsTrigger_isRefusedAndNamedByVerify() throws Exception {
        PgRevisionStore store = new PgRevisionStore(ds);
        GatewayConfig all = withTimeout(5_100);
        GatewayConfig fewer = new GatewayConfig(
                all.groups(), all.upstreams(), all.apis().subList(1, all.apis().size()), all.routes());
        Revision withAll = store.append("local", all, "alice", "every API");
        Revision withFewer = store.append("local", fewer, "alice", "one API less");
        assertThat(new PgRevisionStore(ds).get(withFewer.id()).orElseThrow().config())
                .isEqualTo(fewer);
        keep(withFewer);
        behindTheTrigger("update config_revision set api_chunks = (select api_chunks from config_revision"
                + " where id = " + withAll.id() + ") where id = " + withFewer.id());
        try {
            assertRefusedAndNamed(new PgRevisionStore(ds), withFewer);
        } finally {
            restore();
        }
        assertThat(verify().firstBad()).isEmpty();
    }

    /** {@code altered} no longer matches its seal: refused when read, named by `audit verify`. */
    private static void assertRefusedAndNamed(PgRevisionStore store, Revision altered) throws Exception {
        assertThatThrownBy(() -> store.get(altered.id()))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("revision " + altered.id() + " of group local does not match the seal");
        AdminTrailVerifier.Finding bad = verify().firstBad().orElseThrow();
        assertThat(bad.problem()).isEqualTo(AdminTrailVerifier.Problem.RECORD_ALTERED);
        assertThat(bad.explanation()).contains("revision " + altered.id() + " of group local");
    }

    /** Copies the revisions aside, as they are, for {@link #restore}. */
    private static void keep(Revision... revisions) throws Exception {
        sql("drop table if exists kept_revision");
        sql("create table kept_revision as select * from config_revision where id in ("
                + java.util.Arrays.stream(revisions)
                        .map(r -> Long.toString(r.id()))
                        .collect(java.util.stream.Collectors.joining(","))
                + ")");
    }

    /** Puts the kept revisions back as they were. */
    private static void restore() throws Exception {
        behindTheTrigger("delete from config_revision where id in (select id from kept_revision)");
        sql("insert into config_revision overriding system value select * from kept_revision");
        sql("drop table kept_revision");
    }
}
