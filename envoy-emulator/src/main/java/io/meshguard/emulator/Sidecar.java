package io.meshguard.emulator;

import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ObjIntConsumer;

/**
 * An Istio sidecar's inbound HTTP path in front of one workload, emulated: a request that arrives over mTLS from a
 * peer (the edge gateway, or another pod) goes through the inbound HTTP connection manager, the {@code ext_authz}
 * filter of meshguard's CUSTOM authorization provider, and on to the workload (a real HTTP/1.1 upstream on loopback).
 *
 * <p>mTLS is not performed: each {@link #listen(Peer) listener} stands for connections whose handshake verified one
 * peer, so what the sidecar's Envoy knows about the connection — the peer's SPIFFE ID (the certificate's URI SAN) and
 * its pod address — is exactly what that listener reports. A gateway's cluster endpoint pointing at such a listener is
 * the gateway pod reaching the workload through its own sidecar's mTLS.
 *
 * <p>What is modelled, each from its source:
 * <ul>
 *   <li><b>The inbound connection manager</b> as Istio builds it (istio/istio pilot/pkg/networking/core/listener_inbound.go
 *       {@code buildSidecarInboundHTTPOpts}): {@code use_remote_address: false}, no trusted hops, no original-IP
 *       detection extension, {@code forward_client_cert_details} APPEND_FORWARD (Istio's sidecar default,
 *       pilot/pkg/networking/util {@code GetProxyHeaders}). Envoy's {@code mutateRequestHeaders}
 *       (envoyproxy/envoy source/common/http/conn_manager_utility.cc) then: does not append the peer to
 *       {@code x-forwarded-for} (only a {@code use_remote_address} HCM appends); finds the request neither internal
 *       (no detection extension allows trusted-address checks) nor edge ({@code edge_request} needs
 *       {@code use_remote_address}), so {@code x-envoy-external-address} is neither set nor removed — what the peer
 *       sent passes; removes the fixed list of internal {@code x-envoy-*} headers ({@code cleanInternalHeaders});
 *       keeps the peer's {@code x-request-id} (a new one only when absent: not an edge request); sets
 *       {@code x-forwarded-proto} when absent; appends the peer's certificate details to
 *       {@code x-forwarded-client-cert} ({@code mutateXfccRequestHeader}, {@code By=} our URI SAN, {@code URI=} the
 *       peer's; no {@code Hash=}: there is no certificate).</li>
 *   <li><b>The ext_authz filter</b> Istio generates for an {@code envoyExtAuthzGrpc} provider (istio/istio
 *       pilot/pkg/security/authz/builder/extauthz.go; its testdata custom-grpc-provider-out2.yaml), with meshguard's
 *       provider settings (manifests/istio/mesh/istiod-values.yaml: {@code timeout: 1s}, {@code failOpen: false},
 *       {@code statusOnError: 503}). The namespace's CUSTOM policy matches every request, so every request is
 *       checked. The Check (envoyproxy/envoy source/extensions/filters/common/ext_authz/check_request_utils.cc
 *       {@code setAttrContextPeer}): {@code source.address} the connection's peer, {@code source.principal} the peer
 *       certificate's URI SAN, {@code destination.principal} our own; no context extensions (Istio's inbound routes
 *       carry none of meshguard's). The answer is applied as the gateway's is ({@link ExtAuthzCall}).</li>
 *   <li><b>The workload</b>: the request with the allow's header mutations, over HTTP/1.1 to loopback.</li>
 * </ul>
 */
public final class Sidecar implements AutoCloseable {
    /** meshguard's provider timeout (manifests/istio/mesh/istiod-values.yaml). */
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(1);

    /**
     * The other end of an mTLS connection: the SPIFFE ID its certificate carries (verified by the handshake) and its
     * address as the sidecar's socket sees it (the pod's IP).
     */
    public record Peer(String principal, String address) {}

    /**
     * One request the sidecar handled: the peer, what arrived, the Check it sent, the status it answered and, when
     * allowed, the headers the workload received (empty when denied).
     */
    public record Handled(Peer peer, Headers arrived, CheckRequest check, int status, Optional<Headers> forwarded) {}

