package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.xds.TestConfigs;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.Cors;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.server.ReferenceCheck;
import io.meshguard.xds.validate.EnvoyLoadCheck;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A builder starts each group's build from its last one and rebuilds only the virtual hosts a route change touches
 *: whatever the sequence of changes, it builds exactly what a builder with nothing remembered builds.
 */
class SnapshotBuilderChangesTest {
    private static final int APIS = 12;
    private static final int UPSTREAMS = 20;

    @Test
    void build_randomChangeSequences_equalABuildFromScratchAfterEachChange() {
        for (long seed = 1; seed <= 6; seed++) {
            Random random = new Random(seed);
            SnapshotBuilder builder = new SnapshotBuilder(FilterTargets.DEFAULTS);
            GatewayConfig config = config(GatewayGroup.ProxylessAuthz.values()[(int) (seed % 3)], seed % 2 == 0);
            assertSameAsFromScratch(builder, config, "seed " + seed + ", first build");
            for (int step = 0; step < 60; step++) {
                Change change = Change.values()[random.nextInt(Change.values().length)];
                config = change.apply(config, random);
                assertSameAsFromScratch(builder, config, "seed " + seed + ", step " + step + " " + change);
            }
        }
    }

    @Test
    void build_oneRouteChanged_keepsTheListsBuiltBefore_andBuildsOnlyItsApisVirtualHosts() {
        SnapshotBuilder builder = new SnapshotBuilder(FilterTargets.DEFAULTS);
        GatewayConfig config = config(GatewayGroup.ProxylessAuthz.REQUIRED, true);
        GroupResources before = builder.build(config, "g");
        long hosts = SnapshotBuilder.virtualHostsBuilt();

        GatewayConfig changed = Change.WEIGHTS.apply(config, new Random(7));
        GroupResources after = builder.build(changed, "g");

        assertThat(after.listeners()).isSameAs(before.listeners());
        assertThat(after.clusters()).isSameAs(before.clusters());
        assertThat(after.endpoints()).isSameAs(before.endpoints());
        assertThat(after.routes()).isNotEqualTo(before.routes());
        // the changed route's API's virtual host, in Envoy's table and in the proxyless clients'
        assertThat(SnapshotBuilder.virtualHostsBuilt() - hosts).isEqualTo(2);
        // the same configuration read again: the very resources built last
        assertThat(builder.build(readAgain(changed), "g")).isSameAs(after);
    }

    @Test
    void build_lastRouteOfAnApiVersionRemovedOrAdded_dropsOrAddsItsHostnamesListener() {
        SnapshotBuilder builder = new SnapshotBuilder(FilterTargets.DEFAULTS);
        List<Route.Destination> shared = List.of(new Route.Destination("up-0", 70), new Route.Destination("up-1", 30));
        // api-0 is also sold through a product publish: its routes there keep it in the group's APIs, and their
        // upstreams in its upstreams, so removing api-0's own routes changes the group's routes only
        GatewayConfig base = config(GatewayGroup.ProxylessAuthz.OFF, false);
        List<Route> routes = new ArrayList<>();
        routes.add(route(
                "p-0",
                "api-0",
                "v1",
                "/p0",
                shared,
                Optional.of(new Route.ProductBinding("pub-1", "op", "shop.bank.example", "jwt"))));
        base.routes().stream()
                .map(r -> r.api().equals("api-0") ? r.withDestinations(shared) : r)
                .forEach(routes::add);
        GatewayConfig config = new GatewayConfig(base.groups(), base.upstreams(), base.apis(), routes);
        GatewayConfig without = new GatewayConfig(
                config.groups(),
                config.upstreams(),
                config.apis(),
                routes.stream()
                        .filter(r -> r.product().isPresent() || !r.api().equals("api-0"))
                        .toList());
        assertThat(without.upstreamsOf("g")).isEqualTo(config.upstreamsOf("g"));
        assertThat(without.apisOf("g")).isEqualTo(config.apisOf("g"));
        GroupResources before = builder.build(config, "g");

        GroupResources after = builder.build(without, "g");

        assertThat(after.listeners()).hasSize(before.listeners().size() - 1);
        assertThat(after.listeners()).noneMatch(l -> l.getName().startsWith("api-0."));
        assertThat(after)
                .isEqualTo(SnapshotBuilder.fresh(FilterTargets.DEFAULTS).build(without, "g"));
        GatewayConfig again = new GatewayConfig(
                without.groups(),
                without.upstreams(),
                without.apis(),
                java.util.stream.Stream.concat(
                                without.routes().stream(),
                                routes.stream()
                                        .filter(r ->
                                                r.product().isEmpty() && r.api().equals("api-0"))
                                        .limit(1))
                        .toList());
        assertThat(builder.build(again, "g").listeners()).hasSameSizeAs(before.listeners());
        assertThat(builder.build(again, "g"))
                .isEqualTo(SnapshotBuilder.fresh(FilterTargets.DEFAULTS).build(again, "g"));
    }

