package io.meshguard.emulator;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags.Unauthorized;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.BufferSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An Envoy gateway emulated from exactly the resources its {@link AdsSubscription} accepted: one HTTP request at a
 * time goes listener → HTTP connection manager (request id, path normalisation) → virtual host and route
 * ({@link RouteTable}) → the HTTP filters in their order (ext_authz: {@link ExtAuthzCall}; ext_proc:
 * {@link ExtProcSession}; router) → weighted cluster and host ({@link Clusters}) → a real upstream over HTTP/1.1
 * ({@link UpstreamConnection}) → the response back through ext_proc → route and ext_authz response headers → the
 * access loggers ({@link AccessLogClient}).
 *
 * <p>This is an emulation written from Envoy's documented behaviour and sources (each class names the files), not
 * Envoy: what it does not model it refuses ({@link UnmodelledException}, and {@link AdsSubscription#problems()}).
 * Timeouts are the emitted ones times {@code timeoutScale} (tests on a shared machine use more than 1; the timing is
 * not what they test).
 */
public final class Gateway implements AutoCloseable {
    private static final Duration DEFAULT_ROUTE_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration STREAM_IDLE = Duration.ofMinutes(5);

    private final AdsSubscription ads;
    private final int listenerPort;
    private final double timeoutScale;
    private final Clusters clusters;
    private final AccessLogClient accessLogs;
    private final AtomicLong streamIds = new AtomicLong(1);
    private final AtomicLong clientPorts = new AtomicLong(40000);
    private final List<String> unmodelledOnPath = new CopyOnWriteArrayList<>();

    /**
     * Request headers Envoy removes from every request it handles with use_remote_address (cleanInternalHeaders,
     * envoyproxy/envoy source/common/http/conn_manager_utility.cc) — a fixed list, not every {@code x-envoy-*}.
     */
    static final List<String> INTERNAL_ENVOY_HEADERS = List.of(
            "x-envoy-retriable-status-codes",
            "x-envoy-retriable-header-names",
            "x-envoy-retry-on",
            "x-envoy-retry-grpc-on",
            "x-envoy-max-retries",
            "x-envoy-upstream-alt-stat-name",
            "x-envoy-upstream-rq-timeout-ms",
            "x-envoy-upstream-rq-per-try-timeout-ms",
            "x-envoy-upstream-rq-timeout-alt-response",
            "x-envoy-expected-rq-timeout-ms",
            "x-envoy-force-trace",
            "x-envoy-ip-tags",
            "x-envoy-original-url",
            "x-envoy-hedge-on-per-try-timeout");
    /** Removed from edge requests only (same function). */
    private static final List<String> EDGE_ONLY_ENVOY_HEADERS = List.of(
            "x-envoy-decorator-operation", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node");
    /** Connection-level headers that never cross a proxy (RFC 9110 §7.6.1). */
    static final List<String> HOP_BY_HOP =
            List.of("connection", "keep-alive", "proxy-connection", "upgrade", "transfer-encoding");

    /** Which Envoy a {@link Gateway} plays, where the two differ (the fragment rule). */
    public enum ProxyKind {
        GATEWAY,
        ISTIO_SIDECAR
    }

    private final ProxyKind proxyKind = ProxyKind.GATEWAY;

    /** An edge client from outside (TEST-NET-2, RFC 5737): not internal to any gateway. */
    public static final String EXTERNAL_CLIENT = "198.51.100.23";

    private final String clientIp;
    private final EnvoyVersion version;

    /**
     * @param listenerPort the gateway listener's port (the {@code listener_port} of the group)
     * @param seed seeds the weighted-cluster pick, so a run can be repeated exactly
     */
    public Gateway(AdsSubscription ads, EnvoyNode node, int listenerPort, long seed, double timeoutScale) {
        this(ads, node, listenerPort, seed, timeoutScale, EXTERNAL_CLIENT);
    }

    /** @param clientIp the address the requests come from (decides whether they are internal) */
    public Gateway(
            AdsSubscription ads, EnvoyNode node, int listenerPort, long seed, double timeoutScale, String clientIp) {
        this(ads, node, listenerPort, seed, timeoutScale, clientIp, EnvoyVersion.GATEWAY);
    }

    /** @param version the Envoy release to behave as where meshguard relies on a rule that changed ({@link EnvoyVersion}) */
    public Gateway(
            AdsSubscription ads,
            EnvoyNode node,
            int listenerPort,
            long seed,
            double timeoutScale,
            String clientIp,
            EnvoyVersion version) {
        this.version = version;
        this.clientIp = clientIp;
        this.ads = ads;
        this.listenerPort = listenerPort;
        this.timeoutScale = timeoutScale;
        this.clusters = new Clusters(seed);
        this.accessLogs = new AccessLogClient(node.toProto());
    }

    /** Plays one request through the gateway and returns what the client got and why. */
    public Exchange send(DownstreamRequest request) throws InterruptedException {
        List<String> problems = ads.problems();
        if (!problems.isEmpty()) {
            throw new IllegalStateException("the emulated Envoy cannot serve: " + problems);
        }
        Instant start = Instant.now();
        Run run = new Run(request, start);
        try {
            run.play();
        } catch (UnmodelledException e) {
            unmodelledOnPath.add(e.getMessage());
            throw e;
        } catch (IOException | java.io.UncheckedIOException e) {
            run.local(
                    503,
                    "upstream connect error or disconnect/reset before headers. reset reason: " + e.getMessage(),
                    "upstream_reset_before_response_started",
                    "UF");
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("the emulated gateway failed: " + run.steps, e);
        }
        // ext_authz's encodeHeaders applies the OK Check's saved response headers to EVERY response through it, local
        // replies included (envoyproxy/envoy source/extensions/filters/http/ext_authz/ext_authz.cc encodeHeaders):
        // a DLP block or a router 503 after an allowed Check still carries the rate-limit headers. It encodes after
        // ext_proc (encoders run in reverse order), so ext_proc never sees them.
        for (HeaderValueOption o : run.authzResponseHeaders) {
            ExtAuthzCall.applyCheckHeader(run.responseHeaders, o, version);
        }
        if (run.cors != null) {
            run.cors.encode(run.responseHeaders);
        }
        run.body.abandon();
        run.log();
        return new Exchange(
                run.status,
                run.responseHeaders,
                run.clientBody,
                run.routeName,
                run.cluster,
                run.requestId,
                run.upstreamReached,
                run.steps);
    }

    /** Unmodelled config met on the request path so far. */
    public List<String> unmodelled() {
        return List.copyOf(unmodelledOnPath);
    }

    /** One request's state while it travels. */
    private final class Run {
        final DownstreamRequest request;
        final Instant start;
        final List<String> steps = new ArrayList<>();
        final Headers headers;
        final long streamId = streamIds.getAndIncrement();
        final int clientPort = (int) (clientPorts.getAndIncrement() % 20000 + 40000);
        String path;
        String requestId;
        String routeName = "";
        Route matchedRoute;
        String cluster = "";
        boolean upstreamReached;
        int status;
        Headers responseHeaders = new Headers();
        List<byte[]> clientBody = new ArrayList<>();
        String details = "";
        String flag = "";
        HttpConnectionManager hcm;
        long requestBodyBytes;
        /** The client's body as the connection manager reads and holds it (watermarks, DownstreamBody). */
        DownstreamBody body = new DownstreamBody(List.of(), 0);

        Run(DownstreamRequest request, Instant start) {
            this.request = request;
            this.start = start;
            this.headers = request.headers().copy();
            this.path = request.path();
        }

        void play() throws Exception {
            XdsResources xds = ads.resources();
            Listener listener = xds.listeners().values().stream()
                    .filter(l -> l.getAddress().getSocketAddress().getPortValue() == listenerPort)
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no listener on port " + listenerPort + " in "
                            + xds.listeners().keySet()));
            hcm = (HttpConnectionManager) ModelledFields.unpack(
                    listener.getFilterChains(0).getFilters(0).getTypedConfig());
            body = new DownstreamBody(request.bodyChunks(), listenerBufferLimit(xds));
            steps.add("listener " + listener.getName() + ": " + request.method() + " " + request.authority()
                    + request.path());
            // ConnectionManagerUtility::mutateRequestHeaders (source/common/http/conn_manager_utility.cc): a request id
            // is generated when absent (generate_request_id defaults to true) and kept when present (not an edge
            // request: use_remote_address is unset); x-forwarded-proto set from the connection.
            if (underscoreHeaders()) {
                return;
            }
            streamIdle = hcm.hasStreamIdleTimeout() ? duration(hcm.getStreamIdleTimeout()) : STREAM_IDLE;
            boolean useRemote =
                    hcm.hasUseRemoteAddress() && hcm.getUseRemoteAddress().getValue();
            // internal_request needs BOTH no incoming x-forwarded-for (single_xff_address) and an internal remote
            // address (envoyproxy/envoy source/common/http/conn_manager_utility.cc mutateRequestHeaders): a loopback
            // peer forwarding an outside client's XFF is an edge request
            boolean edge = useRemote && !(!headers.has("x-forwarded-for") && EdgeAddresses.internal(hcm, clientIp));
            if (useRemote) {
                // the client address is the socket's: appended to x-forwarded-for
                // with xff_num_trusted_hops N the client is the Nth entry from the right of the request's own chain,
                // taken before the append (conn_manager_utility.cc mutateRequestHeaders, getLastAddressFromXFF(N - 1))
                String trustedClient = TrustedHops.client(headers.first("x-forwarded-for"), hcm.getXffNumTrustedHops())
                        .orElse(clientIp);
                headers.set(
                        "x-forwarded-for",
                        headers.first("x-forwarded-for")
                                .map(v -> v + "," + clientIp)
                                .orElse(clientIp));
                // with use_remote_address and xff_num_trusted_hops 0 the scheme is the connection's, whatever the
                // client claimed (same function: setForwardedProto from the connection)
                if (hcm.getXffNumTrustedHops() == 0) {
                    headers.set("x-forwarded-proto", "http");
                }
                if (edge) {
                    // cleanInternalHeaders: Envoy's fixed list, not every x-envoy-* header (x-envoy-original-path
                    // and x-envoy-peer-metadata pass)
                    EDGE_ONLY_ENVOY_HEADERS.forEach(headers::remove);
                    INTERNAL_ENVOY_HEADERS.forEach(headers::remove);
                    headers.remove("x-envoy-internal");
                    headers.set("x-envoy-external-address", trustedClient);
                } else {
                    headers.set("x-envoy-internal", "true");
                }
            }
            // hop-by-hop headers never go upstream (conn_manager_utility.cc mutateRequestHeaders "Clean proxy
            // headers"; an upgrade is refused before this, see upgrade())
            HOP_BY_HOP.forEach(headers::remove);
            headers.first("te")
                    .filter(v -> !v.trim().equalsIgnoreCase("trailers"))
                    .ifPresent(v -> headers.remove("te"));
            // an edge request gets a new request id (preserve_external_request_id is unset); others keep theirs
            requestId = edge
                    ? UUID.randomUUID().toString()
                    : headers.first("x-request-id")
                            .orElseGet(() -> UUID.randomUUID().toString());
            if (edge && headers.has("x-request-id")) {
                steps.add("HCM: the client's x-request-id replaced at the edge");
            }
            headers.set("x-request-id", requestId);
            if (!headers.has("x-forwarded-proto")) {
                headers.set("x-forwarded-proto", "http");
            }
            if (rejectFragment() || upgrade()) {
                return;
            }
            PathNormalizer.Result normalized = PathNormalizer.apply(hcm, path);
            switch (normalized.kind()) {
                case REJECT -> {
                    local(400, "Bad Request", "path_normalization_failed", "");
                    return;
                }
                case REDIRECT -> {
                    responseHeaders.set("location", normalized.path());
                    local(307, "", "path_with_escaped_slashes_redirected", "");
                    return;
                }
                case CONTINUE -> {
                    if (!normalized.path().equals(path)) {
                        steps.add("HCM normalised the path to " + normalized.path());
                    }
                    path = normalized.path();
                }
            }
            RouteConfiguration rc = xds.routes().get(hcm.getRds().getRouteConfigName());
            // No route table accepted yet (RDS not answered within initial_fetch_timeout, or its first response
            // rejected): Envoy's listener still warms (RdsRouteConfigSubscription::onConfigUpdateFailed readies the
            // init target) and serves a NullConfigImpl, so every request is 404 NR (source/common/router/rds_impl.cc)
            Optional<VirtualHost> vh = rc == null ? Optional.empty() : RouteTable.virtualHost(rc, request.authority());
            Headers matchHeaders = ExtAuthzCall.pseudoHeaders(request.method(), path, request.authority());
            headers.entries().forEach(h -> matchHeaders.add(h[0], h[1]));
            Optional<Route> route = vh.flatMap(v -> RouteTable.route(v, path, matchHeaders));
            // No route is not a reply before the filters: the decoder filters run first and the router answers 404
            // (envoyproxy/envoy source/common/router/router.cc decodeHeaders, "no route match"). ext_authz skips its
            // Check without a route (source/extensions/filters/http/ext_authz/ext_authz.cc getPerRouteFlags), ext_proc
            // opens a stream with no per-route overrides and sees the request and then the 404.
            Route r = route.orElse(null);
            if (r == null) {
                steps.add("no route: "
                        + (vh.isEmpty()
                                ? "no virtual host for " + request.authority()
                                : "virtual host " + vh.get().getName() + " has no route for " + request.method() + " "
                                        + path));
            } else {
                matchedRoute = r;
                routeName = r.getName();
                steps.add("route " + r.getName() + " (virtual host " + vh.get().getName() + ")");
            }
            decoderFilters(xds, r, vh);
        }

        /**
         * The HTTP filters in order. A local reply sent by a decoder filter is encoded through the WHOLE encoder chain
         * (envoyproxy/envoy source/common/http/filter_manager.cc sendLocalReplyViaFilterChain → encodeHeaders from
         * the first encoder filter), so ext_proc sees an ext_authz denial or the router's 404/503 as a response even
         * when its own decodeHeaders never ran ({@link #encodeLocalReply}).
         */
        void decoderFilters(XdsResources xds, Route r, Optional<VirtualHost> vh) throws Exception {
            ExtProcSession extProc = null;
            try {
                for (HttpFilter filter : hcm.getHttpFiltersList()) {
                    Message config = ModelledFields.unpack(filter.getTypedConfig());
                    Any perRoute =
                            r == null ? null : r.getTypedPerFilterConfigMap().get(filter.getName());
                    switch (config) {
                        case io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors c -> {
                            if (r == null) {
                                steps.add("cors: no route, no policy: the filter passes");
                                break;
                            }
                            cors = CorsFilter.forRoute(filter.getName(), r, vh.get());
                            Optional<Headers> preflight = cors.decode(request.method(), headers, steps);
                            if (preflight.isPresent()) {
                                responseHeaders = preflight.get();
                                local(200, "", "cors_response", "");
                                return;
                            }
                        }
                        case ExtAuthz authz -> {
                            if (r == null) {
                                steps.add("ext_authz: no route, the Check is skipped (ext_authz.cc getPerRouteFlags)");
                                break;
                            }
                            if (!extAuthz(xds, authz, perRoute)) {
                                encodeLocalReply(xds, null);
                                return;
                            }
                        }
                        case ExternalProcessor processor -> {
                            extProcReached = true;
                            extProc = extProcRequest(xds, processor, perRoute);
                            if (extProc == null && status != 0) {
                                return;
                            }
                        }
                        case Router router -> {
                            if (r == null) {
                                local(404, "", "route_not_found", "NR");
                                encodeLocalReply(xds, extProc);
                                return;
                            }
                            try {
                                terminal(xds, r, extProc);
                            } catch (IOException | java.io.UncheckedIOException e) {
                                if (details.equals("via_upstream")) {
                                    // the response started: nothing to answer with any more, the stream is reset
                                    steps.add("router: upstream failed mid-response (" + e.getMessage()
                                            + "): the stream is reset");
                                    flag = e instanceof java.net.SocketTimeoutException ? "UT" : "UR";
                                    return;
                                }
                                local(
                                        503,
                                        "upstream connect error or disconnect/reset before headers. reset reason: "
                                                + e.getMessage(),
                                        "upstream_reset_before_response_started",
                                        "UF");
                                encodeLocalReply(xds, extProc);
                            }
                        }
                        default -> throw new UnmodelledException("HTTP filter " + filter.getName());
                    }
                }
            } finally {
                if (extProc != null) {
                    extProc.close();
                }
            }
        }

        boolean extProcReached;
        /** The request body as ext_proc's sender reads it (started with the request headers in FULL_DUPLEX_STREAMED). */
        ExtProcSession.PieceSource requestPieces;

        /**
         * The stream's idle timeout: once a route is chosen its {@code idle_timeout} replaces the HCM's
         * {@code stream_idle_timeout} (envoyproxy/envoy source/common/http/conn_manager_impl.cc refreshIdleTimeout
         * after route resolution); it covers every wait, the ext_proc answers included.
         */
        Duration idleTimeout() {
            if (matchedRoute != null
                    && matchedRoute.hasRoute()
                    && matchedRoute.getRoute().hasIdleTimeout()) {
                return duration(matchedRoute.getRoute().getIdleTimeout());
            }
            return streamIdle;
        }

        /**
         * A local reply through ext_proc's encode path. When ext_proc's decodeHeaders ran, its stream carries on; when
         * an earlier filter replied (ext_authz), ext_proc merges the route's per-filter config in {@code encodeHeaders}
         * ("in case the decodeHeaders() is not called when processing local reply", envoyproxy/envoy
         * source/extensions/filters/http/ext_proc/ext_proc.cc) and opens a stream for the reply alone.
         *
         */
        void encodeLocalReply(XdsResources xds, ExtProcSession open) throws Exception {
            ExtProcSession session = open;
            ExtProcSession opened = null;
            if (session == null && !extProcReached) {
                for (HttpFilter filter : hcm.getHttpFiltersList()) {
                    if (ModelledFields.unpack(filter.getTypedConfig()) instanceof ExternalProcessor config) {
                        Any perRoute = matchedRoute == null
                                ? null
                                : matchedRoute.getTypedPerFilterConfigMap().get(filter.getName());
                        List<HeaderValue> metadata = List.of();
                        if (perRoute != null) {
                            ExtProcPerRoute pr = perRoute.unpack(ExtProcPerRoute.class);
                            if (pr.getDisabled()) {
                                steps.add("ext_proc: disabled on this route: the local reply is not processed");
                                return;
                            }
                            metadata = pr.getOverrides().getGrpcInitialMetadataList();
                        }
                        var channel = clusters.grpc(
                                xds, config.getGrpcService().getEnvoyGrpc().getClusterName());
                        steps.add("ext_proc: stream opened in encodeHeaders for the local reply " + status);
                        opened = new ExtProcSession(config, channel, metadata, scaled(idleTimeout()), steps);
                        session = opened;
                    }
                }
            }
            if (session == null) {
                return;
            }
            byte[] body = clientBody.isEmpty() ? new byte[0] : clientBody.getFirst();
            clientBody = new ArrayList<>();
            try {
                respond(session, null, body);
            } finally {
                if (opened != null) {
                    opened.close();
                }
            }
        }

        Duration streamIdle = STREAM_IDLE;
        CorsFilter cors;

        /**
         * A {@code #fragment} in the request target: Envoy answers 400 while
         * {@code envoy.reloadable_features.http_reject_path_with_fragment} is true, its default ("Delay deprecation
         * ... until UHV is enabled", envoyproxy/envoy source/common/runtime/runtime_features.cc; the check in
         * source/common/http/conn_manager_impl.cc). Istio turns the flag off on sidecars, which strip the fragment
         * (istio/istio pkg/bootstrap/config.go); the gateway runs with Envoy's default.
         */
        boolean rejectFragment() {
            int hash = path.indexOf('#');
            if (hash < 0) {
                return false;
            }
            if (proxyKind == ProxyKind.ISTIO_SIDECAR) {
                steps.add("HCM: the fragment is stripped (Istio sidecar)");
                path = path.substring(0, hash);
                return false;
            }
            steps.add("HCM: a '#' fragment in the path is rejected");
            local(400, "Bad Request", "http1.invalid_url", "");
            return true;
        }

        /**
         * An HTTP/1.1 upgrade (WebSocket) on a connection manager without a matching {@code upgrade_configs} entry:
         * 403 and the connection closed, before any filter ({@code upgrade_failed}; envoyproxy/envoy
         * source/common/http/conn_manager_impl.cc, stat downstream_rq_ws_on_non_ws_route). meshguard emits none, so the
         * gateway refuses WebSockets.
         */
        boolean upgrade() {
            Optional<String> upgrade = request.headers().first("upgrade");
            boolean connectionUpgrade = request.headers().all("connection").stream()
                    .anyMatch(v -> java.util.Arrays.stream(v.split(","))
                            .anyMatch(t -> t.trim().equalsIgnoreCase("upgrade")));
            if (upgrade.isEmpty() || !connectionUpgrade) {
                return false;
            }
            boolean configured = hcm.getUpgradeConfigsList().stream()
                    .anyMatch(u -> u.getUpgradeType().equalsIgnoreCase(upgrade.get()));
            if (configured) {
                throw new UnmodelledException("upgrade_configs " + upgrade.get());
            }
            steps.add("HCM: upgrade to " + upgrade.get() + " without upgrade_configs: refused, connection closed");
            responseHeaders.set("connection", "close");
            local(403, "", "upgrade_failed", "");
            return true;
        }

        /**
         * {@code headers_with_underscores_action} (core/v3/protocol.proto), applied by the codec
         * (source/common/http/http1/codec_impl.cc): REJECT_REQUEST answers 400, DROP_HEADER drops them.
         */
        boolean underscoreHeaders() {
            var action = hcm.getCommonHttpProtocolOptions().getHeadersWithUnderscoresAction();
            List<String> named =
                    headers.names().stream().filter(n -> n.contains("_")).toList();
            if (named.isEmpty()) {
                return false;
            }
            switch (action) {
                case REJECT_REQUEST -> {
                    steps.add("codec: header names with underscores " + named + " rejected");
                    local(400, "Bad Request", "http1.unexpected_underscore", "");
                    return true;
                }
                case DROP_HEADER -> named.forEach(headers::remove);
                case ALLOW -> {}
                default -> throw new UnmodelledException("headers_with_underscores_action " + action);
            }
            return false;
        }

        boolean extAuthz(XdsResources xds, ExtAuthz config, Any perRoute) throws Exception {
            Map<String, String> context = Map.of();
            BufferSettings buffering = config.hasWithRequestBody() ? config.getWithRequestBody() : null;
            if (perRoute != null) {
                ExtAuthzPerRoute pr = perRoute.unpack(ExtAuthzPerRoute.class);
                if (pr.getDisabled()) {
                    steps.add("ext_authz: disabled on this route");
                    return true;
                }
                context = pr.getCheckSettings().getContextExtensionsMap();
                // check_settings: the route's own buffering replaces the filter's, or turns it off
                if (pr.getCheckSettings().getDisableRequestBodyBuffering()) {
                    buffering = null;
                } else if (pr.getCheckSettings().hasWithRequestBody()) {
                    buffering = pr.getCheckSettings().getWithRequestBody();
                }
            }
            // request.http.size is stream_info.bytesReceived() (check_request_utils.cc setHttpRequest): without
            // with_request_body the Check goes out from decodeHeaders, before any body byte arrived, so it is 0
            long size = 0;
            java.util.Optional<ExtAuthzCall.CheckBody> checkBody = java.util.Optional.empty();
            if (buffering != null && !request.bodyChunks().isEmpty()) {
                DownstreamBody.Prefix prefix = body.prefix(buffering.getMaxRequestBytes());
                if (prefix.cut() && !buffering.getAllowPartialMessage()) {
                    // above the buffer limit ext_authz raised to max_request_bytes: the filter manager's 413, also
                    // with failure_mode_allow (ext_authz.proto, BufferSettings)
                    steps.add("ext_authz: body above max_request_bytes " + buffering.getMaxRequestBytes()
                            + " without allow_partial_message: 413, no Check");
                    local(413, "Payload Too Large", "request_payload_too_large", "");
                    return false;
                }
                size = prefix.received();
                checkBody = java.util.Optional.of(
                        new ExtAuthzCall.CheckBody(prefix.bytes(), prefix.cut(), buffering.getPackAsBytes()));
                steps.add("ext_authz: body buffered for the Check, " + prefix.bytes().length + " bytes"
                        + (prefix.cut() ? " (cut at max_request_bytes)" : ""));
            }
            var check = ExtAuthzCall.build(
                    config,
                    streamId,
                    request.method(),
                    path,
                    request.authority(),
                    headers,
                    context,
                    clientIp,
                    clientPort,
                    listenerPort,
                    size,
                    checkBody);
            steps.add("ext_authz: Check to cluster "
                    + config.getGrpcService().getEnvoyGrpc().getClusterName() + " with context_extensions "
                    + new java.util.TreeMap<>(context));
            var channel =
                    clusters.grpc(xds, config.getGrpcService().getEnvoyGrpc().getClusterName());
            // a client that sends its body right behind the headers: it arrives during the Check's round trip and is
            // held, up to the watermark (DownstreamBody)
            DownstreamBody.Held held = body.settled();
            if (held.bytesReceived() > 0) {
                steps.add("HCM: " + held.chunksReceived() + " body chunk(s), " + held.bytesReceived()
                        + " bytes, arrived while the Check was pending: held, no filter after ext_authz sees them"
                        + (held.readPauses() > 0 ? "; above the buffer limit the client is not read (watermark)" : ""));
            }
            ExtAuthzCall.Result result = ExtAuthzCall.call(config, channel, check, headers, timeoutScale, version);
            authzMetadata = result.dynamicMetadata();
            switch (result.outcome()) {
                case ALLOWED -> {
                    steps.add("ext_authz: OK; upstream request headers now " + names(headers));
                    authzResponseHeaders = result.responseHeadersToAdd();
                    path = result.path();
                    return true;
                }
                case ERROR_ALLOWED -> {
                    steps.add("ext_authz: error (" + result.error() + "), failure_mode_allow lets it through");
                    headers.set("x-envoy-auth-failure-mode-allowed", "true");
                    return true;
                }
                case DENIED -> {
                    steps.add("ext_authz: denied " + result.status() + " " + result.body());
                    result.responseHeaders().entries().forEach(h -> responseHeaders.add(h[0], h[1]));
                    local(result.status(), result.body(), "ext_authz_denied", "UAEX");
                    return false;
                }
                default -> {
                    steps.add("ext_authz: error (" + result.error() + "), status_on_error " + result.status());
                    local(result.status(), "", "ext_authz_error", "UAEX");
                    return false;
                }
            }
        }

        List<HeaderValueOption> authzResponseHeaders = List.of();

        /** What ext_authz put in the stream's dynamic metadata (its namespace); the access log ships it. */
        com.google.protobuf.Struct authzMetadata = com.google.protobuf.Struct.getDefaultInstance();

        ExtProcSession extProcRequest(XdsResources xds, ExternalProcessor config, Any perRoute) throws Exception {
            List<HeaderValue> metadata = List.of();
            if (perRoute != null) {
                ExtProcPerRoute pr = perRoute.unpack(ExtProcPerRoute.class);
                if (pr.getDisabled()) {
                    steps.add("ext_proc: disabled on this route");
                    return null;
                }
                metadata = pr.getOverrides().getGrpcInitialMetadataList();
            }
            var channel =
                    clusters.grpc(xds, config.getGrpcService().getEnvoyGrpc().getClusterName());
            steps.add("ext_proc: stream to cluster "
                    + config.getGrpcService().getEnvoyGrpc().getClusterName() + " with initial metadata "
                    + metadata.stream()
                            .map(h -> h.getKey() + "=" + h.getValue())
                            .toList());
            ExtProcSession session = new ExtProcSession(config, channel, metadata, scaled(idleTimeout()), steps);
            if (session.sendsRequestHeaders()) {
                Headers all = ExtAuthzCall.pseudoHeaders(request.method(), path, request.authority());
                headers.entries().forEach(h -> all.add(h[0], h[1]));
                ExtProcSession.PieceSource pieces = null;
                if (session.streamsRequestBody() && !request.bodyChunks().isEmpty()) {
                    pieces = body::next;
                    requestPieces = pieces;
                }
                ExtProcSession.Outcome outcome =
                        session.headers(true, all, request.bodyChunks().isEmpty(), pieces);
                if (!outcome.proceed()) {
                    session.close();
                    outcome.headers().entries().forEach(h -> responseHeaders.add(h[0], h[1]));
                    local(outcome.status(), outcome.body(), outcome.why(), "");
                    return null;
                }
                copyBack(all);
            }
            return session;
        }

        /** Mutations of pseudo-headers are ignored; the rest replaces the request's headers. */
        void copyBack(Headers all) {
            Headers next = new Headers();
            all.entries().stream().filter(h -> !h[0].startsWith(":")).forEach(h -> next.add(h[0], h[1]));
            headers.entries().forEach(h -> headers.remove(h[0]));
            next.entries().forEach(h -> headers.add(h[0], h[1]));
        }

        void terminal(XdsResources xds, Route r, ExtProcSession extProc) throws Exception {
            if (r.hasDirectResponse()) {
                status = r.getDirectResponse().getStatus();
                responseHeaders.set("content-type", "text/plain");
                byte[] body = r.getDirectResponse().getBody().getInlineString().getBytes(StandardCharsets.UTF_8);
                for (HeaderValueOption o : r.getResponseHeadersToAddList()) {
                    ExtAuthzCall.apply(responseHeaders, RouteTable.formatted(o, headers));
                }
                details = "direct_response";
                steps.add("direct response " + status + " from the route");
                respond(extProc, null, body);
                return;
            }
            if (!r.hasRoute()) {
                throw new UnmodelledException("route action " + r.getActionCase());
            }
            RouteAction action = r.getRoute();
            cluster = clusters.pick(action);
            steps.add("router: cluster " + cluster + (action.hasWeightedClusters() ? " (weighted pick)" : ""));
            // route-level request header mutations, applied by the router (RouteEntryImplBase::finalizeRequestHeaders)
            for (HeaderValueOption o : r.getRequestHeadersToAddList()) {
                ExtAuthzCall.apply(headers, o);
            }
            r.getRequestHeadersToRemoveList().forEach(headers::remove);
            Duration timeout = action.hasTimeout()
                    ? Duration.ofSeconds(
                            action.getTimeout().getSeconds(),
                            action.getTimeout().getNanos())
                    : DEFAULT_ROUTE_TIMEOUT;
            if (!timeout.isZero()) {
                headers.set("x-envoy-expected-rq-timeout-ms", Long.toString(timeout.toMillis()));
            }
            Duration idle = action.hasIdleTimeout() ? duration(action.getIdleTimeout()) : streamIdle;
            var c = xds.clusters().get(cluster);
            Duration connect = c.hasConnectTimeout() ? duration(c.getConnectTimeout()) : Duration.ofSeconds(5);
            String upstreamAuthority = RouteTable.upstreamAuthority(action, c, request.authority(), headers);
            boolean streamed = extProc != null && extProc.streamsRequestBody();
            boolean hasBody = !request.bodyChunks().isEmpty();
            if (streamed && hasBody) {
                headers.remove("content-length"); // FULL_DUPLEX_STREAMED: Envoy drops it, the body may change length
            }
            // The route's timeout is one deadline for the whole response, counted from here and never retried
            // (router.cc
            // onResponseTimeout: 504 "upstream request timeout", UT); the idle timeout (the route's, else the HCM's
            // stream_idle_timeout) answers 408 while no response headers went out (conn_manager_impl.cc onIdleTimeout)
            java.time.Instant deadline = timeout.isZero() ? null : Instant.now().plus(scaled(timeout));
            Retry retry = new Retry(action, listenerBufferLimit(xds));
            List<byte[]> sent = new ArrayList<>();
            for (int attempt = 1; ; attempt++) {
                InetSocketAddress host = clusters.host(xds, cluster);
                if (host == null) {
                    local(503, "no healthy upstream", "no_healthy_upstream", "UH");
                    encodeLocalReply(xds, extProc);
                    return;
                }
                UpstreamConnection upstream;
                Duration left = deadline == null ? null : Duration.between(Instant.now(), deadline);
                if (left != null && (left.isNegative() || left.isZero())) {
                    upstreamTimeout(xds, extProc, true);
                    return;
                }
                boolean globalFirst = left != null && left.compareTo(scaled(idle)) <= 0;
                Duration readTimeout = globalFirst ? left : scaled(idle);
                try {
                    upstream = UpstreamConnection.open(host, scaled(connect), readTimeout);
                } catch (IOException e) {
                    if (retry.onConnectFailure(attempt, sent, steps)) {
                        continue;
                    }
                    throw e;
                }
                upstreamReached = true;
                steps.add("router: " + (attempt > 1 ? "retry " + (attempt - 1) + ": " : "") + request.method() + " "
                        + path + " to " + host.getAddress().getHostAddress() + ":" + host.getPort() + " with headers "
                        + names(headers));
                try {
                    upstream.sendHead(request.method(), path, upstreamAuthority, headers, hasBody);
                    if (hasBody) {
                        if (attempt > 1) {
                            for (byte[] piece : sent) {
                                upstream.sendBody(piece);
                            }
                        } else if (streamed) {
                            ExtProcSession.PieceSource source = requestPieces != null ? requestPieces : body::next;
                            ExtProcSession.Outcome outcome = extProc.body(true, source, piece -> {
                                try {
                                    upstream.sendBody(piece);
                                    sent.add(piece);
                                    requestBodyBytes += piece.length;
                                } catch (IOException e) {
                                    throw new java.io.UncheckedIOException(e);
                                }
                            });
                            if (!outcome.proceed()) {
                                upstream.abort();
                                steps.add("router: upstream request reset; the upstream received " + requestBodyBytes
                                        + " body bytes");
                                outcome.headers().entries().forEach(h -> responseHeaders.add(h[0], h[1]));
                                local(outcome.status(), outcome.body(), outcome.why(), "");
                                return;
                            }
                        } else {
                            for (byte[] piece = body.next(); piece != null; piece = body.next()) {
                                upstream.sendBody(piece);
                                sent.add(piece);
                                requestBodyBytes += piece.length;
                            }
                        }
                        upstream.endBody();
                    }
                    UpstreamConnection.Head head;
                    try {
                        head = upstream.readHead();
                    } catch (java.net.SocketTimeoutException timedOut) {
                        upstream.abort();
                        upstreamTimeout(xds, extProc, globalFirst);
                        return;
                    } catch (IOException reset) {
                        if (retry.onReset(attempt, sent, steps)) {
                            continue;
                        }
                        throw reset;
                    }
                    if (retry.onStatus(head.status(), attempt, sent, steps)) {
                        continue;
                    }
                    status = head.status();
                    details = "via_upstream";
                    responseHeaders = head.headers();
                    responseHeaders.remove("connection");
                    responseHeaders.remove("transfer-encoding");
                    responseHeaders.set(
                            "x-envoy-upstream-service-time",
                            Long.toString(Duration.between(start, Instant.now()).toMillis()));
                    for (HeaderValueOption o : r.getResponseHeadersToAddList()) {
                        ExtAuthzCall.apply(responseHeaders, o);
                    }
                    r.getResponseHeadersToRemoveList().forEach(responseHeaders::remove);
                    steps.add("upstream answered " + status + " "
                            + responseHeaders.first("content-type").orElse(""));
                    respond(extProc, upstream, null);
                    return;
                } finally {
                    upstream.close();
                }
            }
        }

        /** The route's deadline (504 UT) or the idle timeout (408) passed before the upstream's response headers. */
        void upstreamTimeout(XdsResources xds, ExtProcSession extProc, boolean global) throws Exception {
            if (global) {
                steps.add("router: the route's timeout passed before the response: no retry");
                local(504, "upstream request timeout", "upstream_response_timeout", "UT");
                encodeLocalReply(xds, extProc);
            } else {
                steps.add("HCM: the stream's idle timeout passed before any response header");
                local(408, "stream timeout", "stream_idle_timeout", "SI");
            }
        }

        /** Response headers and body through ext_proc (when it runs) to the client. */
        void respond(ExtProcSession extProc, UpstreamConnection upstream, byte[] fixedBody) throws Exception {
            BlockingQueue<byte[]> pieces = new LinkedBlockingQueue<>();
            boolean bodyless = upstream == null && (fixedBody == null || fixedBody.length == 0);
            if (extProc != null && extProc.sendsResponseHeaders()) {
                Headers all = Headers.of(":status", Integer.toString(status));
                responseHeaders.entries().forEach(h -> all.add(h[0], h[1]));
                ExtProcSession.Outcome outcome = extProc.headers(false, all, bodyless);
                if (!outcome.proceed()) {
                    responseHeaders = outcome.headers();
                    local(outcome.status(), outcome.body(), outcome.why(), "");
                    return;
                }
                Headers next = new Headers();
                all.entries().stream().filter(h -> !h[0].startsWith(":")).forEach(h -> next.add(h[0], h[1]));
                responseHeaders = next;
            }
            if (extProc != null && extProc.streamsResponseBody() && !bodyless) {
                responseHeaders.remove("content-length");
                ExtProcSession.Outcome outcome = extProc.body(
                        false,
                        () -> {
                            if (upstream == null) {
                                byte[] b = pieces.isEmpty() && fixedBody != null && !fixedSent ? fixedBody : null;
                                fixedSent = true;
                                return b;
                            }
                            return upstream.readBody();
                        },
                        clientBody::add);
                if (!outcome.proceed()) {
                    if (!clientBody.isEmpty()) {
                        steps.add("response already started: the stream is reset mid-body");
                        flag = "DPE";
                        return;
                    }
                    responseHeaders = outcome.headers();
                    local(outcome.status(), outcome.body(), outcome.why(), "");
                }
            } else if (upstream != null) {
                for (byte[] piece = upstream.readBody(); piece != null; piece = upstream.readBody()) {
                    clientBody.add(piece);
                }
            } else if (fixedBody != null && fixedBody.length > 0) {
                clientBody.add(fixedBody);
            }
            responseHeaders.set("server", "envoy");
        }

        boolean fixedSent;

        /** A local reply (source/common/http/utility.cc sendLocalReply): status, text body, details, response flag. */
        void local(int code, String body, String why, String responseFlag) {
            status = code;
            details = why;
            flag = responseFlag;
            clientBody = new ArrayList<>();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            if (bytes.length > 0) {
                clientBody.add(bytes);
                if (!responseHeaders.has("content-type")) {
                    responseHeaders.set("content-type", "text/plain");
                }
            }
            responseHeaders.set("content-length", Integer.toString(bytes.length));
            responseHeaders.set("server", "envoy");
            steps.add("local reply " + code + (why.isEmpty() ? "" : " (" + why + ")"));
        }

        /** The HCM's access loggers: one entry per logger, as the gRPC HTTP logger fills it. */
        void log() {
            if (hcm == null) {
                return;
            }
            XdsResources xds = ads.resources();
            for (AccessLog log : hcm.getAccessLogList()) {
                try {
                    HttpGrpcAccessLogConfig config = log.getTypedConfig().unpack(HttpGrpcAccessLogConfig.class);
                    var common = config.getCommonConfig();
                    var channel = clusters.grpc(
                            xds, common.getGrpcService().getEnvoyGrpc().getClusterName());
                    accessLogs.send(channel, common.getLogName(), entry(config));
                    steps.add("access log: entry sent to "
                            + common.getGrpcService().getEnvoyGrpc().getClusterName() + " (log " + common.getLogName()
                            + ")");
                } catch (Exception e) {
                    steps.add("access log: not sent: " + e);
                }
            }
        }

        HTTPAccessLogEntry entry(HttpGrpcAccessLogConfig config) {
            Instant end = Instant.now();
            Duration took = Duration.between(start, end);
            AccessLogCommon.Builder common = AccessLogCommon.newBuilder()
                    .setStartTime(Timestamp.newBuilder()
                            .setSeconds(start.getEpochSecond())
                            .setNanos(start.getNano()))
                    .setDownstreamRemoteAddress(address(clientIp, clientPort))
                    .setDownstreamLocalAddress(address("127.0.0.1", listenerPort))
                    .setTimeToLastDownstreamTxByte(com.google.protobuf.Duration.newBuilder()
                            .setSeconds(took.getSeconds())
                            .setNanos(took.getNano()))
                    .setRouteName(routeName)
                    .setUpstreamCluster(cluster);
            ResponseFlagsOf.of(flag).ifPresent(common::setResponseFlags);
            // extractCommonAccessLogProperties: the stream's dynamic metadata, every namespace set
            if (authzMetadata.getFieldsCount() > 0) {
                common.setMetadata(io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder()
                        .putFilterMetadata(ExtAuthzCall.METADATA_NAMESPACE, authzMetadata));
            }
            long responseBytes = clientBody.stream().mapToLong(b -> b.length).sum();
            HTTPRequestProperties.Builder requestProperties = HTTPRequestProperties.newBuilder()
                    .setRequestMethod(method(request.method()))
                    .setScheme("http")
                    .setAuthority(request.authority())
                    .setPath(path)
                    .setRequestId(requestId)
                    .setUserAgent(request.headers().first("user-agent").orElse(""))
                    .setRequestBodyBytes(request.body().length);
            HTTPResponseProperties.Builder responseProperties = HTTPResponseProperties.newBuilder()
                    .setResponseCode(UInt32Value.of(status))
                    .setResponseBodyBytes(responseBytes)
                    .setResponseCodeDetails(details);
            AccessLogFields.apply(
                    config,
                    Optional.ofNullable(matchedRoute),
                    headers,
                    responseHeaders,
                    common,
                    requestProperties,
                    responseProperties);
            return HTTPAccessLogEntry.newBuilder()
                    .setCommonProperties(common)
                    .setProtocolVersion(HTTPAccessLogEntry.HTTPVersion.HTTP11)
                    .setRequest(requestProperties)
                    .setResponse(responseProperties)
                    .build();
        }
    }

    /**
     * The gRPC access log's response flags for the flag the stream ended with, as Envoy fills them from its
     * StreamInfo flags (envoyproxy/envoy source/extensions/access_loggers/grpc/grpc_access_log_utils.cc
     * {@code Utility::responseFlagsToAccessLogResponseFlags}; the short names are the ones
     * source/common/stream_info/utility.cc prints: UAEX, NR, UH, UT, UR, UF, SI, DPE). An unknown flag is a gap in
     * the emulator, not a silent omission.
     */
    private static final class ResponseFlagsOf {
        static Optional<io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags> of(String flag) {
            var b = io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags.newBuilder();
            switch (flag) {
                case "" -> {
                    return Optional.empty();
                }
                case "UAEX" ->
                    b.setUnauthorizedDetails(Unauthorized.newBuilder().setReason(Unauthorized.Reason.EXTERNAL_SERVICE));
                case "NR" -> b.setNoRouteFound(true);
                case "UH" -> b.setNoHealthyUpstream(true);
                // router.cc onResponseTimeout: StreamInfo::CoreResponseFlag::UpstreamRequestTimeout
                case "UT" -> b.setUpstreamRequestTimeout(true);
                case "UR" -> b.setUpstreamRemoteReset(true);
                case "UF" -> b.setUpstreamConnectionFailure(true);
                // conn_manager_impl.cc onIdleTimeout: StreamIdleTimeout
                case "SI" -> b.setStreamIdleTimeout(true);
                case "DPE" -> b.setDownstreamProtocolError(true);
                default -> throw new UnmodelledException("response flag " + flag + " in the access log");
            }
            return Optional.of(b.build());
        }
    }

    private static long listenerBufferLimit(XdsResources xds) {
        // the listener's per_connection_buffer_limit_bytes (default 1 MiB, listener.proto)
        return xds.listeners().values().stream()
                .filter(Listener::hasPerConnectionBufferLimitBytes)
                .findFirst()
                .map(l -> (long) l.getPerConnectionBufferLimitBytes().getValue())
                .orElse(1024L * 1024);
    }

    static Duration duration(com.google.protobuf.Duration d) {
        return Duration.ofSeconds(d.getSeconds(), d.getNanos());
    }

    private Duration scaled(Duration d) {
        return Duration.ofMillis(Math.max(1, (long) (d.toMillis() * timeoutScale)));
    }

    private static RequestMethod method(String m) {
        try {
            return RequestMethod.valueOf(m.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return RequestMethod.METHOD_UNSPECIFIED;
        }
    }

    private static Address address(String ip, int port) {
        return Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
                .build();
    }

    private static List<String> names(Headers h) {
        return h.names();
    }

    @Override
    public void close() {
        accessLogs.close();
        clusters.close();
    }
}
