package io.meshguard.xds.snapshot;

import static io.meshguard.xds.snapshot.XdsProtos.duration;

import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.meshguard.envoy.validation.HeaderFormat;
import io.meshguard.xds.model.Route;
import java.util.List;

/**
 * How long a route's requests may take, and what a long-lived (SSE) response needs on its way out. Sources and the
 * whole picture: {@code docs/gateway-envoy-config.md} §4–§5.
 *
 * <ul>
 *   <li>{@code timeout} (route_components.proto {@code RouteAction.timeout}): the upstream's whole response; 0 for a
 *       streaming route, whose response never "completes".</li>
 *   <li>{@code idle_timeout} ({@code RouteAction.idle_timeout}): armed by the connection manager as soon as the
 *       route is chosen, before any filter runs, and reset by every byte either way. It is the one gateway-side bound
 *       on a filter that stalls — under FULL_DUPLEX_STREAMED ext_proc starts no message timer at all
 *       ({@code processor_state.cc}) — so a route without its own gets its request timeout as idle bound (a request
 *       silent for its whole budget is stalled), and a streaming route 5 minutes (its upstream must send at least an
 *       SSE comment within that).</li>
 * </ul>
 */
final class RouteTimeouts {
    private RouteTimeouts() {}

    static final long DEFAULT_STREAM_IDLE_MS = 300_000;

    /**
     * What SSE clients and intermediaries need, overwriting what the upstream sent: no cache may store or coalesce
     * the stream ({@code cache-control: no-cache}, unless the route sets its own, which validation holds to
     * {@code no-cache} or {@code no-store}), and nginx-style proxies in front must not buffer it
     * ({@code x-accel-buffering: no}). {@code content-type} stays as the upstream set it ({@code text/event-stream}).
     */
    static List<HeaderValueOption> streamingResponseHeaders(Route r) {
        boolean ownCacheControl =
                r.responseHeadersToAdd().stream().anyMatch(h -> h.name().equals("cache-control"));
        return ownCacheControl ? List.of(NO_PROXY_BUFFERING) : List.of(NO_CACHE, NO_PROXY_BUFFERING);
    }

    private static final HeaderValueOption NO_CACHE = overwrite("cache-control", "no-cache");
    private static final HeaderValueOption NO_PROXY_BUFFERING = overwrite("x-accel-buffering", "no");

    static void apply(RouteAction.Builder action, Route r) {
        long timeout = r.streaming() ? 0 : r.timeoutMs().orElse(Route.DEFAULT_TIMEOUT_MS);
        action.setTimeout(duration(timeout));
        if (r.idleTimeoutMs().isPresent()) {
            action.setIdleTimeout(duration(r.idleTimeoutMs().get()));
        } else if (r.streaming()) {
            action.setIdleTimeout(duration(DEFAULT_STREAM_IDLE_MS));
        } else if (timeout > 0) {
            action.setIdleTimeout(duration(timeout));
        }
    }

    private static HeaderValueOption overwrite(String name, String value) {
        return HeaderValueOption.newBuilder()
                // a literal: Envoy parses header values as format strings, '%' is written '%%'
                .setHeader(HeaderValue.newBuilder().setKey(name).setValue(HeaderFormat.literal(value)))
                .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
                .build();
    }
}
