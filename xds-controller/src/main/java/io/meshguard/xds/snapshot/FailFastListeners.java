package io.meshguard.xds.snapshot;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The group's resources as a proxyless client that cannot run ext_authz gets them: each {@code api_listener} that
 * requires ext_authz is replaced by one that fails every call at once with {@code PERMISSION_DENIED}, instead of a
 * listener the client NACKs and then waits on until each call's deadline.
 *
 * <p>Why a fault abort: it is the one way, in the protocol both grpc-java and grpc-js implement, to end a call with a
 * status the control plane chooses, before any backend is picked (gRFC A33; grpc-js
 * {@code packages/grpc-js-xds/src/http-filter/fault-injection-filter.ts}, {@code grpc_status} abort, registered for
 * clients by default; grpc-java {@code xds/src/main/java/io/grpc/xds/FaultFilter.java}, "RPC terminated due to fault
 * injection"). The alternatives fail less clearly: a {@code non_forwarding_action} route fails calls UNAVAILABLE
 * (gRFC A28; grpc-java {@code XdsNameResolver} "Could not route RPC to Route with non-forwarding action"; grpc-js
 * {@code resolver-xds.ts} skips the route, so {@code resolving-call.ts} answers "Failed to route call to method"),
 * which retry policies and callers read as "try again"; RBAC (gRFC A41) runs only on the server side (grpc-js
 * {@code rbac-filter.ts} registers only {@code createServerFilter}). PERMISSION_DENIED is not retried and says what
 * the caller is missing: an authorization decision.
 *
 * <p>The replacement routes to the endpoint-less closed-versions cluster only, so it opens no path to a backend; a
 * client that falsely claims to lack ext_authz gains nothing but failing calls. Listeners without a required
 * ext_authz filter ({@code proxyless_authz: optional | off}) are served unchanged: the client can run them.
 */
public final class FailFastListeners {
    private FailFastListeners() {}

    /** What the failed call carries: the gRPC status code; the text is the client's own (see the class comment). */
    public static final Status.Code STATUS = Status.Code.PERMISSION_DENIED;

    /** Route configuration of the fail-fast listeners: one catch-all route that aborts. */
    public static final String ROUTES = "grpc-without-ext-authz";

    /**
     * The resources for a client without ext_authz: {@code resources} with every required-ext_authz api_listener
     * replaced, and the fail-fast route configuration added when any was. Pure: same input, same output.
     */
    public static GroupResources of(GroupResources resources) {
        Optional<List<Listener>> replaced =
                REPLACED_LISTS.computeIfAbsent(resources.listeners(), FailFastListeners::replaced);
        if (replaced.isEmpty()) {
            return resources;
        }
        List<Listener> listeners = replaced.get();
        List<RouteConfiguration> routes = new ArrayList<>(resources.routes());
        routes.add(ABORT_EVERYTHING);
        routes.sort(java.util.Comparator.comparing(RouteConfiguration::getName));
        return new GroupResources(resources.group(), listeners, routes, resources.clusters(), resources.endpoints());
    }

    /**
     * The listeners with each replaced, empty when none is: remembered per list instance too (weakly; a value never
     * holds its key), as a one-route change keeps its group's listener list.
     */
    private static Optional<List<Listener>> replaced(List<Listener> listeners) {
        List<Listener> out = new ArrayList<>();
        boolean replaced = false;
        for (Listener l : listeners) {
            Optional<Listener> replacement = REPLACEMENTS.computeIfAbsent(
                    l, x -> requiresExtAuthz(x) ? Optional.of(failFast(x.getName())) : Optional.empty());
            out.add(replacement.orElse(l));
            replaced |= replacement.isPresent();
        }
        return replaced ? Optional.of(List.copyOf(out)) : Optional.empty();
    }

    private static final java.util.Map<List<Listener>, Optional<List<Listener>>> REPLACED_LISTS =
            io.meshguard.xds.model.SameInstance.weaklyRemembered();

    /**
     * Each listener's fail-fast replacement for a client without ext_authz (empty: served as it is), remembered per
     * listener instance (weakly; a value never holds its key): a publish takes its unchanged listeners from the builds
     * before and checks both variants, so the same replacement instance keeps its remembered verdict.
     */
    private static final java.util.Map<Listener, Optional<Listener>> REPLACEMENTS =
            io.meshguard.xds.model.SameInstance.weaklyRemembered();

    private static final RouteConfiguration ABORT_EVERYTHING = abortEverything();

    /** An api_listener whose connection manager carries a non-optional ext_authz filter. */
    static boolean requiresExtAuthz(Listener l) {
        if (!l.hasApiListener()) {
            return false;
        }
        try {
            HttpConnectionManager hcm = l.getApiListener().getApiListener().unpack(HttpConnectionManager.class);
            return hcm.getHttpFiltersList().stream()
                    .anyMatch(f -> f.getName().equals(EnvoyNames.EXT_AUTHZ_FILTER) && !f.getIsOptional());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("api_listener " + l.getName() + " is not a connection manager", e);
        }
    }

    private static Listener failFast(String host) {
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix("without-ext-authz")
                .setRds(Rds.newBuilder().setRouteConfigName(ROUTES).setConfigSource(XdsProtos.ads()))
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName(EnvoyNames.FAULT_FILTER)
                        .setTypedConfig(Any.pack(HTTPFault.getDefaultInstance())))
                .addHttpFilters(EnvoyListener.router())
                .build();
        return Listener.newBuilder()
                .setName(host)
                .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm)))
                .build();
    }

    /**
     * Every method of every host aborts with {@link #STATUS}. The route needs a cluster action: grpc-js builds a
     * route's filters only for cluster routes ({@code resolver-xds.ts}), the same shape closed versions use.
     */
    private static RouteConfiguration abortEverything() {
        HTTPFault abort = HTTPFault.newBuilder()
                .setAbort(FaultAbort.newBuilder()
                        .setGrpcStatus(STATUS.value())
                        .setPercentage(FractionalPercent.newBuilder()
                                .setNumerator(100)
                                .setDenominator(FractionalPercent.DenominatorType.HUNDRED)))
                .build();
        Route route = Route.newBuilder()
                .setName("proxyless-authz-required.client-without-ext-authz")
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRoute(RouteAction.newBuilder().setCluster(EnvoyNames.CLOSED_CLUSTER))
                .putTypedPerFilterConfig(EnvoyNames.FAULT_FILTER, Any.pack(abort))
                .build();
        return RouteConfiguration.newBuilder()
                .setName(ROUTES)
                .addVirtualHosts(
                        VirtualHost.newBuilder().setName("any").addDomains("*").addRoutes(route))
                .build();
    }
}
