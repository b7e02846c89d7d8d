package io.meshguard.xds.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.admin.AuditAdminApi;
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
        return AuditAdminApi.trailVerifier(ds).verify(Optional.empty());
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
            try (io.meshguard.xds.XdsCore replica = PostgresStoreTest.core(store)) {
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
     * Seals recorded before V78 must keep verifying: a row without API parts hashes to what the code of that time gave
     * (the values below were printed by it), and API parts change the seal.
     */
    @Test
    void seal_ofARowWithoutApiParts_isTheSealOfBeforeV78() {
        byte[] content = new byte[32];
        for (int i = 0; i < 32; i++) {
            content[i] = (byte) i;
        }
        byte[][] upstreams = {new byte[32], new byte[32]};
        upstreams[1][0] = 1;
        byte[][] routes = {new byte[32]};
        routes[0][31] = 7;
        RevisionSeal.Row row = new RevisionSeal.Row(
                42,
                "local",
                "alice",
                Optional.of("why"),
                java.time.Instant.parse("2026-11-27T12:00:00.123456Z"),
                content,
                Optional.of(upstreams),
                Optional.of(routes),
                Optional.empty(),
                Optional.empty());
        RevisionSeal.Row whole = new RevisionSeal.Row(
                7,
                "local",
                "ops",
                Optional.empty(),
                java.time.Instant.parse("2026-01-01T00:00:00Z"),
                content,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty());

        assertThat(RevisionSeal.of(row)).isEqualTo("345fbd4b32000af4dd4af3df02a3808bea04034c612fb0eb5dc9076446aac470");
        assertThat(RevisionSeal.of(whole))
                .isEqualTo("456176a0af4219546191d334e53116c64ef6054f92bf2f35c3763b765d6dac43");
        RevisionSeal.Row withApis = new RevisionSeal.Row(
                row.id(),
                row.group(),
                row.createdBy(),
                row.reason(),
                row.createdAt(),
                row.contentSha256(),
                row.upstreamParts(),
                row.routeParts(),
                Optional.of(new byte[0][]),
                Optional.empty());
        assertThat(RevisionSeal.of(withApis)).isNotEqualTo(RevisionSeal.of(row));
    }

    /**
     * Since V78 a revision is sealed over its chunk digests, and each chunk's digest must be what its parts give:
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
            assertThat(RevisionSeal.of(row)).isNotEqualTo(recorded);
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
                        + " r.created_at, " + RevisionSeal.CONTENT_SHA256 + ", x.upstream_parts, x.route_parts,"
                        + " x.api_parts, r.upstream_chunks, r.route_chunks, r.api_chunks from config_revision r"
                        + " join gateway_group g on g.id = r.group_id " + RevisionSeal.PART_DIGESTS
                        + " where r.id = " + id)) {
            rs.next();
            return RevisionSeal.Row.read(rs);
        }
    }

    /** A revision stored before V78 (chunks, its APIs in content, sealed without them) is read and verified. */
    @Test
    void revisionWrittenBeforeApiParts_isReadAndVerifiedUnderItsSeal() throws Exception {
        Revision current = new PgRevisionStore(ds).append("local", withTimeout(4_100), "alice", "since V78");
        GatewayConfig old = withTimeout(4_200);
        long id;
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            RevisionSeal.Row row;
            try (Statement st = c.createStatement();
                    ResultSet rs =
                            st.executeQuery("insert into config_revision as r (group_id, created_by, reason, content,"
                                    + " upstream_chunks, route_chunks) select group_id, 'ops', 'before V78', '"
                                    + io.meshguard.xds.model.ConfigJson.write(new GatewayConfig(
                                                    old.groups(), java.util.List.of(), old.apis(), java.util.List.of()))
                                            .replace("'", "''")
                                    + "'::json, upstream_chunks, route_chunks from config_revision where id = "
                                    + current.id()
                                    + " returning id, created_at, " + RevisionSeal.CONTENT_SHA256)) {
                rs.next();
                id = rs.getLong(1);
                row = new RevisionSeal.Row(
                        id,
                        "local",
                        "ops",
                        Optional.of("before V78"),
                        rs.getTimestamp(2).toInstant(),
                        rs.getBytes(3),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty());
            }
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("select x.upstream_parts, x.route_parts from config_revision r "
                            + RevisionSeal.PART_DIGESTS + " where r.id = " + id)) {
                rs.next();
                row = new RevisionSeal.Row(
                        row.id(),
                        row.group(),
                        row.createdBy(),
                        row.reason(),
                        row.createdAt(),
                        row.contentSha256(),
                        Optional.of(digests(rs.getArray(1))),
                        Optional.of(digests(rs.getArray(2))),
                        Optional.empty(),
                        Optional.empty());
            }
            io.meshguard.audit.trail.AdminTrail.appendWithin(c, RevisionSeal.entry(row, RevisionSeal.of(row)));
            c.commit();
        }

        // routes as the revision it shares chunks with, APIs from its own content
        assertThat(new PgRevisionStore(ds).get(id).orElseThrow().config())
                .isEqualTo(new GatewayConfig(
                        current.config().groups(),
                        current.config().upstreams(),
                        old.apis(),
                        current.config().routes()));
        assertThat(verify().firstBad()).isEmpty();
    }

    /** The APIs are parts since V78: a revision pointed at another revision's APIs no longer matches its seal. */
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

    private static byte[][] digests(java.sql.Array array) throws Exception {
        Object[] values = (Object[]) array.getArray();
        return java.util.Arrays.stream(values).map(v -> (byte[]) v).toArray(byte[][]::new);
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
