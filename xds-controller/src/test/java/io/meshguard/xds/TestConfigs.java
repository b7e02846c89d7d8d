package io.meshguard.xds;

import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Short constructors for model objects in tests. */
public final class TestConfigs {
    private TestConfigs() {}

    public static GatewayGroup group(String name, GatewayGroup.ProxylessAuthz authz) {
        return new GatewayGroup(
                name, "test", "local", Optional.of("example.com"), List.of(), null, 0, authz, null, null);
    }

    public static Upstream upstream(String name, int... ports) {
        return upstream(name, Upstream.LbPolicy.ROUND_ROBIN, ports);
    }

    public static Upstream upstream(String name, Upstream.LbPolicy lb, int... ports) {
        List<Upstream.Endpoint> eps = new ArrayList<>();
        List<Upstream.AddressException> exceptions = new ArrayList<>();
        for (int p : ports) {
            eps.add(new Upstream.Endpoint("127.0.0.1", p, 1));
            exceptions.add(new Upstream.AddressException("127.0.0.1", p, "test backend on this machine"));
        }
        return new Upstream(name, Upstream.Protocol.GRPC, lb, 0, eps, null, null, null, null, exceptions);
    }

    public static Api api(
            String name, String host, String basePath, String defaultVersion, Api.ApiVersion... versions) {
        return new Api(name, basePath, defaultVersion, host == null ? List.of() : List.of(host), List.of(versions));
    }

    public static Api.ApiVersion active(String v) {
        return new Api.ApiVersion(v, Api.Status.ACTIVE, null, null, null);
    }

    public static Api.ApiVersion version(
            String v, Api.Status status, java.time.Instant deprecated, java.time.Instant sunset, String successor) {
        return new Api.ApiVersion(
                v,
                status,
                Optional.ofNullable(deprecated),
                Optional.ofNullable(sunset),
                Optional.ofNullable(successor));
    }

    public static Route route(
            String group, String name, String api, String version, String prefix, Route.Destination... dests) {
        return route(group, name, api, version, prefix, Optional.empty(), dests);
    }

    /** A route a product publish compiled to ({@code product} present) or an API's own. */
    public static Route route(
            String group,
            String name,
            String api,
            String version,
            String prefix,
            Optional<Route.ProductBinding> product,
            Route.Destination... dests) {
        return route(group, name, api, version, Route.Match.prefix(prefix), product, dests);
    }

    /** A route matching {@code match}, every other setting at its default. */
    public static Route route(
            String group,
            String name,
            String api,
            String version,
            Route.Match match,
            Optional<Route.ProductBinding> product,
            Route.Destination... dests) {
        return new Route(
                name,
                group,
                api,
                version,
                match,
                List.of(dests),
                null,
                null,
                false,
                null,
                null,
                null,
                null,
                null,
                null,
                product);
    }

    /** {@code c}'s objects in a new configuration instance, as a draft read again keeps them. */
    public static GatewayConfig readAgain(GatewayConfig c) {
        return new GatewayConfig(c.groups(), c.upstreams(), c.apis(), c.routes());
    }

    /** {@code c} with its {@code i}th route edited in place, the other objects the same instances (a draft edit). */
    public static GatewayConfig withRouteEdited(GatewayConfig c, int i, java.util.function.UnaryOperator<Route> edit) {
        List<Route> routes = new ArrayList<>(c.routes());
        routes.set(i, edit.apply(routes.get(i)));
        return new GatewayConfig(c.groups(), c.upstreams(), c.apis(), routes);
    }

    /** {@code c} with one of its routes, chosen by {@code random}, edited in place. */
    public static GatewayConfig withARouteEdited(
            GatewayConfig c, java.util.Random random, java.util.function.UnaryOperator<Route> edit) {
        return withRouteEdited(c, random.nextInt(c.routes().size()), edit);
    }

    /** {@code c} without one of its routes, chosen by {@code random} (unchanged when it has two or fewer). */
    public static GatewayConfig withARouteRemoved(GatewayConfig c, java.util.Random random) {
        List<Route> routes = new ArrayList<>(c.routes());
        if (routes.size() > 2) {
            routes.remove(random.nextInt(routes.size()));
        }
        return new GatewayConfig(c.groups(), c.upstreams(), c.apis(), routes);
    }

    public static Route.Destination to(String upstream, int weight) {
        return new Route.Destination(upstream, weight);
    }
}
