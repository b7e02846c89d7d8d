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
            assertThatThrownBy(() -> store.get(newer.id()))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("revision " + newer.id() + " of group local does not match the seal");
            try (io.meshguard.xds.XdsCore replica = PostgresStoreTest.core(store)) {
                assertThat(replica.publisher().servedRevision("local")).isEmpty();
            }

            AdminTrailVerifier.Finding bad = verify().firstBad().orElseThrow();
            assertThat(bad.problem()).isEqualTo(AdminTrailVerifier.Problem.RECORD_ALTERED);
            assertThat(bad.explanation()).contains("revision " + newer.id() + " of group local");
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