    @Test
    void checks_resourcesWithAViolationOrADanglingName_findItEveryTime() {
        SnapshotBuilder builder = new SnapshotBuilder(FilterTargets.DEFAULTS);
        GroupResources good = builder.build(config(GatewayGroup.ProxylessAuthz.OFF, false), "g");
        List<io.envoyproxy.envoy.config.cluster.v3.Cluster> clusters = new ArrayList<>(good.clusters());
        // Envoy refuses a cluster whose connect timeout is negative
        clusters.set(
                0,
                clusters.get(0).toBuilder()
                        .setConnectTimeout(
                                com.google.protobuf.Duration.newBuilder().setSeconds(-1))
                        .build());
        String up = good.endpoints().stream()
                .map(e -> e.getClusterName())
                .filter(n -> n.startsWith("up-"))
                .findFirst()
                .orElseThrow();
        GroupResources bad = new GroupResources(
                "g",
                good.listeners(),
                good.routes(),
                clusters,
                good.endpoints().stream()
                        .filter(e -> !e.getClusterName().equals(up))
                        .toList());

        // the same route tables, whose virtual hosts were found complete within good's clusters, without one of them
        GroupResources clusterGone = new GroupResources(
                "g",
                good.listeners(),
                good.routes(),
                good.clusters().stream().filter(c -> !c.getName().equals(up)).toList(),
                good.endpoints());

        for (int i = 0; i < 2; i++) {
            assertThat(EnvoyLoadCheck.problems(good)).isEmpty();
            assertThat(ReferenceCheck.danglingReferences(good)).isEmpty();
            assertThat(EnvoyLoadCheck.problems(bad)).isNotEmpty();
            assertThat(ReferenceCheck.danglingReferences(bad)).anyMatch(p -> p.contains("missing load assignment"));
            assertThat(ReferenceCheck.danglingReferences(clusterGone))
                    .anyMatch(p -> p.contains("missing cluster " + up));
        }
    }

    private static void assertSameAsFromScratch(SnapshotBuilder builder, GatewayConfig config, String when) {
        GroupResources built = builder.build(config, "g");
        GroupResources scratch = SnapshotBuilder.fresh(FilterTargets.DEFAULTS).build(config, "g");
        assertThat(built).as(when).isEqualTo(scratch);
        for (int i = 0; i < built.routes().size(); i++) {
            assertThat(built.routes().get(i).toByteString())
                    .as(when)
                    .isEqualTo(scratch.routes().get(i).toByteString());
        }
        assertThat(EnvoyLoadCheck.problems(built)).as(when).isEqualTo(EnvoyLoadCheck.problems(scratch));
        assertThat(ReferenceCheck.danglingReferences(built))
                .as(when)
                .isEqualTo(ReferenceCheck.danglingReferences(scratch));
    }

