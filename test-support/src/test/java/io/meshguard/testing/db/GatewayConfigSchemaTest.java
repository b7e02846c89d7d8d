package io.meshguard.testing.db;

import static io.meshguard.testing.jooq.Tables.API;
import static io.meshguard.testing.jooq.Tables.API_VERSION;
import static io.meshguard.testing.jooq.Tables.CONFIG_REVISION;
import static io.meshguard.testing.jooq.Tables.GATEWAY_GROUP;
import static io.meshguard.testing.jooq.Tables.NODE_STATUS;
import static io.meshguard.testing.jooq.Tables.ROUTE;
import static io.meshguard.testing.jooq.Tables.ROUTE_DESTINATION;
import static io.meshguard.testing.jooq.Tables.UPSTREAM;
import static io.meshguard.testing.jooq.Tables.UPSTREAM_ENDPOINT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.jooq.tables.records.ConfigRevisionRecord;
import io.meshguard.testing.jooq.tables.records.GatewayGroupRecord;
import io.meshguard.testing.jooq.tables.records.NodeStatusRecord;
import io.meshguard.testing.jooq.tables.records.RouteRecord;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.Record2;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@IntegrationTest
class GatewayConfigSchemaTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void jooqRoundTrip_routeWithCanaryDestinations_readsBack() {
        DSLContext dsl = PG.dsl();
        long group = group(dsl, "edge-" + suffix());
        long stable = upstream(dsl, "payments-v1-" + suffix(), "grpc");
        long canary = upstream(dsl, "payments-v2-" + suffix(), "h2");
        dsl.insertInto(
                        UPSTREAM_ENDPOINT,
                        UPSTREAM_ENDPOINT.UPSTREAM_ID,
                        UPSTREAM_ENDPOINT.HOST,
                        UPSTREAM_ENDPOINT.PORT,
                        UPSTREAM_ENDPOINT.WEIGHT)
                .values(stable, "10.0.0.1", 8443, 3)
                .values(stable, "10.0.0.2", 8443, 1)
                .execute();
        long apiId = dsl.insertInto(API, API.NAME)
                .values("payments-" + suffix())
                .returning(API.ID)
                .fetchSingle()
                .getId();
        long v1 = dsl.insertInto(API_VERSION, API_VERSION.API_ID, API_VERSION.VERSION)
                .values(apiId, "v1")
                .returning(API_VERSION.ID)
                .fetchSingle()
                .getId();
        dsl.insertInto(API_VERSION, API_VERSION.API_ID, API_VERSION.VERSION)
                .values(apiId, "v2")
                .execute();
        dsl.update(API_VERSION)
                .set(API_VERSION.STATUS, "deprecated")
                .set(API_VERSION.DEPRECATED_AT, OffsetDateTime.parse("2026-06-01T00:00:00Z"))
                .set(API_VERSION.SUNSET_AT, OffsetDateTime.parse("2026-12-01T00:00:00Z"))
                .set(API_VERSION.SUCCESSOR, "v2")
                .where(API_VERSION.ID.eq(v1))
                .execute();
        dsl.update(API).set(API.DEFAULT_VERSION, "v2").where(API.ID.eq(apiId)).execute();

        RouteRecord route = dsl.newRecord(ROUTE)
                .setGroupId(group)
                .setApiVersionId(v1)
                .setName("payments")
                .setPathMatchType("prefix")
                .setPath("/v1/payments")
                .setMethods(new String[] {"GET", "POST"})
                .setTimeoutMs(0)
                .setIdleTimeoutMs(300_000)
                .setAuthzProfile("payments-write")
                .setDlpProfile("pci");
        route.store();
        dsl.insertInto(
                        ROUTE_DESTINATION,
                        ROUTE_DESTINATION.ROUTE_ID,
                        ROUTE_DESTINATION.UPSTREAM_ID,
                        ROUTE_DESTINATION.WEIGHT)
                .values(route.getId(), stable, 90)
                .values(route.getId(), canary, 10)
                .execute();

