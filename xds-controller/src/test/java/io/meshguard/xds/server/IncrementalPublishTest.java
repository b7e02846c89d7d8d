package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.TestConfigs;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import io.meshguard.xds.store.PgGatewayStore;
import io.meshguard.xds.store.PgRevisionStore;
import io.meshguard.xds.validate.EnvoyLoadCheck;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProblemCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A publish rebuilds and re-checks only what its change touches, against a real PostgreSQL revision store:
 * the unchanged routes of a large group are taken from earlier builds and checks, yet a change that breaks what an
 * untouched route names is still refused, and what is served equals a build from scratch.
 */
@IntegrationTest
class IncrementalPublishTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final int ROUTES = 300;

    @Test
    void publish_oneRouteChangedInALargeGroup_buildsAndChecksOnlyThatRoute() throws Exception {
        try (XdsCore core = core()) {
            GatewayConfig before = config("small", ROUTES, 90);
            assertThat(core.publisher().publish(before, "alice", "first").published())
                    .isTrue();
            GatewayConfig after = withWeight(before, "r-7", 60);
            GroupResources first =
                    core.snapshots().served("small").orElseThrow().resources();

            long built = SnapshotBuilder.routesBuilt();
            long hostsBuilt = SnapshotBuilder.virtualHostsBuilt();
            long walked = EnvoyLoadCheck.walked();
            long chunks = count("select count(*) from config_revision_chunk");
            Publisher.Result result = core.publisher().publish(after, "alice", "one weight");

            assertThat(result.published()).isTrue();
            assertThat(result.revisions()).containsOnlyKeys("small");
            // r-7 is served under its versioned and its default-version path, in both route tables (Envoy's and the
            // proxyless clients'): four routes built, none of the other 299 routes' 1,196
            assertThat(SnapshotBuilder.routesBuilt() - built).isEqualTo(4);
            // its API's virtual host in each table; the other 29 APIs' hosts are the instances built before
            assertThat(SnapshotBuilder.virtualHostsBuilt() - hostsBuilt).isEqualTo(2);
            // the two new tables and r-7's four routes; everything else answered from earlier checks
            assertThat(EnvoyLoadCheck.walked() - walked).isLessThanOrEqualTo(8);
            assertThat(routeWeights(core, "small", "r-7")).contains("60");
            // the revision: the chunk or two around r-7's part, and a row naming ~1/32 as many chunks as routes
            assertThat(count("select count(*) from config_revision_chunk")).isBetween(chunks + 1, chunks + 2);
            long named = count("select cardinality(route_chunks) from config_revision where id = "
                    + result.revisions().get("small").id());
            assertThat(named).isBetween(1L, ROUTES / 8L);
            // the 30 proxyless listeners and 151 clusters are the instances served before: nothing to build, unpack,
            // hash or compare again
            GroupResources second =
                    core.snapshots().served("small").orElseThrow().resources();
            List<io.envoyproxy.envoy.config.listener.v3.Listener> proxyless =
                    second.listeners().stream().filter(l -> l.hasApiListener()).toList();
            assertThat(proxyless).hasSize(ROUTES / 10);
            assertThat(proxyless).allSatisfy(l -> assertThat(first.listeners())
                    .anySatisfy(x -> assertThat(x).isSameAs(l)));
            assertThat(second.clusters()).hasSameSizeAs(first.clusters());
            for (int i = 0; i < second.clusters().size(); i++) {
                assertThat(second.clusters().get(i)).isSameAs(first.clusters().get(i));
            }
        }
    }

    @Test
    void anotherReplica_servingAOneRouteRevision_buildsOnlyItsVirtualHosts() throws Exception {
        try (XdsCore publishing = core();
                XdsCore other = core()) {
            GatewayConfig before = config("replica", ROUTES, 90);
            assertThat(publishing.publisher().publish(before, "alice", "first").published())
                    .isTrue();
            other.publisher().applyLatest();
            long first = publishing.publisher().servedRevision("replica").orElseThrow();
            assertThat(other.publisher().servedRevision("replica")).contains(first);
            assertThat(publishing
                            .publisher()
                            .publish(withWeight(before, "r-11", 70), "alice", "one weight")
                            .published())
                    .isTrue();

            long hostsBuilt = SnapshotBuilder.virtualHostsBuilt();
            other.publisher().applyLatest();

            // the revision is read as new instances; those equal to what the replica serves are taken in their place,
            // so its build is the publishing replica's: r-11's API's virtual host in each table
            assertThat(other.publisher().servedRevision("replica")).isNotEqualTo(Optional.of(first));
            assertThat(SnapshotBuilder.virtualHostsBuilt() - hostsBuilt).isEqualTo(2);
            assertThat(routeWeights(other, "replica", "r-11")).contains("70");
        }
    }

    @Test
    void publish_afterIncrementalChanges_servesWhatABuildFromScratchServes() throws Exception {
        try (XdsCore core = core()) {
            GatewayConfig config = config("scratch", ROUTES, 90);
            assertThat(core.publisher().publish(config, "alice", "first").published())
                    .isTrue();
            for (String route : List.of("r-3", "r-100", "r-3", "r-299")) {
                config = withWeight(config, route, 50 + route.length());
                assertThat(core.publisher()
                                .publish(config, "alice", "change " + route)
                                .published())
                        .isTrue();
            }

            GroupResources served =
                    core.snapshots().served("scratch").orElseThrow().resources();
            GroupResources scratch =
                    SnapshotBuilder.fresh(FilterTargets.DEFAULTS).build(config, "scratch");

            assertThat(served).isEqualTo(scratch);
            assertThat(served.routes().get(0).toByteString())
                    .isEqualTo(scratch.routes().get(0).toByteString());
            assertThat(EnvoyLoadCheck.problems(served)).isEmpty();
        }
    }

    @Test
    void publish_upstreamRemovedThatAnUntouchedRouteNames_refusedAndTheServedRevisionKeepsServing() throws Exception {
        try (XdsCore core = core()) {
            GatewayConfig config = config("refs", ROUTES, 90);
            Publisher.Result first = core.publisher().publish(config, "alice", "first");
            assertThat(first.published()).isTrue();
            long served = first.revisions().get("refs").id();
            // r-41 (untouched, already built and checked) sends 10 % to refs-up-21; the change drops it and edits
            // r-0
            GatewayConfig broken = withWeight(
                    new GatewayConfig(
                            config.groups(),
                            config.upstreams().stream()
                                    .filter(u -> !u.name().equals("refs-up-21"))
                                    .toList(),
                            config.apis(),
                            config.routes()),
                    "r-0",
                    70);

            Publisher.Result result = core.publisher().publish(broken, "alice", "drop refs-up-21");

            assertThat(result.published()).isFalse();
            assertThat(result.problems())
                    .filteredOn(p -> p.severity() == Problem.Severity.ERROR)
                    .extracting(Problem::code)
                    .contains(ProblemCode.ROUTE_UNKNOWN_UPSTREAM);
            assertThat(result.problems()).anySatisfy(p -> assertThat(p.path()).contains("r-41"));
            assertThat(core.publisher().servedRevision("refs")).contains(served);
            // its revision, written while the configuration was checked, was never stored
            assertThat(new PgRevisionStore(PG.dataSource()).latestIds()).containsEntry("refs", served);
            assertThat(routeWeights(core, "refs", "r-0")).contains("90");
        }
    }

    private static long count(String query) throws Exception {
        try (java.sql.Connection c = PG.dataSource().getConnection();
                java.sql.Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String routeWeights(XdsCore core, String group, String route) {
        return core.snapshots().served(group).orElseThrow().resources().routes().stream()
                .flatMap(rc -> rc.getVirtualHostsList().stream())
                .flatMap(vh -> vh.getRoutesList().stream())
                .filter(r -> r.getName().endsWith("." + route))
                .map(r -> r.getRoute().getWeightedClusters().toString())
                .findFirst()
                .orElseThrow();
    }

    /** The draft holds every group the tests publish: a revision row names its group. */
    @BeforeAll
    static void draft() {
        List<GatewayConfig> all = List.of("small", "scratch", "refs", "replica").stream()
                .map(g -> config(g, ROUTES, 90))
                .toList();
        new PgGatewayStore(PG.dataSource())
                .replace(new GatewayConfig(
                        all.stream().flatMap(c -> c.groups().stream()).toList(),
                        all.stream().flatMap(c -> c.upstreams().stream()).toList(),
                        all.stream().flatMap(c -> c.apis().stream()).toList(),
                        all.stream().flatMap(c -> c.routes().stream()).toList()));
    }

    private static XdsCore core() throws Exception {
        return LoopbackCores.over(new PgRevisionStore(PG.dataSource()));
    }

    private static GatewayConfig withWeight(GatewayConfig c, String route, int firstWeight) {
        return new GatewayConfig(
                c.groups(),
                c.upstreams(),
                c.apis(),
                c.routes().stream()
                        .map(r -> r.name().equals(route)
                                ? r.withDestinations(List.of(
                                        new Route.Destination(
                                                r.destinations().get(0).upstream(), firstWeight),
                                        new Route.Destination(
                                                r.destinations().get(1).upstream(), 100 - firstWeight)))
                                : r)
                        .toList());
    }

    /** One group of {@code routes} routes over routes/10 APIs, each route split over two upstreams. */
    static GatewayConfig config(String groupName, int routes, int firstWeight) {
        GatewayGroup group = new GatewayGroup(
                groupName,
                "prod",
                "eu",
                Optional.of(groupName + ".bank.example"),
                List.of(),
                null,
                0,
                GatewayGroup.ProxylessAuthz.OFF,
                null,
                null);
        List<Api> apis = new ArrayList<>();
        for (int a = 0; a < routes / 10; a++) {
            apis.add(new Api(
                    groupName + "-api-" + a,
                    "/api" + a,
                    "v1",
                    List.of(),
                    List.of(new Api.ApiVersion("v1", Api.Status.ACTIVE, null, null, null))));
        }
        List<Upstream> ups = new ArrayList<>();
        for (int i = 0; i < routes / 2 + 1; i++) {
            ups.add(new Upstream(
                    groupName + "-up-" + i,
                    Upstream.Protocol.H2,
                    null,
                    0,
                    List.of(new Upstream.Endpoint("10.0." + (i / 250) + "." + (i % 250), 8080, 1)),
                    null,
                    null,
                    null,
                    null,
                    List.of()));
        }
        List<Route> rs = new ArrayList<>();
        for (int i = 0; i < routes; i++) {
            rs.add(TestConfigs.route(
                    groupName,
                    "r-" + i,
                    groupName + "-api-" + (i % (routes / 10)),
                    "v1",
                    "/res" + i,
                    new Route.Destination(groupName + "-up-" + (i / 2), firstWeight),
                    new Route.Destination(groupName + "-up-" + (i / 2 + 1), 100 - firstWeight)));
        }
        return new GatewayConfig(List.of(group), ups, apis, rs);
    }
}
