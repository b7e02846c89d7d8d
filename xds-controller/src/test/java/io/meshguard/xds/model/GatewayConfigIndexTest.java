package io.meshguard.xds.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.xds.TestConfigs;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A configuration a few routes from one indexed before derives its index from it: whatever the edits, each
 * group's routes, APIs, upstreams and slice are what a whole index of the configuration gives.
 */
class GatewayConfigIndexTest {
    private static final List<String> GROUPS = List.of("g", "h", "k");

    @Test
    void index_randomEditSequences_giveWhatAWholeIndexGives() {
        long derivedBefore = GatewayConfig.indexesDerived();
        int steps = 0;
        for (long seed = 1; seed <= 6; seed++) {
            Random random = new Random(seed);
            GatewayConfig config = config();
            assertSameAsWhole(config, "seed " + seed + ", first");
            for (int step = 0; step < 80; step++) {
                config = edit(config, random);
                assertSameAsWhole(config, "seed " + seed + ", step " + step);
                steps++;
            }
        }
        assertThat(GatewayConfig.indexesDerived() - derivedBefore).isGreaterThan(steps / 2);
    }

    @Test
    void index_routeMovedToANewApi_givesTheGroupThatApi_andKeepsTheOtherGroupsSlices() {
        GatewayConfig config = config();
        GatewayConfig sliceH = config.slice("h");
        List<Route> routes = new ArrayList<>(config.routes());
        int i = indexOfFirst(routes, "g");
        Route r = routes.get(i);
        routes.set(i, route("g", r.name(), "api-unused", r.destinations().get(0).upstream()));
        long derived = GatewayConfig.indexesDerived();

        GatewayConfig moved = new GatewayConfig(config.groups(), config.upstreams(), config.apis(), routes);

        assertThat(moved.apisOf("g")).extracting(Api::name).contains("api-unused");
        assertThat(GatewayConfig.indexesDerived() - derived).isEqualTo(1);
        assertThat(moved.slice("h")).isSameAs(sliceH);
        assertThat(moved.slice("g")).isNotEqualTo(config.slice("g"));
    }

    private static void assertSameAsWhole(GatewayConfig c, String when) {
        for (String g : GROUPS) {
            List<List<?>> whole = c.wholeIndexOf(g);
            assertThat(c.routesOf(g)).as(when + " routes of " + g).isEqualTo(whole.get(0));
            assertThat(c.apisOf(g)).as(when + " APIs of " + g).isEqualTo(whole.get(1));
            assertThat(c.upstreamsOf(g)).as(when + " upstreams of " + g).isEqualTo(whole.get(2));
            assertThat(c.slice(g))
                    .as(when + " slice of " + g)
                    .isEqualTo(new GatewayConfig(
                            c.groups().stream().filter(x -> x.name().equals(g)).toList(),
                            whole.get(2).stream().map(Upstream.class::cast).toList(),
                            whole.get(1).stream().map(Api.class::cast).toList(),
                            whole.get(0).stream()
                                    .map(Route.class::cast)
                                    .sorted(java.util.Comparator.comparing(Route::name))
                                    .toList()));
        }
    }

    /** One draft edit: a route's upstream, API or group changed, a route added or removed, or read again. */
    private static GatewayConfig edit(GatewayConfig c, Random random) {
        List<Route> routes = new ArrayList<>(c.routes());
        int i = random.nextInt(routes.size());
        Route r = routes.get(i);
        String group = GROUPS.get(random.nextInt(GROUPS.size()));
        String api = "api-" + random.nextInt(6);
        String up = "up-" + random.nextInt(8);
        switch (random.nextInt(6)) {
            case 0 -> routes.set(i, route(r.group(), r.name(), r.api(), up));
            case 1 ->
                routes.set(
                        i,
                        route(r.group(), r.name(), api, r.destinations().get(0).upstream()));
            case 2 ->
                routes.set(
                        i,
                        route(group, r.name(), r.api(), r.destinations().get(0).upstream()));
            case 3 -> routes.add(i, route(group, "n-" + random.nextInt(1_000_000), api, up));
            case 4 -> {
                if (routes.size() > 2) {
                    routes.remove(i);
                }
            }
            default -> {}
        }
        return new GatewayConfig(c.groups(), c.upstreams(), c.apis(), routes);
    }

    private static int indexOfFirst(List<Route> routes, String group) {
        for (int i = 0; i < routes.size(); i++) {
            if (routes.get(i).group().equals(group)) {
                return i;
            }
        }
        throw new IllegalStateException("no route in " + group);
    }

    /** Three groups, 30 routes over six of seven APIs and eight upstreams, in name order as a draft is read. */
    private static GatewayConfig config() {
        List<GatewayGroup> groups = GROUPS.stream()
                .map(g -> new GatewayGroup(
                        g, "prod", "eu", Optional.of("bank.example"), List.of(), null, 0, null, null, null))
                .toList();
        List<Api> apis = new ArrayList<>();
        for (int a = 0; a < 6; a++) {
            apis.add(api("api-" + a));
        }
        apis.add(api("api-unused"));
        List<Upstream> ups = new ArrayList<>();
        for (int u = 0; u < 8; u++) {
            ups.add(new Upstream(
                    "up-" + u,
                    Upstream.Protocol.H2,
                    null,
                    0,
                    List.of(new Upstream.Endpoint("10.0.0." + (u + 1), 8080, 1)),
                    null,
                    null,
                    null,
                    null,
                    List.of()));
        }
        List<Route> routes = new ArrayList<>();
        for (int r = 0; r < 30; r++) {
            routes.add(route(GROUPS.get(r % 3), "r-" + (10 + r), "api-" + (r % 6), "up-" + (r % 8)));
        }
        return new GatewayConfig(groups, ups, apis, routes);
    }

    private static Api api(String name) {
        return new Api(
                name,
                "/" + name,
                "v1",
                List.of(),
                List.of(new Api.ApiVersion("v1", Api.Status.ACTIVE, null, null, null)));
    }

    private static Route route(String group, String name, String api, String upstream) {
        return TestConfigs.route(group, name, api, "v1", "/" + name, TestConfigs.to(upstream, 100));
    }
}