        RouteRecord read =
                dsl.selectFrom(ROUTE).where(ROUTE.ID.eq(route.getId())).fetchSingle();
        assertThat(read.getMethods()).containsExactly("GET", "POST");
        assertThat(read.getTimeoutMs()).isZero();
        assertThat(read.getPriority()).isZero();
        assertThat(read.getEnabled()).isTrue();
        assertThat(read.getCreatedAt()).isNotNull();
        assertThat(dsl.select(UPSTREAM.NAME, ROUTE_DESTINATION.WEIGHT)
                        .from(ROUTE_DESTINATION)
                        .join(UPSTREAM)
                        .on(UPSTREAM.ID.eq(ROUTE_DESTINATION.UPSTREAM_ID))
                        .where(ROUTE_DESTINATION.ROUTE_ID.eq(route.getId()))
                        .orderBy(ROUTE_DESTINATION.WEIGHT.desc())
                        .fetch(Record2::value2))
                .containsExactly(90, 10);
        assertThat(dsl.select(API_VERSION.STATUS, API_VERSION.SUCCESSOR)
                        .from(API_VERSION)
                        .where(API_VERSION.ID.eq(v1))
                        .fetchSingle())
                .satisfies(r -> {
                    assertThat(r.value1()).isEqualTo("deprecated");
                    assertThat(r.value2()).isEqualTo("v2");
                });
        assertThat(dsl.fetchValue(API.DEFAULT_VERSION, API.ID.eq(apiId))).isEqualTo("v2");
        assertThat(dsl.fetchCount(UPSTREAM_ENDPOINT, UPSTREAM_ENDPOINT.UPSTREAM_ID.eq(stable)))
                .isEqualTo(2);
    }

    @Test
    void gatewayGroup_hostnamesArrayAndDefaults_roundTrip() {
        DSLContext dsl = PG.dsl();
        GatewayGroupRecord group = dsl.newRecord(GATEWAY_GROUP)
                .setName("edge-" + suffix())
                .setEnvironment("prod")
                .setRegion("eu-west-1")
                .setCluster("gw-a")
                .setHostnames(new String[] {"api.acme.example", "*.acme.example"});
        group.store();

        GatewayGroupRecord read = dsl.selectFrom(GATEWAY_GROUP)
                .where(GATEWAY_GROUP.ID.eq(group.getId()))
                .fetchSingle();
        assertThat(read.getHostnames()).containsExactly("api.acme.example", "*.acme.example");
        assertThat(read.getListenerPort()).isEqualTo(8080);

        long bare = group(dsl, "bare-" + suffix());
        assertThat(dsl.fetchValue(GATEWAY_GROUP.HOSTNAMES, GATEWAY_GROUP.ID.eq(bare)))
                .isEmpty();
    }

    @Test
    void routeDestination_weightAbove100_rejected() {
        DSLContext dsl = PG.dsl();
        long route = route(dsl, group(dsl, "g-" + suffix()));
        long upstream = upstream(dsl, "u-" + suffix(), "http1");

        assertThatThrownBy(() -> dsl.insertInto(
                                ROUTE_DESTINATION,
                                ROUTE_DESTINATION.ROUTE_ID,
                                ROUTE_DESTINATION.UPSTREAM_ID,
                                ROUTE_DESTINATION.WEIGHT)
                        .values(route, upstream, 101)
                        .execute())
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("route_destination_weight_check");
    }

    @Test
    void upstream_unknownProtocol_rejected() {
        assertThatThrownBy(() -> upstream(PG.dsl(), "u-" + suffix(), "http3"))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("upstream_protocol_check");
    }

    @Test
    void upstream_stillRoutedTo_cannotBeDeleted() {
        DSLContext dsl = PG.dsl();
        long route = route(dsl, group(dsl, "g-" + suffix()));
        long upstream = upstream(dsl, "u-" + suffix(), "http1");
        dsl.insertInto(
                        ROUTE_DESTINATION,
                        ROUTE_DESTINATION.ROUTE_ID,
                        ROUTE_DESTINATION.UPSTREAM_ID,
                        ROUTE_DESTINATION.WEIGHT)
                .values(route, upstream, 100)
                .execute();

        assertThatThrownBy(() ->
                        dsl.deleteFrom(UPSTREAM).where(UPSTREAM.ID.eq(upstream)).execute())
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("route_destination_upstream_fk");
        assertThat(dsl.fetchExists(UPSTREAM, UPSTREAM.ID.eq(upstream))).isTrue();
    }

    @Test
    void gatewayGroup_deleted_takesItsRoutesAlong() {
        DSLContext dsl = PG.dsl();
        long group = group(dsl, "g-" + suffix());
        long route = route(dsl, group);

        dsl.deleteFrom(GATEWAY_GROUP).where(GATEWAY_GROUP.ID.eq(group)).execute();

        assertThat(dsl.fetchExists(ROUTE, ROUTE.ID.eq(route))).isFalse();
    }

    @Test
    void api_defaultVersionThatDoesNotExist_rejected() {
        DSLContext dsl = PG.dsl();
        long apiId = dsl.insertInto(API, API.NAME)
                .values("a-" + suffix())
                .returning(API.ID)
                .fetchSingle()
                .getId();

        assertThatThrownBy(() -> dsl.update(API)
                        .set(API.DEFAULT_VERSION, "v9")
                        .where(API.ID.eq(apiId))
                        .execute())
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("api_default_version_fk");
    }

    @Test
    void apiVersion_successorFromAnotherApi_rejected() {
        DSLContext dsl = PG.dsl();
        long a = dsl.insertInto(API, API.NAME)
                .values("a-" + suffix())
                .returning(API.ID)
                .fetchSingle()
                .getId();
        long b = dsl.insertInto(API, API.NAME)
                .values("b-" + suffix())
                .returning(API.ID)
                .fetchSingle()
                .getId();
        dsl.insertInto(API_VERSION, API_VERSION.API_ID, API_VERSION.VERSION)
                .values(b, "v2")
                .execute();

        assertThatThrownBy(() -> dsl.insertInto(
                                API_VERSION, API_VERSION.API_ID, API_VERSION.VERSION, API_VERSION.SUCCESSOR)
                        .values(a, "v1", "v2")
                        .execute())
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("api_version_successor_fk");
    }

    @Test
    void apiVersion_unknownStatus_rejected() {
        DSLContext dsl = PG.dsl();
        long a = dsl.insertInto(API, API.NAME)
                .values("a-" + suffix())
                .returning(API.ID)
                .fetchSingle()
                .getId();

        assertThatThrownBy(
                        () -> dsl.insertInto(API_VERSION, API_VERSION.API_ID, API_VERSION.VERSION, API_VERSION.STATUS)
                                .values(a, "v1", "paused")
                                .execute())
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("api_version_status_check");
    }

    @Test
    void configRevision_storedJsonb_cannotBeUpdated() {
        DSLContext dsl = PG.dsl();
        long group = group(dsl, "g-" + suffix());
        ConfigRevisionRecord revision = dsl.insertInto(CONFIG_REVISION)
                .set(CONFIG_REVISION.GROUP_ID, group)
                .set(CONFIG_REVISION.CREATED_BY, "ops@acme")
                .set(CONFIG_REVISION.REASON, "canary 10%")
                .set(CONFIG_REVISION.CONTENT, JSONB.valueOf("{\"routes\": [{\"name\": \"payments\"}]}"))
                .returning()
                .fetchSingle();
        assertThat(revision.getId()).isPositive();
        assertThat(revision.getCreatedAt()).isNotNull();

        assertThatThrownBy(() -> dsl.update(CONFIG_REVISION)
                        .set(CONFIG_REVISION.REASON, "rewritten")
                        .where(CONFIG_REVISION.ID.eq(revision.getId()))
                        .execute())
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("immutable");
        assertThat(dsl.fetchValue(CONFIG_REVISION.REASON, CONFIG_REVISION.ID.eq(revision.getId())))
                .isEqualTo("canary 10%");
        assertThat(dsl.fetchValue(
                        "select content -> 'routes' -> 0 ->> 'name' from config_revision where id = ?",
                        revision.getId()))
                .isEqualTo("payments");
    }

    @Test
    void configRevisionPart_isContentAddressed_immutable_andARevisionNamesOnlyStoredParts() throws Exception {
        DSLContext dsl = PG.dsl();
        long group = group(dsl, "g-" + suffix());
        String json = "{\"name\":\"payments-" + suffix() + "\"}";
        String hex = java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                        .digest(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        dsl.execute("insert into config_revision_part (digest, content) values (decode(?, 'hex'), ?::json)", hex, json);

        // a digest that is not its content's: a writer cannot make a revision mean something else
        assertThatThrownBy(() -> dsl.execute(
                        "insert into config_revision_part (digest, content) values (decode(?, 'hex'), ?::json)",
                        hex.replace(hex.charAt(0), hex.charAt(0) == 'a' ? 'b' : 'a'),
                        "{\"name\":\"other\"}"))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("config_revision_part_digest");
        assertThatThrownBy(() -> dsl.execute(
                        "update config_revision_part set content = '{}'::json where digest = decode(?, 'hex')", hex))
                .hasMessageContaining("immutable");
        assertThatThrownBy(() -> dsl.execute("delete from config_revision_part where digest = decode(?, 'hex')", hex))
                .hasMessageContaining("immutable");

        String insert = "insert into config_revision (group_id, created_by, content, upstream_parts, route_parts)"
                + " values (?, 'ops', '{}'::json, array[]::bytea[], array[decode(?, 'hex')])";
        assertThat(dsl.execute(insert, group, hex)).isEqualTo(1);
        assertThatThrownBy(() -> dsl.execute(insert, group, "00".repeat(32)))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("not stored");
        assertThatThrownBy(() -> dsl.execute(
                        "insert into config_revision (group_id, created_by, content, route_parts)"
                                + " values (?, 'ops', '{}'::json, array[decode(?, 'hex')])",
                        group,
                        hex))
                .hasMessageContaining("or neither");
    }

    @Test
    void configRevisionChunk_isContentAddressed_immutable_andNamesOnlyStoredParts() throws Exception {
        DSLContext dsl = PG.dsl();
        long group = group(dsl, "g-" + suffix());
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        String json = "{\"name\":\"accounts-" + suffix() + "\"}";
        byte[] part = sha.digest(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String partHex = java.util.HexFormat.of().formatHex(part);
        dsl.execute(
                "insert into config_revision_part (digest, content) values (decode(?, 'hex'), ?::json)", partHex, json);
        // a chunk's digest is the SHA-256 of its parts' digests, concatenated in order
        String chunkHex = java.util.HexFormat.of().formatHex(sha.digest(part));
        String insertChunk = "insert into config_revision_chunk (digest, parts) values (decode(?, 'hex'),"
                + " array[decode(?, 'hex')])";
        assertThat(dsl.execute(insertChunk, chunkHex, partHex)).isEqualTo(1);

        assertThatThrownBy(() -> dsl.execute(insertChunk, "ab".repeat(32), partHex))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("config_revision_chunk_digest");
        String missing = "00".repeat(32);
        assertThatThrownBy(() -> dsl.execute(
                        insertChunk,
                        java.util.HexFormat.of()
                                .formatHex(sha.digest(java.util.HexFormat.of().parseHex(missing))),
                        missing))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("not stored");
        assertThatThrownBy(() -> dsl.execute(
                        "update config_revision_chunk set parts = array[]::bytea[] where digest = decode(?, 'hex')",
                        chunkHex))
                .hasMessageContaining("immutable");
        assertThatThrownBy(() ->
                        dsl.execute("delete from config_revision_chunk where digest = decode(?, 'hex')", chunkHex))
                .hasMessageContaining("immutable");

        String insert = "insert into config_revision (group_id, created_by, content, upstream_chunks, route_chunks)"
                + " values (?, 'ops', '{}'::json, array[]::bytea[], array[decode(?, 'hex')])";
        assertThat(dsl.execute(insert, group, chunkHex)).isEqualTo(1);
        assertThatThrownBy(() -> dsl.execute(insert, group, missing))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("not stored");
        // parts named both ways at once
        assertThatThrownBy(() -> dsl.execute(
                        "insert into config_revision (group_id, created_by, content, upstream_parts, route_parts,"
                                + " upstream_chunks, route_chunks) values (?, 'ops', '{}'::json, array[]::bytea[],"
                                + " array[decode(?, 'hex')], array[]::bytea[], array[decode(?, 'hex')])",
                        group,
                        partHex,
                        chunkHex))
                .hasMessageContaining("or neither");

        // V78: APIs through chunks too, only beside upstream and route chunks, and only chunks that are stored
        String withApis = "insert into config_revision (group_id, created_by, content, upstream_chunks, route_chunks,"
                + " api_chunks) values (?, 'ops', '{}'::json, array[]::bytea[], array[]::bytea[],"
                + " array[decode(?, 'hex')])";
        assertThat(dsl.execute(withApis, group, chunkHex)).isEqualTo(1);
        assertThatThrownBy(() -> dsl.execute(withApis, group, missing))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("not stored");
        assertThatThrownBy(() -> dsl.execute(
                        "insert into config_revision (group_id, created_by, content, api_chunks)"
                                + " values (?, 'ops', '{}'::json, array[decode(?, 'hex')])",
                        group,
                        chunkHex))
                .hasMessageContaining("or neither");
    }

    @Test
    void nodeStatus_upsertOfAck_replacesVersions() {
        DSLContext dsl = PG.dsl();
        String node = "sidecar~10.0.0.9~gw-" + suffix();
        for (String version : new String[] {"41", "42"}) {
            dsl.insertInto(NODE_STATUS)
                    .set(NODE_STATUS.NODE_ID, node)
                    .set(NODE_STATUS.GROUP_NAME, "edge")
                    .set(NODE_STATUS.CONNECTED, true)
                    .set(
                            NODE_STATUS.ACKED_VERSIONS,
                            JSONB.valueOf(
                                    "{\"type.googleapis.com/envoy.config.cluster.v3.Cluster\": \"" + version + "\"}"))
                    .set(NODE_STATUS.LAST_SEEN, OffsetDateTime.now(ZoneOffset.UTC))
                    .onConflict(NODE_STATUS.PEER_IDENTITY, NODE_STATUS.NODE_ID)
                    .doUpdate()
                    .set(NODE_STATUS.ACKED_VERSIONS, org.jooq.impl.DSL.excluded(NODE_STATUS.ACKED_VERSIONS))
                    .set(NODE_STATUS.LAST_SEEN, org.jooq.impl.DSL.excluded(NODE_STATUS.LAST_SEEN))
                    .execute();
        }
        dsl.update(NODE_STATUS)
                .set(NODE_STATUS.LAST_NACK_TYPE_URL, "type.googleapis.com/envoy.config.listener.v3.Listener")
                .set(NODE_STATUS.LAST_NACK_VERSION, "43")
                .set(NODE_STATUS.LAST_NACK_ERROR, "Proto constraint validation failed: " + "x".repeat(5000))
                .set(NODE_STATUS.LAST_NACK_AT, OffsetDateTime.now(ZoneOffset.UTC))
                .where(NODE_STATUS.NODE_ID.eq(node))
                .execute();

        NodeStatusRecord read =
                dsl.selectFrom(NODE_STATUS).where(NODE_STATUS.NODE_ID.eq(node)).fetchSingle();
        assertThat(read.getAckedVersions())
                .isEqualTo(JSONB.valueOf("{\"type.googleapis.com/envoy.config.cluster.v3.Cluster\": \"42\"}"));
        assertThat(read.getLastNackVersion()).isEqualTo("43");
        assertThat(read.getLastNackError()).hasSize("Proto constraint validation failed: ".length() + 5000);
        assertThat(dsl.fetchCount(NODE_STATUS, NODE_STATUS.NODE_ID.eq(node))).isEqualTo(1);
    }

    private static long group(DSLContext dsl, String name) {
        return dsl.insertInto(GATEWAY_GROUP, GATEWAY_GROUP.NAME, GATEWAY_GROUP.ENVIRONMENT)
                .values(name, "test")
                .returning(GATEWAY_GROUP.ID)
                .fetchSingle()
                .getId();
    }

    private static long upstream(DSLContext dsl, String name, String protocol) {
        return dsl.insertInto(UPSTREAM, UPSTREAM.NAME, UPSTREAM.PROTOCOL)
                .values(name, protocol)
                .returning(UPSTREAM.ID)
                .fetchSingle()
                .getId();
    }

    private static long route(DSLContext dsl, long group) {
        return dsl.insertInto(ROUTE, ROUTE.GROUP_ID, ROUTE.NAME, ROUTE.PATH)
                .values(group, "r-" + suffix(), "/")
                .returning(ROUTE.ID)
                .fetchSingle()
                .getId();
    }

    private static String suffix() {
        return UUID.randomUUID().toString().substring(0, 8);
    }
}
