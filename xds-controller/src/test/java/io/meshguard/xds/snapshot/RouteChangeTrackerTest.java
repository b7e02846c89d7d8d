package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.xds.TestConfigs;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.snapshot.GroupTranslator.Translation;
import io.meshguard.xds.snapshot.RouteChangeTracker.RouteChanges;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The change tracker alone: which routes a new list added and removed, and when a group's translation may start from
 * its last one (only its routes changed) and when it must be translated whole.
 */
class RouteChangeTrackerTest {
    private static final Route.Destination UP = new Route.Destination("up-0", 100);

    private final RouteTranslator routes = new RouteTranslator(RememberedParts.bounded(), RememberedParts.bounded());
    private final GroupTranslator translator =
            new GroupTranslator(FilterTargets.DEFAULTS, RememberedParts.bounded(), RememberedParts.bounded(), routes);
    private final RouteChangeTracker tracker = new RouteChangeTracker(routes);

    private final Route a = route("a", "/a");
    private final Route b = route("b", "/b");
    private final Route c = route("c", "/c");

    @Test
    void between_anEditInPlace_isTheOldRouteRemovedAndTheNewOneAdded() {
        Route edited = route("b", "/b2");

        RouteChanges changes = RouteChanges.between(List.of(a, b, c), List.of(a, edited, c));

        assertThat(changes.removed()).containsExactly(b);
        assertThat(changes.added()).containsExactly(edited);
    }

    @Test
    void between_aRouteAddedBetweenRoutesThatMoved_isTheAddedRouteOnly() {
        Route d = route("d", "/d");
        Route x = route("x", "/x");

        RouteChanges changes = RouteChanges.between(List.of(a, b, c, d), List.of(a, c, b, x, d));

        assertThat(changes.removed()).isEmpty();
        assertThat(changes.added()).containsExactly(x);
    }

    @Test
    void between_anEqualRouteReadAgain_isAChange_becauseRoutesAreComparedByIdentity() {
        Route again = route("a", "/a");
        assertThat(again).isEqualTo(a);

        RouteChanges changes = RouteChanges.between(List.of(a), List.of(again));

        assertThat(changes.none()).isFalse();
        assertThat(RouteChanges.between(List.of(a), List.of(a)).none()).isTrue();
    }

    @Test
    void sinceLast_aGroupNeverTranslated_mustBeTranslatedWhole() {
        GatewayConfig config = config(List.of(a));

        assertThat(since(config)).isEmpty();
    }

    @Test
    void sinceLast_nothingChanged_isTheLastTranslationItself() {
        GatewayConfig config = config(List.of(a, b));
        Translation first = translateAndRemember(config);

        assertThat(since(TestConfigs.readAgain(config))).containsSame(first);
    }

    @Test
    void sinceLast_oneRouteEdited_keepsTheOtherResources_andEqualsAWholeTranslation() {
        GatewayConfig config = config(List.of(a, b));
        Translation first = translateAndRemember(config);
        List<Route> edited = new ArrayList<>(config.routes());
        edited.set(1, route("b", "/b2"));
        GatewayConfig changed = new GatewayConfig(config.groups(), config.upstreams(), config.apis(), edited);

        Translation next = since(changed).orElseThrow();

        assertThat(next.resources().listeners()).isSameAs(first.resources().listeners());
        assertThat(next.resources().clusters()).isSameAs(first.resources().clusters());
        assertThat(next.resources().endpoints()).isSameAs(first.resources().endpoints());
        assertThat(next.resources().routes()).isNotEqualTo(first.resources().routes());
        assertThat(next.resources()).isEqualTo(whole(changed).resources());
    }

    @Test
    void sinceLast_anUpstreamOrAnApiNotTheInstanceTranslatedLast_mustBeTranslatedWhole() {
        GatewayConfig config = config(List.of(a));
        translateAndRemember(config);
        List<Upstream> upstreams = List.of(upstream());
        List<Api> apis = List.of(api());

        assertThat(since(new GatewayConfig(config.groups(), upstreams, config.apis(), config.routes())))
                .isEmpty();
        assertThat(since(new GatewayConfig(config.groups(), config.upstreams(), apis, config.routes())))
                .isEmpty();
    }

    @Test
    void sinceLast_theLastRouteOfAnApiVersionRemoved_mustBeTranslatedWhole() {
        Route v2 = TestConfigs.route("g", "b", "api", "v2", "/b", UP);
        GatewayConfig config = config(List.of(a, v2));
        translateAndRemember(config);

        // the version's hostnames and listeners follow from whether it has routes
        assertThat(since(config(List.of(a)))).isEmpty();
    }

    @Test
    void sinceLast_aProductPublishsRouteAdded_mustBeTranslatedWhole() {
        GatewayConfig config = config(List.of(a));
        translateAndRemember(config);
        Route product = TestConfigs.route(
                "g",
                "p",
                "api",
                "v1",
                "/p",
                Optional.of(new Route.ProductBinding("pub-1", "op", "shop.bank.example", "jwt")),
                UP);

        assertThat(since(config(List.of(a, product)))).isEmpty();
    }

    @Test
    void remember_keepsTheLastGroupsOnly_leastRecentlyTranslatedOut() {
        GatewayConfig config = config(List.of(a));
        Translation translation = translateAndRemember(config);
        GatewayGroup first = config.groups().get(0);
        for (int i = 0; i < RouteChangeTracker.REMEMBERED_GROUPS; i++) {
            tracker.remember(group("other-" + i), List.of(), List.of(), List.of(), translation);
        }

        assertThat(tracker.sinceLast(first, config.routesOf("g"), config.apisOf("g"), config.upstreamsOf("g")))
                .isEmpty();
    }

    private Translation translateAndRemember(GatewayConfig config) {
        Translation t = whole(config);
        GatewayGroup group = config.group("g").orElseThrow();
        tracker.remember(group, config.routesOf("g"), config.apisOf("g"), config.upstreamsOf("g"), t);
        return t;
    }

    private Translation whole(GatewayConfig config) {
        return translator.translate(
                config.group("g").orElseThrow(), config.routesOf("g"), config.apisOf("g"), config.upstreamsOf("g"));
    }

    private Optional<Translation> since(GatewayConfig config) {
        return tracker.sinceLast(
                config.group("g").orElseThrow(), config.routesOf("g"), config.apisOf("g"), config.upstreamsOf("g"));
    }

    /** One group, one API, one upstream: the same instances in every configuration of a test unless it replaces them. */
    private static final GatewayGroup GROUP = group("g");

    private static final Api API = api();
    private static final Upstream UPSTREAM = upstream();

    private static GatewayConfig config(List<Route> routes) {
        return new GatewayConfig(List.of(GROUP), List.of(UPSTREAM), List.of(API), routes);
    }

    private static Route route(String name, String path) {
        return TestConfigs.route("g", name, "api", "v1", path, UP);
    }

    private static GatewayGroup group(String name) {
        return TestConfigs.group(name, GatewayGroup.ProxylessAuthz.OFF);
    }

    private static Api api() {
        return TestConfigs.api("api", null, "/api", "v1", TestConfigs.active("v1"), TestConfigs.active("v2"));
    }

    private static Upstream upstream() {
        return TestConfigs.upstream("up-0", 8080);
    }
}
