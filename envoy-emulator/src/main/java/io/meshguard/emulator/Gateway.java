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

    /** An edge client from outside (TEST-NET-2, RFC 5737): not internal to any gateway. */
    public static final String EXTERNAL_CLIENT = "198.51.100.23";

    private final String clientIp;

    /**
     * @param listenerPort the gateway listener's port (the {@code listener_port} of the group)
     * @param seed seeds the weighted-cluster pick, so a run can be repeated exactly
     */
    public Gateway(AdsSubscription ads, EnvoyNode node, int listenerPort, long seed, double timeoutScale) {
        this(ads, node, listenerPort, seed, timeoutScale, EXTERNAL_CLIENT);
    }

    /** @param clientIp the address the requests come from (decides whether they are internal) */
    public Gateway(AdsSubscription ads, EnvoyNode node, int listenerPort, long seed, double timeoutScale, String clientIp) {
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
            run.local(503, "upstream connect error or disconnect/reset before headers. reset reason: " + e.getMessage(),
                    "upstream_reset_before_response_started", "UF");
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("the emulated gateway failed: " + run.steps, e);
        }
        if (run.cors != null) {
            run.cors.encode(run.responseHeaders);
        }
        run.log();
        return new Exchange(run.status, run.responseHeaders, run.clientBody, run.routeName, run.cluster, run.requestId,
                run.upstreamReached, run.steps);
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

        Run(DownstreamRequest request, Instant start) {
            this.request = request;
            this.start = start;
            this.headers = request.headers().copy();
            this.path = request.path();
        }

        void play() throws Exception {
            XdsResources xds = ads.resources();
            Listener listener = xds.listeners().values().stream()
                    .filter(l -> l.getAddress().getSocketAddress().getPortValue() == listenerPort).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no listener on port " + listenerPort + " in " + xds.listeners().keySet()));
            hcm = (HttpConnectionManager) ModelledFields.unpack(listener.getFilterChains(0).getFilters(0).getTypedConfig());
            steps.add("listener " + listener.getName() + ": " + request.method() + " " + request.authority() + request.path());
            // ConnectionManagerUtility::mutateRequestHeaders (source/common/http/conn_manager_utility.cc): a request id
            // is generated when absent (generate_request_id defaults to true) and kept when present (not an edge
            // request: use_remote_address is unset); x-forwarded-proto set from the connection.
            if (underscoreHeaders()) {
                return;
            }
            streamIdle = hcm.hasStreamIdleTimeout() ? duration(hcm.getStreamIdleTimeout()) : STREAM_IDLE;
            boolean edge = hcm.hasUseRemoteAddress() && hcm.getUseRemoteAddress().getValue()
                    && !EdgeAddresses.internal(hcm, clientIp);
            if (hcm.hasUseRemoteAddress() && hcm.getUseRemoteAddress().getValue()) {
                // the client address is the socket's: appended to x-forwarded-for; at the edge, Envoy's internal
                // x-envoy-* headers sent by the client are dropped (ConnectionManagerUtility::cleanInternalHeaders)
                // with xff_num_trusted_hops N the client is the Nth entry from the right of the request's own chain,
                // taken before the append (conn_manager_utility.cc mutateRequestHeaders, getLastAddressFromXFF(N - 1))
                String trustedClient = TrustedHops.client(headers.first("x-forwarded-for"), hcm.getXffNumTrustedHops())
                        .orElse(clientIp);
                headers.set("x-forwarded-for", headers.first("x-forwarded-for").map(v -> v + "," + clientIp).orElse(clientIp));
                if (edge) {
                    headers.names().stream().filter(n -> n.startsWith("x-envoy-")).toList().forEach(headers::remove);
                    headers.set("x-envoy-external-address", trustedClient);
                } else {
                    headers.set("x-envoy-internal", "true");
                }
            }
            // an edge request gets a new request id (preserve_external_request_id is unset); others keep theirs
            requestId = edge ? UUID.randomUUID().toString()
                    : headers.first("x-request-id").orElseGet(() -> UUID.randomUUID().toString());
            if (edge && headers.has("x-request-id")) {
                steps.add("HCM: the client's x-request-id replaced at the edge");
            }
            headers.set("x-request-id", requestId);
            if (!headers.has("x-forwarded-proto")) {
                headers.set("x-forwarded-proto", "http");
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
            Optional<VirtualHost> vh = RouteTable.virtualHost(rc, request.authority());
            Headers matchHeaders = ExtAuthzCall.pseudoHeaders(request.method(), path, request.authority());
            headers.entries().forEach(h -> matchHeaders.add(h[0], h[1]));
            Optional<Route> route = vh.flatMap(v -> RouteTable.route(v, path, matchHeaders));
            if (route.isEmpty()) {
                steps.add("no route: " + (vh.isEmpty() ? "no virtual host for " + request.authority()
                        : "virtual host " + vh.get().getName() + " has no route for " + request.method() + " " + path));
                local(404, "", "route_not_found", "NR");
                return;
            }
            Route r = route.get();
            matchedRoute = r;
            routeName = r.getName();
            steps.add("route " + r.getName() + " (virtual host " + vh.get().getName() + ")");

            ExtProcSession extProc = null;
            try {
                for (HttpFilter filter : hcm.getHttpFiltersList()) {
                    Message config = ModelledFields.unpack(filter.getTypedConfig());
                    Any perRoute = r.getTypedPerFilterConfigMap().get(filter.getName());
                    switch (config) {
                        case io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors c -> {
                            cors = CorsFilter.forRoute(filter.getName(), r, vh.get());
                            Optional<Headers> preflight = cors.decode(request.method(), headers, steps);
                            if (preflight.isPresent()) {
                                responseHeaders = preflight.get();
                                local(200, "", "cors_response", "");
                                return;
                            }
                        }
                        case ExtAuthz authz -> {
                            if (!extAuthz(xds, authz, perRoute)) {
                                return;
                            }
                        }
                        case ExternalProcessor processor -> {
                            extProc = extProcRequest(xds, processor, perRoute);
                            if (extProc == null && status != 0) {
                                return;
                            }
                        }
                        case Router router -> terminal(xds, r, extProc);
                        default -> throw new UnmodelledException("HTTP filter " + filter.getName());
                    }
                }
            } finally {
                if (extProc != null) {
                    extProc.close();
                }
            }
        }

        Duration streamIdle = STREAM_IDLE;
        CorsFilter cors;

        /**
         * {@code headers_with_underscores_action} (core/v3/protocol.proto), applied by the codec
         * (source/common/http/http1/codec_impl.cc): REJECT_REQUEST answers 400, DROP_HEADER drops them.
         */
        boolean underscoreHeaders() {
            var action = hcm.getCommonHttpProtocolOptions().getHeadersWithUnderscoresAction();
            List<String> named = headers.names().stream().filter(n -> n.contains("_")).toList();
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
                case ALLOW -> { }
                default -> throw new UnmodelledException("headers_with_underscores_action " + action);
            }
            return false;
        }

        boolean extAuthz(XdsResources xds, ExtAuthz config, Any perRoute) throws Exception {
            Map<String, String> context = Map.of();
            if (perRoute != null) {
                ExtAuthzPerRoute pr = perRoute.unpack(ExtAuthzPerRoute.class);
                if (pr.getDisabled()) {
                    steps.add("ext_authz: disabled on this route");
                    return true;
                }
                context = pr.getCheckSettings().getContextExtensionsMap();
            }
            long size = headers.first("content-length").map(Long::parseLong).orElse(0L);
            var check = ExtAuthzCall.build(config, streamId, request.method(), path, request.authority(), headers,
                    context, clientIp, clientPort, listenerPort, size);
            steps.add("ext_authz: Check to cluster " + config.getGrpcService().getEnvoyGrpc().getClusterName()
                    + " with context_extensions " + new java.util.TreeMap<>(context));
            var channel = clusters.grpc(xds, config.getGrpcService().getEnvoyGrpc().getClusterName());
            ExtAuthzCall.Result result = ExtAuthzCall.call(config, channel, check, headers, timeoutScale);
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
            var channel = clusters.grpc(xds, config.getGrpcService().getEnvoyGrpc().getClusterName());
            steps.add("ext_proc: stream to cluster " + config.getGrpcService().getEnvoyGrpc().getClusterName()
                    + " with initial metadata " + metadata.stream().map(h -> h.getKey() + "=" + h.getValue()).toList());
            ExtProcSession session = new ExtProcSession(config, channel, metadata, scaled(streamIdle), steps);
            if (session.sendsRequestHeaders()) {
                Headers all = ExtAuthzCall.pseudoHeaders(request.method(), path, request.authority());
                headers.entries().forEach(h -> all.add(h[0], h[1]));
                ExtProcSession.Outcome outcome = session.headers(true, all, request.bodyChunks().isEmpty());
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
                    ExtAuthzCall.apply(responseHeaders, o);
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
                    ? Duration.ofSeconds(action.getTimeout().getSeconds(), action.getTimeout().getNanos()) : DEFAULT_ROUTE_TIMEOUT;
            if (!timeout.isZero()) {
                headers.set("x-envoy-expected-rq-timeout-ms", Long.toString(timeout.toMillis()));
            }
            Duration idle = action.hasIdleTimeout() ? duration(action.getIdleTimeout()) : streamIdle;
            var c = xds.clusters().get(cluster);
            Duration connect = c.hasConnectTimeout() ? duration(c.getConnectTimeout()) : Duration.ofSeconds(5);
            boolean streamed = extProc != null && extProc.streamsRequestBody();
            boolean hasBody = !request.bodyChunks().isEmpty();
            if (streamed && hasBody) {
                headers.remove("content-length"); // FULL_DUPLEX_STREAMED: Envoy drops it, the body may change length
            }
            Duration readTimeout = timeout.isZero() ? idle : (idle.compareTo(timeout) < 0 ? idle : timeout);
            Retry retry = new Retry(action, listenerBufferLimit(xds));
            List<byte[]> sent = new ArrayList<>();
            for (int attempt = 1; ; attempt++) {
                InetSocketAddress host = clusters.host(xds, cluster);
                if (host == null) {
                    local(503, "no healthy upstream", "no_healthy_upstream", "UH");
                    return;
                }
                UpstreamConnection upstream;
                try {
                    upstream = UpstreamConnection.open(host, scaled(connect), scaled(readTimeout));
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
                    upstream.sendHead(request.method(), path, request.authority(), headers, hasBody);
                    if (hasBody) {
                        if (attempt > 1) {
                            for (byte[] piece : sent) {
                                upstream.sendBody(piece);
                            }
                        } else if (streamed) {
                            java.util.Iterator<byte[]> pieces = request.bodyChunks().iterator();
                            ExtProcSession.Outcome outcome = extProc.body(true,
                                    () -> pieces.hasNext() ? pieces.next() : null, piece -> {
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
                            for (byte[] piece : request.bodyChunks()) {
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
                    responseHeaders.set("x-envoy-upstream-service-time",
                            Long.toString(Duration.between(start, Instant.now()).toMillis()));
                    for (HeaderValueOption o : r.getResponseHeadersToAddList()) {
                        ExtAuthzCall.apply(responseHeaders, o);
                    }
                    r.getResponseHeadersToRemoveList().forEach(responseHeaders::remove);
                    steps.add("upstream answered " + status + " " + responseHeaders.first("content-type").orElse(""));
                    respond(extProc, upstream, null);
                    return;
                } finally {
                    upstream.close();
                }
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
                ExtProcSession.Outcome outcome = extProc.body(false, () -> {
                    if (upstream == null) {
                        byte[] b = pieces.isEmpty() && fixedBody != null && !fixedSent ? fixedBody : null;
                        fixedSent = true;
                        return b;
                    }
                    return upstream.readBody();
                }, clientBody::add);
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
            for (HeaderValueOption o : authzResponseHeaders) {
                ExtAuthzCall.apply(responseHeaders, o);
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
                    var channel = clusters.grpc(xds, common.getGrpcService().getEnvoyGrpc().getClusterName());
                    accessLogs.send(channel, common.getLogName(), entry(config));
                    steps.add("access log: entry sent to " + common.getGrpcService().getEnvoyGrpc().getClusterName()
                            + " (log " + common.getLogName() + ")");
                } catch (Exception e) {
                    steps.add("access log: not sent: " + e);
                }
            }
        }

        HTTPAccessLogEntry entry(HttpGrpcAccessLogConfig config) {
            Instant end = Instant.now();
            Duration took = Duration.between(start, end);
            AccessLogCommon.Builder common = AccessLogCommon.newBuilder()
                    .setStartTime(Timestamp.newBuilder().setSeconds(start.getEpochSecond()).setNanos(start.getNano()))
                    .setDownstreamRemoteAddress(address(clientIp, clientPort))
                    .setDownstreamLocalAddress(address("127.0.0.1", listenerPort))
                    .setTimeToLastDownstreamTxByte(com.google.protobuf.Duration.newBuilder()
                            .setSeconds(took.getSeconds()).setNanos(took.getNano()))
                    .setRouteName(routeName)
                    .setUpstreamCluster(cluster);
            if (flag.equals("UAEX")) {
                common.setResponseFlags(ResponseFlagsOf.unauthorized());
            } else if (flag.equals("NR")) {
                common.setResponseFlags(io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags.newBuilder().setNoRouteFound(true));
            } else if (flag.equals("UH")) {
                common.setResponseFlags(io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags.newBuilder().setNoHealthyUpstream(true));
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
            AccessLogFields.apply(config, Optional.ofNullable(matchedRoute), headers, responseHeaders, common,
                    requestProperties, responseProperties);
            return HTTPAccessLogEntry.newBuilder()
                    .setCommonProperties(common)
                    .setProtocolVersion(HTTPAccessLogEntry.HTTPVersion.HTTP11)
                    .setRequest(requestProperties)
                    .setResponse(responseProperties)
                    .build();
        }
    }

    /** The access-log response flags Envoy sets for an ext_authz denial (UAEX). */
    private static final class ResponseFlagsOf {
        static io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags unauthorized() {
            return io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags.newBuilder()
                    .setUnauthorizedDetails(Unauthorized.newBuilder().setReason(Unauthorized.Reason.EXTERNAL_SERVICE))
                    .build();
        }
    }

    private static long listenerBufferLimit(XdsResources xds) {
        // the listener's per_connection_buffer_limit_bytes (default 1 MiB, listener.proto)
        return xds.listeners().values().stream().filter(Listener::hasPerConnectionBufferLimitBytes).findFirst()
                .map(l -> (long) l.getPerConnectionBufferLimitBytes().getValue()).orElse(1024L * 1024);
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
        return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port)).build();
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