    /** What a draft edit does to the group; each keeps the configuration valid. */
    private enum Change {
        WEIGHTS {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                int w = 1 + random.nextInt(99);
                return replaceOne(
                        c,
                        random,
                        r -> r.withDestinations(List.of(
                                new Route.Destination(r.destinations().get(0).upstream(), w),
                                new Route.Destination(r.destinations().get(1).upstream(), 100 - w))));
            }
        },
        PATH {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                String path = "/p" + random.nextInt(1_000_000);
                return replaceOne(
                        c, random, r -> route(r.name(), r.api(), r.version(), path, r.destinations(), r.product()));
            }
        },
        MOVED_TO_ANOTHER_API {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                String api = "api-" + random.nextInt(APIS);
                return replaceOne(
                        c, random, r -> route(r.name(), api, "v1", pathOf(r), r.destinations(), Optional.empty()));
            }
        },
        ADDED {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                List<Route> routes = new ArrayList<>(c.routes());
                int api = random.nextInt(APIS);
                routes.add(
                        random.nextInt(routes.size() + 1),
                        route(
                                "n-" + random.nextInt(1_000_000),
                                "api-" + api,
                                random.nextBoolean() ? "v1" : "v2",
                                "/n" + random.nextInt(1_000_000),
                                destinations(random),
                                Optional.empty()));
                return new GatewayConfig(c.groups(), c.upstreams(), c.apis(), routes);
            }
        },
        REMOVED {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                return TestConfigs.withARouteRemoved(c, random);
            }
        },
        TWO_AT_ONCE {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                return PATH.apply(WEIGHTS.apply(c, random), random);
            }
        },
        PRODUCT_ROUTE {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                List<Route> routes = new ArrayList<>(c.routes());
                String host = "shop" + random.nextInt(3) + ".bank.example";
                routes.add(route(
                        "p-" + random.nextInt(1_000_000),
                        "api-" + random.nextInt(APIS),
                        "v1",
                        "/p" + random.nextInt(1_000_000),
                        destinations(random),
                        Optional.of(new Route.ProductBinding("pub-1", "op", host, "jwt"))));
                return new GatewayConfig(c.groups(), c.upstreams(), c.apis(), routes);
            }
        },
        UPSTREAM_CHANGED {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                List<Upstream> ups = new ArrayList<>(c.upstreams());
                int i = random.nextInt(ups.size());
                ups.set(i, upstream(ups.get(i).name(), 1 + random.nextInt(200)));
                return new GatewayConfig(c.groups(), ups, c.apis(), c.routes());
            }
        },
        API_DEPRECATED {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                List<Api> apis = new ArrayList<>(c.apis());
                int i = random.nextInt(apis.size());
                apis.set(i, api(apis.get(i).name(), random.nextBoolean()));
                return new GatewayConfig(c.groups(), c.upstreams(), apis, c.routes());
            }
        },
        UNCHANGED_BUT_READ_AGAIN {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                return readAgain(c);
            }
        };

        abstract GatewayConfig apply(GatewayConfig c, Random random);
    }

    private static GatewayConfig replaceOne(GatewayConfig c, Random random, UnaryOperator<Route> edit) {
        return TestConfigs.withARouteEdited(c, random, edit);
    }

    private static GatewayConfig readAgain(GatewayConfig c) {
        return TestConfigs.readAgain(c);
    }

    private static String pathOf(Route r) {
        return r.match().pathPrefix().orElseThrow();
    }

    private static List<Route.Destination> destinations(Random random) {
        int a = random.nextInt(UPSTREAMS);
        return List.of(new Route.Destination("up-" + a, 70), new Route.Destination("up-" + ((a + 1) % UPSTREAMS), 30));
    }

    private static GatewayConfig config(GatewayGroup.ProxylessAuthz authz, boolean cors) {
        GatewayGroup group = new GatewayGroup(
                "g",
                "prod",
                "eu",
                Optional.of("bank.example"),
                List.of(),
                null,
                0,
                authz,
                cors
                        ? Optional.of(new Cors(
                                List.of("https://app.bank.example"), null, null, null, false, Optional.empty()))
                        : Optional.empty(),
                Map.of());
        List<Api> apis = new ArrayList<>();
        for (int a = 0; a < APIS; a++) {
            apis.add(api("api-" + a, false));
        }
        List<Upstream> ups = new ArrayList<>();
        for (int i = 0; i < UPSTREAMS; i++) {
            ups.add(upstream("up-" + i, 1));
        }
        List<Route> routes = new ArrayList<>();
        Random random = new Random(42);
        for (int i = 0; i < 90; i++) {
            routes.add(route(
                    "r-" + i,
                    "api-" + (i % APIS),
                    i % 3 == 0 ? "v2" : "v1",
                    "/res" + i,
                    destinations(random),
                    Optional.empty()));
        }
        return new GatewayConfig(List.of(group), ups, apis, routes);
    }

    private static Api api(String name, boolean v1Deprecated) {
        return new Api(
                name,
                "/" + name,
                "v2",
                List.of(),
                List.of(
                        new Api.ApiVersion(
                                "v1",
                                v1Deprecated ? Api.Status.DEPRECATED : Api.Status.ACTIVE,
                                v1Deprecated ? Optional.of(Instant.EPOCH) : null,
                                null,
                                v1Deprecated ? Optional.of("v2") : null),
                        new Api.ApiVersion("v2", Api.Status.ACTIVE, null, null, null)));
    }

    private static Upstream upstream(String name, int weight) {
        int i = Integer.parseInt(name.substring(name.indexOf('-') + 1));
        return new Upstream(
                name,
                Upstream.Protocol.H2,
                null,
                0,
                List.of(new Upstream.Endpoint("10.0.0." + (i + 1), 8080, weight)),
                null,
                null,
                null,
                null,
                List.of());
    }

    private static Route route(
            String name,
            String api,
            String version,
            String path,
            List<Route.Destination> destinations,
            Optional<Route.ProductBinding> product) {
        return TestConfigs.route(
                "g", name, api, version, path, product, destinations.toArray(Route.Destination[]::new));
    }
}
