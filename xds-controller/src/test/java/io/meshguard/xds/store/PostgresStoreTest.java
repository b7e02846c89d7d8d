package io.meshguard.xds.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.Cors;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.server.LoopbackCores;
import io.meshguard.xds.server.NodeStatus;
import io.meshguard.xds.server.PgNodeStatusWriter;
import io.meshguard.xds.server.Publisher;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The PostgreSQL side against a real, migrated PostgreSQL: draft tables, revisions, NOTIFY, node status. */
@IntegrationTest
class PostgresStoreTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static HikariDataSource ds;

    @BeforeAll
    static void start() {
        ds = PG.dataSource();
    }

    @AfterAll
    static void stop() {}

    static GatewayConfig sample() throws Exception {
        try (InputStream in = XdsCore.class.getResourceAsStream("sample-gateway.yaml")) {
            return GatewayYaml.read("sample-gateway.yaml", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static GatewayConfig sorted(GatewayConfig c) {
        return new GatewayConfig(
                c.groups().stream().sorted(Comparator.comparing(g -> g.name())).toList(),
                c.upstreams().stream()
                        .sorted(Comparator.comparing(u -> u.name()))
                        .toList(),
                c.apis().stream().sorted(Comparator.comparing(a -> a.name())).toList(),
                c.routes().stream()
                        .sorted(Comparator.comparing(r -> r.group() + "/" + r.name()))
                        .toList());
    }

    @Test
    void draft_concurrentEditsFromTwoReplicas_loseNothing() throws Exception {
        GatewayConfig sample = sample();
        new PgGatewayStore(ds).replace(sample);
        String upstream = sample.upstreams().get(0).name();
        int before = sample.upstreams().get(0).endpoints().size();
        // Two stores stand for two controller replicas; every edit is a read-modify-write of the SAME upstream,
        // each adding its own endpoint: without a database-wide lock the last writer drops the others' endpoints.
        List<PgGatewayStore> replicas = List.of(new PgGatewayStore(ds), new PgGatewayStore(ds));
        int threads = 6;
        int editsPerThread = 5;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                PgGatewayStore replica = replicas.get(t % 2);
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < editsPerThread; i++) {
                        int port = 20_000 + thread * 100 + i;
                        replica.edit(c -> new GatewayConfig(
                                c.groups(),
                                c.upstreams().stream()
                                        .map(u -> {
                                            if (!u.name().equals(upstream)) {
                                                return u;
                                            }
                                            List<Upstream.Endpoint> more = new ArrayList<>(u.endpoints());
                                            more.add(new Upstream.Endpoint("127.0.0.1", port, 1));
                                            return u.withEndpoints(more);
                                        })
                                        .toList(),
                                c.apis(),
                                c.routes()));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(new PgGatewayStore(ds)
                        .load()
                        .upstream(upstream)
                        .orElseThrow()
                        .endpoints())
                .hasSize(before + threads * editsPerThread);
        new PgGatewayStore(ds).replace(sample);
    }

    @Test
    void draft_oneRouteEdit_writesThatRouteOnly() throws Exception {
        PgGatewayStore store = new PgGatewayStore(ds);
        GatewayConfig sample = sample();
        store.replace(sample);
        String changed = "payments-v2-transfers";
        Map<String, String> before = rowVersions("select name, xmin::text from route");
        Map<String, String> upstreamsBefore = rowVersions("select name, xmin::text from upstream");
        Map<String, String> apisBefore = rowVersions("select name, xmin::text from api");

        store.edit(c -> withRoute(
                c,
                changed,
                r -> r.withDestinations(List.of(
                        new Route.Destination("payments-v2", 80), new Route.Destination("payments-v2-canary", 20)))));

        Map<String, String> after = rowVersions("select name, xmin::text from route");
        assertThat(after.keySet()).isEqualTo(before.keySet());
        after.forEach((name, version) -> assertThat(version.equals(before.get(name)))
                .as("route %s rewritten", name)
                .isEqualTo(!name.equals(changed)));
        assertThat(rowVersions("select name, xmin::text from upstream")).isEqualTo(upstreamsBefore);
        assertThat(rowVersions("select name, xmin::text from api")).isEqualTo(apisBefore);
        assertThat(route(store.load(), changed).destinations())
                .extracting(Route.Destination::weight)
                .containsExactly(80, 20);
        store.replace(sample);
    }

    @Test
    void draft_readAgainAfterAChange_keepsTheInstancesOfWhatDidNotChange() throws Exception {
        PgGatewayStore store = new PgGatewayStore(ds);
        store.replace(sample());
        GatewayConfig before = store.load();
        String changed = "payments-v2-transfers";

        // this replica's edit, then another's (whose draft this one reads whole)
        store.edit(c -> withRoute(c, changed, r -> withTimeout(r, 3_000L)));
        GatewayConfig afterOwnEdit = store.load();
        new PgGatewayStore(ds).edit(c -> withRoute(c, changed, r -> withTimeout(r, 4_000L)));
        GatewayConfig afterOtherEdit = store.load();

        for (GatewayConfig after : List.of(afterOwnEdit, afterOtherEdit)) {
            assertThat(route(after, changed)).isNotEqualTo(route(before, changed));
            for (Route r : before.routes()) {
                if (!r.name().equals(changed)) {
                    assertThat(route(after, r.name())).as("route %s", r.name()).isSameAs(r);
                }
            }
            assertThat(after.apis()).as("apis").containsExactlyElementsOf(before.apis());
            for (int i = 0; i < before.apis().size(); i++) {
                assertThat(after.apis().get(i)).isSameAs(before.apis().get(i));
            }
            assertThat(after.groups().get(0)).isSameAs(before.groups().get(0));
        }
        assertThat(route(afterOtherEdit, changed).timeoutMs()).contains(4_000L);
        store.replace(sample());
    }

    @Test
    void draft_changedByAnotherReplicaOrBySql_isReadAgain() throws Exception {
        GatewayConfig sample = sample();
        PgGatewayStore replica = new PgGatewayStore(ds);
        replica.replace(sample);
        String route = "payments-v1-transfers";
        assertThat(route(replica.load(), route).timeoutMs()).isEmpty();

        // another replica's edit
        new PgGatewayStore(ds).edit(c -> withRoute(c, route, r -> withTimeout(r, 4_000L)));
        assertThat(route(replica.load(), route).timeoutMs()).contains(4_000L);

        // an operator's SQL on a parent table, then on a child table, then with the generation's row gone
        sql("update route set timeout_ms = 5000 where name = '" + route + "'");
        assertThat(route(replica.load(), route).timeoutMs()).contains(5_000L);
        sql("delete from route_destination where route_id = (select id from route where name = '" + route + "')");
        assertThat(route(replica.load(), route).destinations()).isEmpty();
        sql("delete from draft_generation");
        sql("update route set timeout_ms = 6000 where name = '" + route + "'");
        assertThat(route(replica.load(), route).timeoutMs()).contains(6_000L);
        sql("insert into draft_generation (id, n) values (1, 1000000)");
        replica.replace(sample);
        assertThat(sorted(new PgGatewayStore(ds).load())).isEqualTo(sorted(sample));
    }

    @Test
    void draft_routeEdits_readBackWhatTheyWrote_asAWholeReadFindsIt() throws Exception {
        GatewayConfig sample = sample();
        PgGatewayStore store = new PgGatewayStore(ds);
        store.replace(sample);
        Route template = route(sample, "payments-v2-transfers");

        // in place; then added between others in name order; then added after an operator moved a route first
        store.edit(c -> withRoute(c, template.name(), r -> withTimeout(r, 3_000L)));
        assertReadAsAWhole(store);
        store.edit(c -> withAdded(c, renamed(template, "payments-v2-aaa")));
        assertReadAsAWhole(store);
        sql("update route set priority = -1 where name = 'payments-v2-aaa'");
        store.edit(c -> withAdded(c, renamed(template, "payments-v2-zzz")));
        assertThat(store.load().routes().get(0).name()).isEqualTo("payments-v2-aaa");
        assertReadAsAWhole(store);
        // removed; a disabled route written again (enabled); routes with an upstream (read whole)
        store.edit(c -> new GatewayConfig(
                c.groups(),
                c.upstreams(),
                c.apis(),
                c.routes().stream()
                        .filter(r -> !r.name().equals("payments-v2-zzz"))
                        .toList()));
        assertReadAsAWhole(store);
        sql("update route set enabled = false where name = 'payments-v2-aaa'");
        GatewayConfig withoutDisabled = store.load();
        assertThat(withoutDisabled.routes()).noneMatch(r -> r.name().equals("payments-v2-aaa"));
        store.edit(c -> withAdded(c, renamed(template, "payments-v2-aaa")));
        assertReadAsAWhole(store);
        store.edit(c -> withEndpointPort(withRoute(c, template.name(), r -> withTimeout(r, 5_000L)), 8443));
        assertReadAsAWhole(store);
        store.replace(sample);
        assertReadAsAWhole(store);
    }

    /** What {@code store} holds as the draft equals, in order too, what a replica reading it whole finds. */
    private static void assertReadAsAWhole(PgGatewayStore store) {
        assertThat(store.load()).isEqualTo(new PgGatewayStore(ds).load());
    }

    private static GatewayConfig withAdded(GatewayConfig c, Route r) {
        List<Route> routes = new java.util.ArrayList<>(c.routes());
        routes.add(r);
        return new GatewayConfig(c.groups(), c.upstreams(), c.apis(), routes);
    }

    private static Route renamed(Route r, String name) {
        return copy(
                r,
                name,
                new Route.Match(
                        Optional.of("/" + name),
                        Optional.empty(),
                        Optional.empty(),
                        r.match().methods(),
                        r.match().headers()),
                r.timeoutMs());
    }

    private static Route route(GatewayConfig c, String name) {
        return c.routes().stream()
                .filter(r -> r.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    /** {@code c} with route {@code name} changed by {@code change}. */
    static GatewayConfig withRoute(GatewayConfig c, String name, java.util.function.UnaryOperator<Route> change) {
        return new GatewayConfig(
                c.groups(),
                c.upstreams(),
                c.apis(),
                c.routes().stream()
                        .map(r -> r.name().equals(name) ? change.apply(r) : r)
                        .toList());
    }

    static Route withTimeout(Route r, long ms) {
        return copy(r, r.name(), r.match(), Optional.of(ms));
    }

    private static Route copy(Route r, String name, Route.Match match, Optional<Long> timeoutMs) {
        return new Route(
                name,
                r.group(),
                r.api(),
                r.version(),
                match,
                r.destinations(),
                timeoutMs,
                r.idleTimeoutMs(),
                r.streaming(),
                r.retry(),
                r.requestHeadersToAdd(),
                r.requestHeadersToRemove(),
                r.responseHeadersToAdd(),
                r.authzProfile(),
                r.dlpProfile(),
                r.product());
    }

    private static Map<String, String> rowVersions(String query) throws Exception {
        Map<String, String> out = new java.util.TreeMap<>();
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery(query)) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    private static void sql(String statement) throws Exception {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            st.execute(statement);
        }
    }

    @Test
    void draft_refusedEdit_writesNothing() throws Exception {
        PgGatewayStore store = new PgGatewayStore(ds);
        GatewayConfig sample = sample();
        store.replace(sample);
        assertThatThrownBy(() -> store.edit(c -> {
                    throw new IllegalStateException("refused by validation");
                }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("refused by validation");
        assertThat(sorted(store.load())).isEqualTo(sorted(sample));
    }

    @Test
    void draft_replaceThenLoad_givesBackTheSameConfiguration() throws Exception {
        PgGatewayStore store = new PgGatewayStore(ds);
        GatewayConfig sample = sample();
        store.replace(sample);
        assertThat(sorted(store.load())).isEqualTo(sorted(sample));

        GatewayConfig fewer = new GatewayConfig(
                sample.groups(),
                sample.upstreams(),
                sample.apis(),
                sample.routes().subList(0, 1));
        store.replace(fewer);
        assertThat(store.load().routes())
                .extracting(r -> r.name())
                .containsExactly(sample.routes().get(0).name());
        store.replace(sample);
        assertThat(sorted(store.load())).isEqualTo(sorted(sample));
    }

    @Test
    void draft_upstreamTls_roundTrips() throws Exception {
        PgGatewayStore store = new PgGatewayStore(ds);
        GatewayConfig sample = sample();
        Upstream.Tls tls = new Upstream.Tls(
                Optional.of("gw.partner.example"),
                List.of("gw.partner.example"),
                Optional.of("/etc/meshguard/partner-ca.pem"));
        Upstream first = sample.upstreams().get(0);
        Upstream withTls = new Upstream(
                first.name(),
                first.protocol(),
                first.lbPolicy(),
                first.connectTimeoutMs(),
                first.endpoints(),
                first.healthCheck(),
                first.circuitBreaker(),
                first.outlierDetection(),
                Optional.of(tls),
                first.addressExceptions());
        List<Upstream> upstreams = new ArrayList<>(sample.upstreams());
        upstreams.set(0, withTls);
        store.replace(new GatewayConfig(sample.groups(), upstreams, sample.apis(), sample.routes()));
        assertThat(store.load().upstream(first.name()).orElseThrow().tls()).contains(tls);
        store.replace(sample);
        assertThat(store.load().upstream(first.name()).orElseThrow().tls()).isEmpty();
    }

    @Test
    void draft_upstreamHost_roundTrips_andClears() throws Exception {
        PgGatewayStore store = new PgGatewayStore(ds);
        GatewayConfig sample = sample();
        Upstream first = sample.upstreams().get(0);
        Upstream withHost = new Upstream(
                first.name(),
                first.protocol(),
                first.lbPolicy(),
                first.connectTimeoutMs(),
                first.endpoints(),
                first.healthCheck(),
                first.circuitBreaker(),
                first.outlierDetection(),
                first.tls(),
                first.addressExceptions(),
                Optional.of("orders.shop.svc.cluster.local"));
        List<Upstream> upstreams = new ArrayList<>(sample.upstreams());
        upstreams.set(0, withHost);
        store.replace(new GatewayConfig(sample.groups(), upstreams, sample.apis(), sample.routes()));
        assertThat(store.load().upstream(first.name()).orElseThrow()).isEqualTo(withHost);
        store.replace(sample);
        assertThat(store.load().upstream(first.name()).orElseThrow().host()).isEmpty();
    }

    @Test
    void draft_groupAndApiCors_roundTrip() throws Exception {
        PgGatewayStore store = new PgGatewayStore(ds);
        GatewayConfig sample = sample();
        GatewayGroup first = sample.groups().get(0);
        String api = sample.apis().get(0).name();
        Cors groupCors = new Cors(List.of("https://app.bank.example"), null, null, null, true, Optional.of(300L));
        Cors apiCors = new Cors(
                List.of("https://agent.bank.example"),
                List.of("GET", "POST"),
                List.of("authorization", "last-event-id"),
                List.of("x-request-id"),
                false,
                Optional.empty());
        GatewayGroup withCors = new GatewayGroup(
                first.name(),
                first.environment(),
                first.region(),
                first.domain(),
                first.hostnames(),
                first.hostnameTemplate(),
                first.listenerPort(),
                first.proxylessAuthz(),
                Optional.of(groupCors),
                Map.of(api, apiCors));
        List<GatewayGroup> groups = new ArrayList<>(sample.groups());
        groups.set(0, withCors);
        store.replace(new GatewayConfig(groups, sample.upstreams(), sample.apis(), sample.routes()));

        GatewayGroup loaded = store.load().group(first.name()).orElseThrow();
        assertThat(loaded.cors()).contains(groupCors);
        assertThat(loaded.apiCors()).containsExactly(Map.entry(api, apiCors));
        store.replace(sample);
        assertThat(store.load().group(first.name()).orElseThrow().cors()).isEmpty();
        assertThat(store.load().group(first.name()).orElseThrow().apiCors()).isEmpty();
    }

    @Test
    void revisions_areStoredImmutable_andAnnounced() throws Exception {
        PgGatewayStore draft = new PgGatewayStore(ds);
        draft.replace(sample());
        PgRevisionStore store = new PgRevisionStore(ds);
        GatewayConfig slice = sample().slice("local");

        Revision r = store.append("local", slice, "alice", "first");

        assertThat(store.get(r.id()).orElseThrow().config()).isEqualTo(slice);
        assertThat(store.get(r.id()).orElseThrow().actor()).isEqualTo("alice");
        assertThat(store.latestPerGroup().get("local").id()).isEqualTo(r.id());
        assertThat(store.list(Optional.of("local"), 10))
                .extracting(Revision.Summary::id)
                .contains(r.id());
        assertThat(store.newestId()).isGreaterThanOrEqualTo(r.id());
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.executeUpdate("update config_revision set reason = 'x' where id = " + r.id()))
                    .hasMessageContaining("immutable");
        }
        assertThatThrownBy(() -> store.append("no-such-group", slice, "alice", "x"))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("no-such-group");
    }

    @Test
    void revisions_prepared_areNeitherStoredNorAnnounced_untilCommitted() throws Exception {
        new PgGatewayStore(ds).replace(sample());
        PgRevisionStore store = new PgRevisionStore(ds);
        GatewayConfig slice = sample().slice("local");
        try (Connection listen = ds.getConnection();
                Statement st = listen.createStatement()) {
            st.execute("listen " + PgRevisionStore.CHANNEL);
            long newest = store.newestId();

            store.prepare(Map.of("local", slice), "alice", "refused later").abort();
            RevisionStore.Pending pending = store.prepare(Map.of("local", slice), "alice", "passed");

            assertThat(store.newestId()).isEqualTo(newest);
            assertThat(notifications(listen, 300)).isEmpty();
            Revision r = pending.commit().get("local");
            assertThat(store.newestId()).isEqualTo(r.id());
            assertThat(store.get(r.id()).orElseThrow().config()).isEqualTo(slice);
            assertThat(notifications(listen, 5_000)).containsExactly(Long.toString(r.id()));
            assertThatThrownBy(pending::commit).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void revisions_storeWhatChanged_shareTheOtherParts_andReadBackEqual() throws Exception {
        new PgGatewayStore(ds).replace(sample());
        PgRevisionStore store = new PgRevisionStore(ds);
        GatewayConfig before = sample().slice("local");
        GatewayConfig after = withRoute(before, "payments-v2-transfers", r -> withTimeout(r, 2_500L));

        Revision first = store.append("local", before, "alice", "first");
        long parts = count("select count(*) from config_revision_part");
        long chunks = count("select count(*) from config_revision_chunk");
        Revision second = store.append("local", after, "alice", "one route");

        // the changed route's part and the chunk or two holding it, nothing else; the rest is shared with the first
        assertThat(count("select count(*) from config_revision_part")).isEqualTo(parts + 1);
        assertThat(count("select count(*) from config_revision_chunk")).isBetween(chunks + 1, chunks + 2);
        assertThat(count("select sum(cardinality(k.parts)) from config_revision r cross join unnest(r.route_chunks)"
                        + " as c(d) join config_revision_chunk k on k.digest = c.d where r.id = " + second.id()))
                .isEqualTo(after.routes().size());
        assertThat(store.get(first.id()).orElseThrow().config()).isEqualTo(before);
        assertThat(store.get(second.id()).orElseThrow().config()).isEqualTo(after);
        assertThat(store.latestPerGroup().get("local").config()).isEqualTo(after);
        // the document itself holds the group alone; its APIs are parts too, in chunks shared with the first
        assertThat(count("select json_array_length(content->'routes') + json_array_length(content->'apis')"
                        + " from config_revision where id = " + second.id()))
                .isZero();
        assertThat(count("select sum(cardinality(k.parts)) from config_revision r cross join unnest(r.api_chunks)"
                        + " as c(d) join config_revision_chunk k on k.digest = c.d where r.id = " + second.id()))
                .isEqualTo(after.apis().size());
        assertThat(count("select count(*) from config_revision a join config_revision b on a.api_chunks = b.api_chunks"
                        + " where a.id = " + first.id() + " and b.id = " + second.id()))
                .isOne();

        // another replica (nothing remembered) publishing the same content: the parts are there already
        Revision again = new PgRevisionStore(ds).append("local", after, "bob", "same again");
        assertThat(count("select count(*) from config_revision_part")).isEqualTo(parts + 1);
        assertThat(new PgRevisionStore(ds).get(again.id()).orElseThrow().config())
                .isEqualTo(after);
    }

    /**
     * Another replica reads a publish by what it has not read: the unchanged routes and upstreams are the instances
     * of its last read (its build takes them whole), and a part it read before is not fetched again, so not even an
     * edit behind the part's constraint reaches it; a replica that never read the part refuses it.
     */
    @Test
    void revisions_readOnAnotherReplica_fetchOnlyWhatItHasNotRead() throws Exception {
        new PgGatewayStore(ds).replace(sample());
        PgRevisionStore writer = new PgRevisionStore(ds);
        GatewayConfig before = sample().slice("local");
        GatewayConfig after = withRoute(before, "payments-v2-transfers", r -> withTimeout(r, 4_400L));
        Revision first = writer.append("local", before, "alice", "first");
        Revision second = writer.append("local", after, "alice", "one route");
        PgRevisionStore replica = new PgRevisionStore(ds);
        GatewayConfig firstRead = replica.get(first.id()).orElseThrow().config();

        String unchanged = "payments-v1-transfers";
        String part = "decode('" + digestOf(after, unchanged) + "', 'hex')";
        sql("alter table config_revision_part drop constraint config_revision_part_digest");
        sql("alter table config_revision_part disable trigger config_revision_part_immutable");
        try {
            sql("update config_revision_part set content = replace(content::text, '\"name\":\"', "
                    + "'\"name\":\"attacker-')::json where digest = " + part);

            GatewayConfig secondRead = replica.get(second.id()).orElseThrow().config();
            assertThat(secondRead).isEqualTo(after);
            for (int i = 0; i < after.routes().size(); i++) {
                Route r = secondRead.routes().get(i);
                if (r.name().equals("payments-v2-transfers")) {
                    assertThat(r).isNotSameAs(firstRead.routes().get(i));
                } else {
                    assertThat(r).isSameAs(firstRead.routes().get(i));
                }
            }
            for (int i = 0; i < after.upstreams().size(); i++) {
                assertThat(secondRead.upstreams().get(i))
                        .isSameAs(firstRead.upstreams().get(i));
            }
            assertThatThrownBy(() -> new PgRevisionStore(ds).get(second.id()))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("does not match its digest");
        } finally {
            sql("update config_revision_part set content = replace(content::text, '\"name\":\"attacker-', "
                    + "'\"name\":\"')::json where digest = " + part);
            sql("alter table config_revision_part enable trigger config_revision_part_immutable");
            sql("alter table config_revision_part add constraint config_revision_part_digest"
                    + " check (digest = sha256(convert_to(content::text, 'UTF8')))");
        }
        assertThat(new PgRevisionStore(ds).get(second.id()).orElseThrow().config())
                .isEqualTo(after);
    }

    @Test
    void revisions_groupChangedUnderTheSameApis_storeTheNewGroup() throws Exception {
        new PgGatewayStore(ds).replace(sample());
        PgRevisionStore store = new PgRevisionStore(ds);
        GatewayConfig before = sample().slice("local");
        GatewayGroup g = before.groups().get(0);
        GatewayConfig after = new GatewayConfig(
                List.of(new GatewayGroup(
                        g.name(),
                        g.environment(),
                        g.region(),
                        g.domain(),
                        List.of("moved.bank.example"),
                        g.hostnameTemplate(),
                        g.listenerPort(),
                        g.proxylessAuthz(),
                        g.cors(),
                        g.apiCors(),
                        g.templateKind())),
                before.upstreams(),
                before.apis(), // the same list instance: the revision's JSON is remembered by it
                before.routes());

        store.append("local", before, "alice", "first");
        Revision moved = store.append("local", after, "alice", "group hostnames");

        assertThat(new PgRevisionStore(ds).get(moved.id()).orElseThrow().config())
                .isEqualTo(after);
    }

    @Test
    void revisions_abortedPrepare_leavesNoPart_andTheNextPublishWritesIt() throws Exception {
        new PgGatewayStore(ds).replace(sample());
        PgRevisionStore store = new PgRevisionStore(ds);
        GatewayConfig slice = withRoute(sample().slice("local"), "payments-v1-transfers", r -> withTimeout(r, 7_100L));
        long parts = count("select count(*) from config_revision_part");

        store.prepare(Map.of("local", slice), "alice", "refused").abort();
        assertThat(count("select count(*) from config_revision_part")).isEqualTo(parts);

        // the store must not take the aborted part for stored: the revision would name a part that is not there
        Revision r = store.append("local", slice, "alice", "passed");
        assertThat(store.get(r.id()).orElseThrow().config()).isEqualTo(slice);
    }

    /**
     * A revision row holding its objects in {@code content} alone (the layout of builds from before 1.0, which the
     * schema still admits) is never served: every revision this store writes names them through chunks.
     */
    @Test
    void revisions_holdingEverythingInTheirDocument_areRefused_notServed() throws Exception {
        new PgGatewayStore(ds).replace(sample());
        GatewayConfig slice = sample().slice("local");
        sql("insert into config_revision (group_id, created_by, reason, content)"
                + " select id, 'ops', 'by hand', '" + ConfigJson.write(slice).replace("'", "''") + "'::json"
                + " from gateway_group where name = 'local'");
        PgRevisionStore store = new PgRevisionStore(ds);
        long id = store.latestIds().get("local");

        try {
            assertThatThrownBy(() -> store.get(id))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("revision " + id + " of group local does not name its upstreams, routes"
                            + " and APIs through chunks");
            assertThatThrownBy(store::latestPerGroup).isInstanceOf(StoreException.class);
        } finally {
            // the class's other tests serve group local's newest revision
            sql("alter table config_revision disable trigger config_revision_immutable");
            sql("delete from config_revision where id = " + id);
            sql("alter table config_revision enable trigger config_revision_immutable");
        }
    }

    @Test
    void revisionPart_alteredBehindItsConstraintAndTrigger_isRefusedOnRead_notServed() throws Exception {
        new PgGatewayStore(ds).replace(sample());
        GatewayConfig slice = withRoute(sample().slice("local"), "payments-v2-transfers", r -> withTimeout(r, 3_300L));
        Revision r = new PgRevisionStore(ds).append("local", slice, "alice", "to be tampered with");
        String part = "(select k.parts[1] from config_revision r join config_revision_chunk k"
                + " on k.digest = r.route_chunks[1] where r.id = " + r.id() + ")";
        String original;
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                java.sql.ResultSet rs =
                        st.executeQuery("select content::text from config_revision_part where digest = " + part)) {
            rs.next();
            original = rs.getString(1);
        }
        // an insider with the owner's rights: the constraint dropped, the trigger off, a route sent elsewhere
        sql("alter table config_revision_part drop constraint config_revision_part_digest");
        sql("alter table config_revision_part disable trigger config_revision_part_immutable");
        try {
            sql("update config_revision_part set content = '" + original.replace("\"name\":\"", "\"name\":\"attacker-")
                    + "'::json where digest = " + part);

            assertThatThrownBy(() -> new PgRevisionStore(ds).get(r.id()))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("does not match its digest");
        } finally {
            sql("update config_revision_part set content = '" + original + "'::json where digest = " + part);
            sql("alter table config_revision_part enable trigger config_revision_part_immutable");
            sql("alter table config_revision_part add constraint config_revision_part_digest"
                    + " check (digest = sha256(convert_to(content::text, 'UTF8')))");
        }
        assertThat(new PgRevisionStore(ds).get(r.id()).orElseThrow().config()).isEqualTo(slice);
    }

    @Test
    void revisionChunk_pointedAtAnotherPartBehindItsConstraintAndTrigger_isRefusedOnRead() throws Exception {
        new PgGatewayStore(ds).replace(sample());
        PgRevisionStore store = new PgRevisionStore(ds);
        GatewayConfig old = withRoute(sample().slice("local"), "payments-v2-transfers", r -> withTimeout(r, 1_100L));
        GatewayConfig now = withRoute(old, "payments-v2-transfers", r -> withTimeout(r, 1_200L));
        store.append("local", old, "alice", "the old timeout");
        Revision r = store.append("local", now, "alice", "the new timeout");
        String oldPart = digestOf(old, "payments-v2-transfers");
        String newPart = digestOf(now, "payments-v2-transfers");
        String chunk =
                "(select k.digest from config_revision r join config_revision_chunk k on k.digest = any(r.route_chunks)"
                        + " where r.id = " + r.id() + " and k.parts @> array[decode('" + newPart + "', 'hex')])";
        // an insider with the owner's rights: the chunk's constraint dropped, its trigger off, the new route's part
        // swapped for the old one (a part that is stored, so every part still matches its own digest)
        sql("alter table config_revision_chunk drop constraint config_revision_chunk_digest");
        sql("alter table config_revision_chunk disable trigger config_revision_chunk_immutable");
        try {
            sql("update config_revision_chunk set parts = array_replace(parts, decode('" + newPart + "', 'hex'),"
                    + " decode('" + oldPart + "', 'hex')) where digest = " + chunk);

            // the chunk's parts no longer give its digest; a consistent chunk named instead changes the revision's
            // seal (RevisionSealTest), which covers every part and is what `audit verify` checks
            assertThatThrownBy(() -> new PgRevisionStore(ds).get(r.id()))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("revision chunk")
                    .hasMessageContaining("does not match its digest");
        } finally {
            sql("update config_revision_chunk set parts = array_replace(parts, decode('" + oldPart + "', 'hex'),"
                    + " decode('" + newPart + "', 'hex')) where parts @> array[decode('" + oldPart + "', 'hex')]"
                    + " and digest <> config_revision_chunk_digest(parts)");
            sql("alter table config_revision_chunk enable trigger config_revision_chunk_immutable");
            sql("alter table config_revision_chunk add constraint config_revision_chunk_digest"
                    + " check (digest = config_revision_chunk_digest(parts))");
        }
        assertThat(new PgRevisionStore(ds).get(r.id()).orElseThrow().config()).isEqualTo(now);
    }

    /** The hex SHA-256 of a route's JSON: its part's digest. */
    private static String digestOf(GatewayConfig c, String route) throws Exception {
        return java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                        .digest(ConfigJson.write(route(c, route)).getBytes(StandardCharsets.UTF_8)));
    }

    private static long count(String query) throws Exception {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> notifications(Connection c, int waitMs) throws Exception {
        org.postgresql.PGNotification[] got =
                c.unwrap(org.postgresql.PGConnection.class).getNotifications(waitMs);
        return got == null
                ? List.of()
                : java.util.Arrays.stream(got)
                        .filter(n -> n.getName().equals(PgRevisionStore.CHANNEL))
                        .map(org.postgresql.PGNotification::getParameter)
                        .toList();
    }

    @Test
    void publishOnOneReplica_isServedByAnotherThroughNotify() throws Exception {
        new PgGatewayStore(ds).replace(sample());
        PgRevisionStore revisions = new PgRevisionStore(ds);
        try (XdsCore one = LoopbackCores.over(revisions);
                XdsCore two = LoopbackCores.over(revisions);
                RevisionListener listener = new RevisionListener(
                                ds,
                                revisions,
                                () -> two.publisher().applyLatest(),
                                Duration.ofMillis(20),
                                Duration.ofMinutes(5))
                        .start()) {
            GatewayConfig changed = sample();
            Publisher.Result result = one.publisher().publish(withEndpointPort(changed, 19999), "bob", "move");
            assertThat(result.published()).isTrue();
            long id = result.revisions().get("local").id();

            await().atMost(Duration.ofSeconds(10))
                    .until(() -> two.publisher().servedRevision("local").equals(Optional.of(id)));
            assertThat(two.snapshots().served("local").orElseThrow().versions())
                    .isEqualTo(one.snapshots().served("local").orElseThrow().versions());
        }
    }

    @Test
    void revisionStoredWithoutNotify_isServedByTheReconcile() throws Exception {
        new PgGatewayStore(ds).replace(sample());
        PgRevisionStore revisions = new PgRevisionStore(ds);
        Revision stored = revisions.append("local", sample().slice("local"), "alice", "stored");
        try (XdsCore replica = LoopbackCores.over(revisions);
                RevisionListener listener = new RevisionListener(
                                ds,
                                revisions,
                                () -> replica.publisher().applyLatest(),
                                Duration.ofMillis(10),
                                Duration.ofMillis(200))
                        .start()) {
            // a revision that arrives without a notification (e.g. NOTIFY lost while the connection was down)
            long id;
            try (Connection c = ds.getConnection();
                    var ps = c.prepareStatement("""
                    insert into config_revision
                        (group_id, created_by, reason, content, upstream_chunks, route_chunks, api_chunks)
                    select group_id, 'restore', 'no notify', content, upstream_chunks, route_chunks, api_chunks
                    from config_revision where id = ?
                    returning id""")) {
                ps.setLong(1, stored.id());
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> replica.publisher().servedRevision("local").equals(Optional.of(id)));
        }
    }

    @Test
    void nodeStatus_isWrittenAndReadBack() {
        try (PgNodeStatusWriter writer = new PgNodeStatusWriter(ds, "replica-1")) {
            NodeStatus s = new NodeStatus(
                    "envoy-1",
                    "local",
                    true,
                    2,
                    "envoy 1.36",
                    Map.of("type.googleapis.com/envoy.config.cluster.v3.Cluster", "abc"),
                    Optional.of(7L),
                    Optional.of(new NodeStatus.Nack(
                            "type.googleapis.com/envoy.config.listener.v3.Listener",
                            "def",
                            "bad filter",
                            Instant.parse("2026-01-01T00:00:00Z"))),
                    Instant.parse("2026-01-01T00:00:01Z"));
            writer.changed(s);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> writer.all().stream().anyMatch(n -> n.nodeId().equals("envoy-1")));
            assertThat(writer.all())
                    .filteredOn(n -> n.nodeId().equals("envoy-1"))
                    .singleElement()
                    .isEqualTo(s);
        }
    }

    /** Review IC-07: `up` publishes the sample as read from YAML; the first admin publish reads the same from the draft. */
    @Test
    void publish_ofTheDraftAfterTheSameConfigFromYaml_appendsNoRevision() throws Exception {
        PgGatewayStore draft = new PgGatewayStore(ds);
        GatewayConfig fromYaml = io.meshguard.xds.XdsController.sampleConfig();
        draft.replace(fromYaml);
        PgRevisionStore revisions = new PgRevisionStore(ds);
        try (XdsCore core = LoopbackCores.over(revisions)) {
            Publisher.Result first = core.publisher().publish(fromYaml, "meshguard-up", "sample");
            assertThat(first.published()).isTrue();
            long newest = revisions.newestId();

            Publisher.Result again = core.publisher().publish(draft.load(), "alice", "no edits");

            assertThat(again.published()).isTrue();
            assertThat(again.revisions()).isEmpty();
            assertThat(revisions.newestId()).isEqualTo(newest);
        }
    }

    private static GatewayConfig withEndpointPort(GatewayConfig c, int port) {
        return new GatewayConfig(
                c.groups(),
                c.upstreams().stream()
                        .map(u -> new io.meshguard.xds.model.Upstream(
                                u.name(),
                                u.protocol(),
                                u.lbPolicy(),
                                u.connectTimeoutMs(),
                                u.endpoints().stream()
                                        .map(e -> new io.meshguard.xds.model.Upstream.Endpoint(
                                                e.address(), port, e.weight()))
                                        .toList(),
                                u.healthCheck(),
                                u.circuitBreaker(),
                                u.outlierDetection(),
                                u.tls(),
                                u.addressExceptions().stream()
                                        .map(x -> new io.meshguard.xds.model.Upstream.AddressException(
                                                x.address(), port, x.reason()))
                                        .toList()))
                        .toList(),
                c.apis(),
                c.routes());
    }
}