    /**
     * The access log Istio's {@code Telemetry} (mode {@code SERVER}) gives the inbound listener with an
     * {@code envoyHttpAls} provider: one gRPC HTTP access logger ({@code config}: log name, cluster, headers to log),
     * its stream identified by {@code node}. Each inbound request is logged when it ends, denied ones included.
     */
    public record AccessLog(HttpGrpcAccessLogConfig config, EnvoyNode node) {
        /**
         * What istiod renders for a mesh config {@code envoyHttpAls} provider (pilot/pkg/networking/core
         * accesslog.go {@code buildHTTPGrpcAccessLog}): the log name, the provider's service as an outbound cluster,
         * transport v3, and the headers it lists to log.
         */
        public static AccessLog envoyHttpAls(
                String cluster,
                String logName,
                List<String> requestHeaders,
                List<String> responseHeaders,
                EnvoyNode node) {
            return new AccessLog(
                    HttpGrpcAccessLogConfig.newBuilder()
                            .setCommonConfig(
                                    io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig
                                            .newBuilder()
                                            .setLogName(logName)
                                            .setTransportApiVersion(ApiVersion.V3)
                                            .setGrpcService(GrpcService.newBuilder()
                                                    .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder()
                                                            .setClusterName(cluster))))
                            .addAllAdditionalRequestHeadersToLog(requestHeaders)
                            .addAllAdditionalResponseHeadersToLog(responseHeaders)
                            .build(),
                    node);
        }
    }

    /** One inbound request as the access log describes it: what the HCM made of it, and when it started. */
    private record Inbound(Instant start, String method, String authority, String path, Headers headers) {}

    private final String identity;
    private final Optional<ExtAuthz> config;
    private final Optional<ExternalProcessor> extProc;
    private final Function<String, ManagedChannel> clusters;
    private final List<ManagedChannel> owned = new CopyOnWriteArrayList<>();
    private final int workloadPort;
    private final double timeoutScale;
    private final EnvoyVersion version;
    private final Consumer<String> log;
    private final List<HttpServer> listeners = new CopyOnWriteArrayList<>();
    private final List<Handled> handled = new CopyOnWriteArrayList<>();
    private final AtomicLong streamIds = new AtomicLong(1);
    private final Optional<AccessLog> accessLog;
    private final Optional<AccessLogClient> accessLogs;

    /**
     * @param identity this sidecar's SPIFFE ID (the workload's service account)
     * @param extAuthzTarget host:port of extauthz-server (meshguard-extauthz in the mesh)
     * @param workloadPort the workload's loopback port
     * @param timeoutScale the Check deadline is 1 s times this (a loaded test machine)
     * @param version the sidecar's Envoy release ({@link EnvoyVersion}: how an unset {@code append} is applied)
     */
    public Sidecar(
            String identity, String extAuthzTarget, int workloadPort, double timeoutScale, EnvoyVersion version) {
        this(
                identity,
                Optional.of(meshguardProvider()),
                Optional.empty(),
                cluster -> NettyChannelBuilder.forTarget(extAuthzTarget)
                        .usePlaintext()
                        .build(),
                workloadPort,
                timeoutScale,
                version,
                line -> {});
    }

    /** The ext_authz filter Istio generates for meshguard's CUSTOM provider (see the class comment). */
    public static ExtAuthz meshguardProvider() {
        return ExtAuthz.newBuilder()
                .setGrpcService(GrpcService.newBuilder()
                        .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(EXTAUTHZ_CLUSTER))
                        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(CHECK_TIMEOUT.toSeconds())))
                .setTransportApiVersion(ApiVersion.V3)
                .setFailureModeAllow(false)
                .setStatusOnError(HttpStatus.newBuilder().setCode(StatusCode.ServiceUnavailable))
                .build();
    }

    /** The cluster Istio names meshguard-extauthz's Check port by ({@code outbound|9001||meshguard-extauthz}). */
    public static final String EXTAUTHZ_CLUSTER = "outbound|9001||meshguard-extauthz";

    /**
     * A sidecar whose inbound HTTP filters are the ones Istio generated for the workload: the CUSTOM provider's
     * {@code ext_authz} (when a CUSTOM policy selects it) and an EnvoyFilter's {@code ext_proc} before the router
     * (when one selects it). Both are refused here when they set a field the emulator does not model
     * ({@link #checkModelled(ExtAuthz)}, {@link #checkModelled(ExternalProcessor)}).
     *
     * @param clusters the channel to an Envoy cluster by name ({@code outbound|PORT||HOST}): how the caller reaches
     *     it (in a cluster: through the pod's own Envoy, with mTLS); opened once per name and closed with the sidecar
     * @param log one line per request and per filter step (the proxy's log)
     */
    public Sidecar(
            String identity,
            Optional<ExtAuthz> extAuthz,
            Optional<ExternalProcessor> extProc,
            Function<String, ManagedChannel> clusters,
            int workloadPort,
            double timeoutScale,
            EnvoyVersion version,
            Consumer<String> log) {
        this(identity, extAuthz, extProc, Optional.empty(), clusters, workloadPort, timeoutScale, version, log);
    }

    /**
     * As {@link #Sidecar(String, Optional, Optional, Function, int, double, EnvoyVersion, Consumer)}, with the
     * inbound listener's access log ({@link AccessLog}; its cluster reached through {@code clusters} as well).
     */
    public Sidecar(
            String identity,
            Optional<ExtAuthz> extAuthz,
            Optional<ExternalProcessor> extProc,
            Optional<AccessLog> accessLog,
            Function<String, ManagedChannel> clusters,
            int workloadPort,
            double timeoutScale,
            EnvoyVersion version,
            Consumer<String> log) {
        extAuthz.ifPresent(Sidecar::checkModelled);
        accessLog.ifPresent(a -> {
            if (!a.config().getCommonConfig().getGrpcService().hasEnvoyGrpc()) {
                throw new UnmodelledException("sidecar access log without an envoy_grpc cluster: " + a.config());
            }
        });
        this.accessLog = accessLog;
        this.accessLogs = accessLog.map(a -> new AccessLogClient(a.node().toProto()));
        extProc.ifPresent(Sidecar::checkModelled);
        this.identity = identity;
        this.config = extAuthz;
        this.extProc = extProc;
        java.util.Map<String, ManagedChannel> opened = new java.util.concurrent.ConcurrentHashMap<>();
        this.clusters = name -> opened.computeIfAbsent(name, n -> {
            ManagedChannel c = clusters.apply(n);
            owned.add(c);
            return c;
        });
        this.workloadPort = workloadPort;
        this.timeoutScale = timeoutScale;
        this.version = version;
        this.log = log;
    }

    /**
     * Refuses an ext_authz config with a field this sidecar does not act on: what it models is a gRPC service by
     * cluster ({@code envoy_grpc} name and authority, {@code timeout}), {@code failure_mode_allow},
     * {@code status_on_error}, {@code transport_api_version} V3 and Istio's {@code filter_enabled_metadata} (the
     * CUSTOM policy's shadow match: the caller says per listener whether the policy matched).
     */
    public static void checkModelled(ExtAuthz c) {
        GrpcService g = c.getGrpcService();
        GrpcService rest = g.toBuilder()
                .clearTimeout()
                .setEnvoyGrpc(GrpcService.EnvoyGrpc.getDefaultInstance())
                .build();
        ExtAuthz others = c.toBuilder()
                .clearGrpcService()
                .clearFailureModeAllow()
                .clearStatusOnError()
                .clearTransportApiVersion()
                .clearFilterEnabledMetadata()
                .build();
        if (!g.hasEnvoyGrpc()
                || !rest.equals(GrpcService.newBuilder()
                        .setEnvoyGrpc(GrpcService.EnvoyGrpc.getDefaultInstance())
                        .build())
                || !others.equals(ExtAuthz.getDefaultInstance())
                || c.getTransportApiVersion() != ApiVersion.V3) {
            throw new UnmodelledException("sidecar ext_authz fields beyond envoy_grpc, timeout, failure_mode_allow, "
                    + "status_on_error, transport_api_version V3, filter_enabled_metadata: " + c);
        }
    }

    /**
     * Refuses an ext_proc config with a field this sidecar does not act on: {@code envoy_grpc} (cluster, authority),
     * {@code failure_mode_allow: false}, {@code processing_mode} with header modes SEND/SKIP/DEFAULT and body modes
     * NONE/FULL_DUPLEX_STREAMED (trailer modes: an HTTP/1.1 request here carries no trailers), and the fields
     * FULL_DUPLEX_STREAMED makes inert ({@code allow_mode_override}, ignored in that mode) or that only name stats
     * ({@code stat_prefix}); {@code disable_immediate_response} must stay false (an immediate response is honoured).
     */
    public static void checkModelled(ExternalProcessor c) {
        ExternalProcessor others = c.toBuilder()
                .clearGrpcService()
                .clearFailureModeAllow()
                .clearProcessingMode()
                .clearAllowModeOverride()
                .clearStatPrefix()
                .clearDisableImmediateResponse()
                .build();
        GrpcService g = c.getGrpcService();
        boolean grpcModelled =
                g.hasEnvoyGrpc() && g.toBuilder().clearEnvoyGrpc().build().equals(GrpcService.getDefaultInstance());
        var m = c.getProcessingMode();
        boolean bodies = java.util.stream.Stream.of(m.getRequestBodyMode(), m.getResponseBodyMode())
                .allMatch(b ->
                        b == ProcessingMode.BodySendMode.NONE || b == ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED);
        boolean streamed = m.getRequestBodyMode() == ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED
                || m.getResponseBodyMode() == ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED;
        if (!others.equals(ExternalProcessor.getDefaultInstance())
                || !grpcModelled
                || !bodies
                || c.getFailureModeAllow()
                || c.getDisableImmediateResponse()
                || (c.getAllowModeOverride() && !streamed)) {
            throw new UnmodelledException("sidecar ext_proc fields beyond envoy_grpc, failure_mode_allow false, "
                    + "processing_mode (bodies NONE or FULL_DUPLEX_STREAMED), stat_prefix: " + c);
        }
    }

    /** A listener whose every connection comes from {@code peer} (as its mTLS handshake verified it); its port. */
    public int listen(Peer peer) throws IOException {
        return listen(peer, config.isPresent(), Optional.empty());
    }

    /**
     * A listener for connections from {@code peer} (an empty principal: a plaintext peer, PERMISSIVE), on loopback;
     * its port. {@code checked}: a CUSTOM policy matches this peer, so ext_authz runs; {@code rbacDenial}: what
     * Istio's DENY/ALLOW RBAC filters, which come after ext_authz, answer this peer (403 "RBAC: access denied").
     */
    public int listen(Peer peer, boolean checked, Optional<String> rbacDenial) throws IOException {
        return listen(peer, checked, rbacDenial, Optional.empty());
    }

    /**
     * A listener of an Istio waypoint (ambient mode) for connections ztunnel carried from {@code client}, whose
     * identity ztunnel proved; its port. The waypoint runs its HTTP filters on an internal listener without TLS, so
     * the Check carries no {@code source.principal} (istio/istio#56379). With {@code xfccClientIdentity} (the
     * Gateway's {@code ambient.istio.io/xfcc-include-client-identity: "true"}, Istio 1.30) the request carries
     * {@code x-forwarded-client-cert: By=<this waypoint>;URI=<client>} before the authorization filters, replacing
     * any value it arrived with (pilot/pkg/xds/filters/filters.go {@code WaypointXFCCClientIdentityFilter}).
     */
    public int listenAsWaypoint(Peer client, boolean xfccClientIdentity, boolean checked) throws IOException {
        return listen(
                new Peer("", client.address()),
                checked,
                Optional.empty(),
                xfccClientIdentity ? Optional.of(client.principal()) : Optional.empty());
    }

    private int listen(Peer peer, boolean checked, Optional<String> rbacDenial, Optional<String> waypointClient)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", exchange -> {
            try (exchange) {
                handle(exchange, peer, server.getAddress().getPort(), checked, rbacDenial, waypointClient);
            } catch (IOException | RuntimeException e) {
                log.accept("inbound request from " + peer + " failed: " + e);
                throw e;
            }
        });
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        listeners.add(server);
        return server.getAddress().getPort();
    }

    /** Every request handled so far, in order. */
    public List<Handled> handled() {
        return List.copyOf(handled);
    }

    public void clear() {
        handled.clear();
    }

    private void handle(
            HttpExchange exchange,
            Peer peer,
            int listenerPort,
            boolean checked,
            Optional<String> rbacDenial,
            Optional<String> waypointClient)
            throws IOException {
        Instant start = Instant.now();
        Headers headers = new Headers();
        exchange.getRequestHeaders()
                .forEach((k, values) -> values.forEach(v -> headers.add(k.toLowerCase(Locale.ROOT), v)));
        String authority = headers.first("host").orElse("");
        headers.remove("host"); // HTTP/1.1's Host is :authority to Envoy
        Headers arrived = headers.copy();
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getRawPath()
                + (exchange.getRequestURI().getRawQuery() == null
                        ? ""
                        : "?" + exchange.getRequestURI().getRawQuery());

        inboundConnectionManager(headers, peer);
        waypointClient.ifPresent(client -> headers.set("x-forwarded-client-cert", "By=" + identity + ";URI=" + client));
        String who = method + " " + authority + path + " from "
                + (peer.principal().isEmpty() ? "plaintext " + peer.address() : peer.principal());

        long streamId = streamIds.getAndIncrement();
        Inbound inbound = new Inbound(start, method, authority, path, headers);
        Struct authzMetadata = Struct.getDefaultInstance();
        CheckRequest check = CheckRequest.getDefaultInstance();
        if (checked && config.isPresent()) {
            ExtAuthz c = config.get();
            CheckRequest built = ExtAuthzCall.build(
                    c,
                    streamId,
                    method,
                    path,
                    authority,
                    headers,
                    Map.of(),
                    peer.address(),
                    40000 + (int) (streamId % 20000),
                    listenerPort,
                    body.length,
                    java.util.Optional.empty());
            // setAttrContextPeer: the source's principal is the peer certificate's URI SAN (none without TLS), the
            // destination's our own
            AttributeContext.Peer.Builder source = built.getAttributes().getSource().toBuilder();
            if (!peer.principal().isEmpty()) {
                source.setPrincipal(peer.principal());
            }
            check = built.toBuilder()
                    .setAttributes(built.getAttributes().toBuilder()
                            .setSource(source)
                            .setDestination(built.getAttributes().getDestination().toBuilder()
                                    .setPrincipal(identity)))
                    .build();
            ExtAuthzCall.Result result = ExtAuthzCall.call(
                    c,
                    clusters.apply(c.getGrpcService().getEnvoyGrpc().getClusterName()),
                    check,
                    headers,
                    timeoutScale,
                    version);
            log.accept("inbound " + who + ": ext_authz " + result.outcome()
                    + (result.error().isEmpty() ? "" : " (" + result.error() + ")")
                    + (result.status() == 0 ? "" : " " + result.status()));
            authzMetadata = result.dynamicMetadata();
            if (result.outcome() == ExtAuthzCall.Outcome.DENIED
                    || result.outcome() == ExtAuthzCall.Outcome.ERROR_DENIED) {
                finish(
                        new Handled(peer, arrived, check, result.status(), Optional.empty()),
                        inbound,
                        result.responseHeaders(),
                        authzMetadata,
                        Reached.AUTHZ_DENIED);
                reply(exchange, result.status(), result.responseHeaders(), result.body());
                return;
            }
            path = result.path();
        }
        if (rbacDenial.isPresent()) {
            // Istio's RBAC filters come after the CUSTOM ext_authz filter (authz/builder: CUSTOM, then DENY, ALLOW)
            log.accept("inbound " + who + ": " + rbacDenial.get());
            Headers denial = Headers.of("content-type", "text/plain");
            finish(
                    new Handled(peer, arrived, check, 403, Optional.empty()),
                    inbound,
                    denial,
                    authzMetadata,
                    Reached.LOCAL_REPLY);
            reply(exchange, 403, denial, "RBAC: access denied");
            return;
        }
        List<String> steps = new java.util.ArrayList<>();
        Struct metadata = authzMetadata;
        ExtProcSession session = null;
        try {
            if (extProc.isPresent()) {
                ExternalProcessor p = extProc.get();
                // Istio disables the HCM's stream_idle_timeout and nothing times a FULL_DUPLEX_STREAMED message (see
                // manifests/istio/base/envoy-filter-ext-proc.yaml): the bound here only keeps a test from hanging
                session = new ExtProcSession(
                        p,
                        clusters.apply(p.getGrpcService().getEnvoyGrpc().getClusterName()),
                        List.of(),
                        Duration.ofMillis((long) (30_000 * timeoutScale)),
                        steps);
                OneShot requestBody = new OneShot(body);
                if (session.sendsRequestHeaders()) {
                    Headers all = ExtAuthzCall.pseudoHeaders(method, path, authority);
                    headers.entries().forEach(h -> all.add(h[0], h[1]));
                    ExtProcSession.Outcome o = session.headers(
                            true,
                            all,
                            body.length == 0,
                            session.streamsRequestBody() && body.length > 0 ? requestBody : null);
                    if (!o.proceed()) {
                        localReply(exchange, who, steps, peer, arrived, check, o, inbound, metadata);
                        return;
                    }
                    Headers next = new Headers();
                    all.entries().stream().filter(h -> !h[0].startsWith(":")).forEach(h -> next.add(h[0], h[1]));
                    headers.entries().forEach(h -> headers.remove(h[0]));
                    next.entries().forEach(h -> headers.add(h[0], h[1]));
                }
                if (session.streamsRequestBody() && body.length > 0) {
                    java.io.ByteArrayOutputStream scanned = new java.io.ByteArrayOutputStream();
                    ExtProcSession.Outcome o = session.body(true, requestBody, scanned::writeBytes);
                    if (!o.proceed()) {
                        localReply(exchange, who, steps, peer, arrived, check, o, inbound, metadata);
                        return;
                    }
                    body = scanned.toByteArray();
                }
            }
            Headers forwarded = headers.copy();
            CheckRequest sentCheck = check;
            forward(
                    exchange,
                    method,
                    path,
                    authority,
                    headers,
                    body,
                    session,
                    steps,
                    who,
                    (answer, status) -> finish(
                            new Handled(peer, arrived, sentCheck, status, Optional.of(forwarded)),
                            inbound,
                            answer,
                            metadata,
                            Reached.WORKLOAD));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        } finally {
            if (session != null) {
                session.close();
            }
        }
    }

    /** Where an inbound request ended: what its access-log entry says about the upstream and the response flags. */
    private enum Reached {
        WORKLOAD,
        AUTHZ_DENIED,
        LOCAL_REPLY
    }

    /** The request is done: kept for {@link #handled()}, and logged when the listener has an access log. */
    private void finish(Handled h, Inbound inbound, Headers responseHeaders, Struct authzMetadata, Reached reached) {
        handled.add(h);
        if (accessLog.isEmpty()) {
            return;
        }
        HttpGrpcAccessLogConfig config = accessLog.get().config();
        Instant end = Instant.now();
        Duration took = Duration.between(inbound.start(), end);
        AccessLogCommon.Builder common = AccessLogCommon.newBuilder()
                .setStartTime(com.google.protobuf.Timestamp.newBuilder()
                        .setSeconds(inbound.start().getEpochSecond())
                        .setNanos(inbound.start().getNano()))
                .setTimeToLastDownstreamTxByte(com.google.protobuf.Duration.newBuilder()
                        .setSeconds(took.getSeconds())
                        .setNanos(took.getNano()));
        if (reached == Reached.WORKLOAD) {
            // an upstream host was chosen: its address and cluster (Istio's inbound cluster for the port)
            common.setUpstreamCluster("inbound|" + workloadPort + "||")
                    .setUpstreamRemoteAddress(Address.newBuilder()
                            .setSocketAddress(SocketAddress.newBuilder()
                                    .setAddress("127.0.0.1")
                                    .setPortValue(workloadPort)));
        }
        if (reached == Reached.AUTHZ_DENIED) {
            common.setResponseFlags(ResponseFlags.newBuilder()
                    .setUnauthorizedDetails(ResponseFlags.Unauthorized.newBuilder()
                            .setReason(ResponseFlags.Unauthorized.Reason.EXTERNAL_SERVICE)));
        }
        // extractCommonAccessLogProperties: the stream's dynamic metadata, ext_authz's namespace among it
        if (authzMetadata.getFieldsCount() > 0) {
            common.setMetadata(Metadata.newBuilder().putFilterMetadata(ExtAuthzCall.METADATA_NAMESPACE, authzMetadata));
        }
        HTTPRequestProperties.Builder request = HTTPRequestProperties.newBuilder()
                .setRequestMethod(requestMethod(inbound.method()))
                .setScheme("http")
                .setAuthority(inbound.authority())
                .setPath(inbound.path())
                .setRequestId(inbound.headers().first("x-request-id").orElse(""));
        HTTPResponseProperties.Builder response =
                HTTPResponseProperties.newBuilder().setResponseCode(UInt32Value.of(h.status()));
        AccessLogFields.apply(config, Optional.empty(), inbound.headers(), responseHeaders, common, request, response);
        HTTPAccessLogEntry entry = HTTPAccessLogEntry.newBuilder()
                .setCommonProperties(common)
                .setProtocolVersion(HTTPAccessLogEntry.HTTPVersion.HTTP11)
                .setRequest(request)
                .setResponse(response)
                .build();
        String cluster =
                config.getCommonConfig().getGrpcService().getEnvoyGrpc().getClusterName();
        try {
            accessLogs
                    .orElseThrow()
                    .send(clusters.apply(cluster), config.getCommonConfig().getLogName(), entry);
        } catch (RuntimeException e) {
            log.accept("access log: not sent: " + e);
        }
    }

    /** The access log's method: a method outside the enum is logged unspecified. */
    private static RequestMethod requestMethod(String method) {
        try {
            return RequestMethod.valueOf(method);
        } catch (IllegalArgumentException e) {
            return RequestMethod.METHOD_UNSPECIFIED;
        }
    }

    /** A body that is one piece, then its end: the HTTP/1.1 body this sidecar read whole. */
    private static final class OneShot implements ExtProcSession.PieceSource {
        private byte[] piece;

        OneShot(byte[] piece) {
            this.piece = piece.length == 0 ? null : piece;
        }

        @Override
        public synchronized byte[] next() {
            byte[] p = piece;
            piece = null;
            return p;
        }
    }

    private void localReply(
            HttpExchange exchange,
            String who,
            List<String> steps,
            Peer peer,
            Headers arrived,
            CheckRequest check,
            ExtProcSession.Outcome o,
            Inbound inbound,
            Struct authzMetadata)
            throws IOException {
        steps.forEach(line -> log.accept("inbound " + who + ": " + line.strip()));
        log.accept("inbound " + who + ": local reply " + o.status() + " (" + o.why() + ")");
        finish(
                new Handled(peer, arrived, check, o.status(), Optional.empty()),
                inbound,
                o.headers(),
                authzMetadata,
                Reached.LOCAL_REPLY);
        reply(exchange, o.status(), o.headers(), o.body());
    }

    private static void reply(HttpExchange exchange, int status, Headers responseHeaders, String text)
            throws IOException {
        responseHeaders.entries().forEach(h -> exchange.getResponseHeaders().add(h[0], h[1]));
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** What Istio's inbound HCM does to the request headers (see the class comment for the sources). */
    private void inboundConnectionManager(Headers headers, Peer peer) {
        // use_remote_address false: x-forwarded-for is not appended, x-envoy-external-address is not touched
        Gateway.INTERNAL_ENVOY_HEADERS.forEach(headers::remove);
        Gateway.HOP_BY_HOP.forEach(headers::remove);
        if (!headers.has("x-request-id")) {
            headers.set("x-request-id", UUID.randomUUID().toString());
        }
        if (!headers.has("x-forwarded-proto")) {
            headers.set("x-forwarded-proto", peer.principal().isEmpty() ? "http" : "https");
        }
        if (peer.principal().isEmpty()) {
            return; // no peer certificate: nothing to append (mutateXfccRequestHeader needs an SSL connection)
        }
        String details = "By=" + identity + ";Subject=\"\";URI=" + peer.principal();
        headers.set(
                "x-forwarded-client-cert",
                headers.first("x-forwarded-client-cert")
                        .map(v -> v + "," + details)
                        .orElse(details));
    }

    /**
     * The request on to the workload; its answer back to the peer through ext_proc when it runs (response headers,
     * then the body as one piece: the workload's HTTP/1.1 answer is read whole), its status told to {@code answered}
     * first.
     */
    private void forward(
            HttpExchange exchange,
            String method,
            String path,
            String authority,
            Headers headers,
            byte[] body,
            ExtProcSession session,
            List<String> steps,
            String who,
            ObjIntConsumer<Headers> answered)
            throws Exception {
        Duration timeout = Duration.ofMillis((long) (15_000 * timeoutScale));
        int status;
        Headers responseHeaders = new Headers();
        byte[] answer;
        try (UpstreamConnection workload =
                UpstreamConnection.open(new InetSocketAddress("127.0.0.1", workloadPort), timeout, timeout)) {
            Headers sent = headers.copy();
            if (body.length > 0) {
                sent.set("content-length", Integer.toString(body.length));
            }
            workload.sendHead(method, path, authority, sent, body.length > 0);
            if (body.length > 0) {
                workload.sendBody(body);
                workload.endBody();
            }
            UpstreamConnection.Head head = workload.readHead();
            ByteArrayOutputStream read = new ByteArrayOutputStream();
            for (byte[] piece = workload.readBody(); piece != null; piece = workload.readBody()) {
                read.writeBytes(piece);
            }
            status = head.status();
            head.headers().entries().stream()
                    .filter(h -> !h[0].equals("content-length")
                            && !h[0].equals("transfer-encoding")
                            && !h[0].equals("connection"))
                    .forEach(h -> responseHeaders.add(h[0], h[1]));
            answer = read.toByteArray();
        }
        if (session != null) {
            OneShot responseBody = new OneShot(answer);
            if (session.sendsResponseHeaders()) {
                Headers all = Headers.of(":status", Integer.toString(status));
                responseHeaders.entries().forEach(h -> all.add(h[0], h[1]));
                ExtProcSession.Outcome o = session.headers(false, all, answer.length == 0);
                if (!o.proceed()) {
                    steps.forEach(line -> log.accept("inbound " + who + ": " + line.strip()));
                    answered.accept(o.headers(), o.status());
                    reply(exchange, o.status(), o.headers(), o.body());
                    return;
                }
                responseHeaders.entries().forEach(h -> responseHeaders.remove(h[0]));
                all.entries().stream().filter(h -> !h[0].startsWith(":")).forEach(h -> responseHeaders.add(h[0], h[1]));
            }
            if (session.streamsResponseBody() && answer.length > 0) {
                ByteArrayOutputStream scanned = new ByteArrayOutputStream();
                ExtProcSession.Outcome o = session.body(false, responseBody, scanned::writeBytes);
                if (!o.proceed()) {
                    steps.forEach(line -> log.accept("inbound " + who + ": " + line.strip()));
                    answered.accept(o.headers(), o.status());
                    reply(exchange, o.status(), o.headers(), o.body());
                    return;
                }
                answer = scanned.toByteArray();
            }
            steps.forEach(line -> log.accept("inbound " + who + ": " + line.strip()));
        }
        log.accept("inbound " + who + ": " + status + " from the workload");
        responseHeaders.entries().forEach(h -> exchange.getResponseHeaders().add(h[0], h[1]));
        answered.accept(responseHeaders, status);
        exchange.sendResponseHeaders(status, answer.length == 0 ? -1 : answer.length);
        if (answer.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        }
    }

    @Override
    public void close() {
        listeners.forEach(s -> s.stop(0));
        accessLogs.ifPresent(AccessLogClient::close);
        for (ManagedChannel c : owned) {
            c.shutdownNow();
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
