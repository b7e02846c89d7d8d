package io.meshguard.xds.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.xds.TestConfigs;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A group's slice holds the APIs and upstreams its routes name, in name order, however the configuration lists them. */
class GatewayConfigSliceTest {

    @Test
    void slice_objectsListedInNameOrderOrNot_givesTheSameSliceInNameOrder() {
        GatewayConfig inOrder = config(List.of("a", "b", "c", "d"), List.of("up-1", "up-10", "up-2", "up-3"));
        List<String> apis = new ArrayList<>(List.of("a", "b", "c", "d"));
        List<String> ups = new ArrayList<>(List.of("up-1", "up-10", "up-2", "up-3"));
        Collections.reverse(apis);
        Collections.swap(ups, 1, 2);
        GatewayConfig shuffled = config(apis, ups);

        GatewayConfig slice = inOrder.slice("g");

        assertThat(slice.apis()).extracting(Api::name).containsExactly("a", "c", "d");
        assertThat(slice.upstreams()).extracting(Upstream::name).containsExactly("up-1", "up-10", "up-3");
        assertThat(shuffled.slice("g")).isEqualTo(slice);
    }

    @Test
    void slice_duplicateNames_takesTheFirstOfEach() {
        GatewayConfig base = config(List.of("a", "c", "d"), List.of("up-1", "up-10", "up-3"));
        List<Upstream> ups = new ArrayList<>(base.upstreams());
        Upstream second = upstream("up-1", 9);
        ups.add(1, second);
        GatewayConfig duplicated = new GatewayConfig(base.groups(), ups, base.apis(), base.routes());

        assertThat(duplicated.slice("g").upstreams())
                .extracting(Upstream::name)
                .containsExactly("up-1", "up-10", "up-3");
        assertThat(duplicated.slice("g").upstreams().get(0)).isSameAs(ups.get(0));
    }

    /** Routes of group g name APIs a, c, d and upstreams up-1, up-10, up-3 (b and up-2 are unused). */
    private static GatewayConfig config(List<String> apiNames, List<String> upstreamNames) {
        GatewayGroup g =
                new GatewayGroup("g", "prod", "eu", Optional.of("bank.example"), List.of(), null, 0, null, null, null);
        List<Api> apis = apiNames.stream()
                .map(n -> new Api(
                        n,
                        "/" + n,
                        "v1",
                        List.of(),
                        List.of(new Api.ApiVersion("v1", Api.Status.ACTIVE, null, null, null))))
                .toList();
        List<Upstream> ups = upstreamNames.stream().map(n -> upstream(n, 1)).toList();
        List<Route> routes = List.of(
                route("r1", "d", "up-3"),
                route("r2", "a", "up-10"),
                route("r3", "c", "up-1"),
                route("r4", "a", "up-1"));
        return new GatewayConfig(List.of(g), ups, apis, routes);
    }

    private static Upstream upstream(String name, int weight) {
        return new Upstream(
                name,
                Upstream.Protocol.H2,
                null,
                0,
                List.of(new Upstream.Endpoint("10.0.0.1", 8080, weight)),
                null,
                null,
                null,
                null,
                List.of());
    }

    private static Route route(String name, String api, String upstream) {
        return TestConfigs.route("g", name, api, "v1", "/" + name, new Route.Destination(upstream, 100));
    }
}
