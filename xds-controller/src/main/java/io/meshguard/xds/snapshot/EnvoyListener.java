package io.meshguard.xds.snapshot;

import static io.meshguard.xds.snapshot.XdsProtos.ads;
import static io.meshguard.xds.snapshot.XdsProtos.duration;
import static io.meshguard.xds.snapshot.XdsProtos.envoyGrpc;
import static io.meshguard.xds.snapshot.XdsProtos.socket;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKey;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKind;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.meshguard.contract.RouteContract;
import io.meshguard.xds.model.GatewayGroup;

/**
 * The Envoy gateway's HTTP listener: one connection manager with meshguard's request hygiene and the filter chain
 * CORS → ext_authz → ext_proc (DLP) → router. Every setting and the Envoy source it relies on is listed in
 * {@code docs/gateway-envoy-config.md} §2–§5.
 */
final class EnvoyListener {
    /** Envoy's DLP and authz calls must not be skipped on error: a bank would rather fail closed. */
    private static final boolean FAILURE_MODE_ALLOW = false;
    /** Envoy's edge recommendations ({@code docs/root/configuration/best_practices/edge.rst}). */
    private static final int EDGE_BUFFER_LIMIT_BYTES = FilterClusters.EDGE_BUFFER_LIMIT_BYTES;

    private static final long STREAM_IDLE_TIMEOUT_MS = 300_000;
    /** The whole request must arrive within this (edge.rst shows 300 s; Envoy's default 0 never ends a slow one). */
    private static final long REQUEST_TIMEOUT_MS = 300_000;

    private static final long CONNECTION_IDLE_TIMEOUT_MS = 3_600_000;

    private final FilterTargets targets;

    EnvoyListener(FilterTargets targets) {
        this.targets = targets;
    }

    Listener build(GatewayGroup group) {
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix(group.name())
                .setRds(Rds.newBuilder()
                        .setRouteConfigName(EnvoyNames.envoyRoutes(group.listenerPort()))
                        .setConfigSource(ads()))
                // One canonical path before any filter or route sees it: RFC 3986 dot segments resolved, '//'
                // merged, and %2F %2f %5C %5c refused with 400 (an upstream could read them as separators).
                // extauthz refuses what Envoy leaves alone (';' parameters, other encodings): docs §2.
                .setNormalizePath(BoolValue.of(true))
                .setMergeSlashes(true)
                .setPathWithEscapedSlashesAction(HttpConnectionManager.PathWithEscapedSlashesAction.REJECT_REQUEST)
                .setCommonHttpProtocolOptions(HttpProtocolOptions.newBuilder()
                        // x_user_id must not reach an upstream that reads it as x-user-id (protocol.proto)
                        .setHeadersWithUnderscoresAction(
                                HttpProtocolOptions.HeadersWithUnderscoresAction.REJECT_REQUEST)
                        .setIdleTimeout(duration(CONNECTION_IDLE_TIMEOUT_MS)))
                // The gateway is the edge: the client address is the socket's, never a client-sent
                // x-forwarded-for, and Envoy's internal x-envoy-* request headers are removed.
                .setUseRemoteAddress(BoolValue.of(true))
                // The gateway mints every request's x-request-id: a client's id is replaced on every edge request
                // (not internal, see below), so the coverage proof joins Checks and access-log rows on an id no
                // client chose (request_id/uuid/config.cc: only a non-edge request keeps a present id). Envoy's
                // defaults, stated so a change cannot slip in unseen.
                .setGenerateRequestId(BoolValue.of(true))
                .setPreserveExternalRequestId(false)
                // ...except through the load balancers configured in front (xds.gateway.xff_num_trusted_hops): Envoy
                // then takes the client from x-forwarded-for and writes it to x-envoy-external-address, which is the
                // client address extauthz decides on (conn_manager_utility.cc mutateRequestHeaders)
                .setXffNumTrustedHops(targets.xffNumTrustedHops())
                // Only loopback is "internal": without this list every RFC 1918 client (a corporate network, an
                // internal load balancer) is internal and its x-envoy-* headers (retries, timeouts) are obeyed.
                .setInternalAddressConfig(HttpConnectionManager.InternalAddressConfig.newBuilder()
                        .addCidrRanges(CidrRange.newBuilder()
                                .setAddressPrefix("127.0.0.1")
                                .setPrefixLen(UInt32Value.of(32)))
                        .addCidrRanges(
                                CidrRange.newBuilder().setAddressPrefix("::1").setPrefixLen(UInt32Value.of(128))))
                .setHttp2ProtocolOptions(Http2ProtocolOptions.newBuilder()
                        .setMaxConcurrentStreams(UInt32Value.of(100))
                        .setInitialStreamWindowSize(UInt32Value.of(64 * 1024))
                        .setInitialConnectionWindowSize(UInt32Value.of(1024 * 1024)))
                // Envoy's default, stated: a stream with no byte either way for 5 minutes ends (a route's
                // idle_timeout overrides it). Istio sets 0 on the HCMs it builds; ours is not Istio's.
                .setStreamIdleTimeout(duration(STREAM_IDLE_TIMEOUT_MS))
                // a client trickling its request (slowloris) holds a stream at most this long; the response may take
                // longer (SSE): the timer stops once the request is received or the response starts
                // (http_connection_manager.proto, request_timeout)
                .setRequestTimeout(duration(REQUEST_TIMEOUT_MS))
                // CORS first: a preflight carries no credential and is answered before ext_authz would deny it
                // (cors_filter.cc answers it with a local reply and stops the chain).
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName(EnvoyNames.CORS_FILTER)
                        .setTypedConfig(Any.pack(Cors.getDefaultInstance())))
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName(EnvoyNames.EXT_AUTHZ_FILTER)
                        .setTypedConfig(Any.pack(extAuthz())))
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName(EnvoyNames.EXT_PROC_FILTER)
                        .setTypedConfig(Any.pack(extProc())))
                .addHttpFilters(router())
                .addAccessLog(AccessLog.newBuilder()
                        .setName(EnvoyNames.GRPC_ACCESS_LOG)
                        .setTypedConfig(Any.pack(accessLog(group))))
                .build();
        return Listener.newBuilder()
                .setName(EnvoyNames.envoyListener(group.listenerPort()))
                .setAddress(socket("0.0.0.0", group.listenerPort()))
                .setPerConnectionBufferLimitBytes(UInt32Value.of(EDGE_BUFFER_LIMIT_BYTES))
                .addFilterChains(FilterChain.newBuilder()
                        .addFilters(Filter.newBuilder()
                                .setName(EnvoyNames.HCM_FILTER)
                                .setTypedConfig(Any.pack(hcm))))
                .build();
    }

    /**
     * The gRPC access log the audit receiver turns into {@code api_call} rows and per-version usage metrics: the
     * matched route's API, version, gateway route, lifecycle and sunset as custom tags read from the route's
     * metadata, and the caller's identity headers as ext_authz left them (contract: {@code AccessLogTags}).
     */
    private HttpGrpcAccessLogConfig accessLog(GatewayGroup group) {
        CommonGrpcAccessLogConfig.Builder common = CommonGrpcAccessLogConfig.newBuilder()
                .setLogName("meshguard-" + group.name())
                .setTransportApiVersion(ApiVersion.V3)
                .setGrpcService(envoyGrpc(EnvoyNames.ACCESS_LOG_CLUSTER, targets.accessLog()));
        for (String key : RouteContract.AccessLogTags.KEYS) {
            common.addCustomTags(CustomTag.newBuilder()
                    .setTag(RouteContract.AccessLogTags.tag(key))
                    .setMetadata(CustomTag.Metadata.newBuilder()
                            .setKind(MetadataKind.newBuilder().setRoute(MetadataKind.Route.getDefaultInstance()))
                            .setMetadataKey(MetadataKey.newBuilder()
                                    .setKey(RouteContract.AccessLogTags.METADATA_NAMESPACE)
                                    .addPath(
                                            MetadataKey.PathSegment.newBuilder().setKey(key)))));
        }
        return HttpGrpcAccessLogConfig.newBuilder()
                .setCommonConfig(common)
                .addAllAdditionalRequestHeadersToLog(RouteContract.AccessLogTags.REQUEST_HEADERS)
                .addAllAdditionalResponseHeadersToLog(RouteContract.AccessLogTags.RESPONSE_HEADERS)
                .build();
    }

    /**
     * One Check per request, bounded by {@code grpc_service.timeout} (Envoy's default would be 200 ms); an error or a
     * timeout denies with 503, as the mesh's provider does ({@code statusOnError: "503"}).
     */
    private ExtAuthz extAuthz() {
        return ExtAuthz.newBuilder()
                .setGrpcService(envoyGrpc(EnvoyNames.EXT_AUTHZ_CLUSTER, targets.extAuthz()).toBuilder()
                        .setTimeout(duration(targets.filterTimeout().toMillis())))
                .setTransportApiVersion(ApiVersion.V3)
                .setFailureModeAllow(FAILURE_MODE_ALLOW)
                .setStatusOnError(HttpStatus.newBuilder().setCode(StatusCode.ServiceUnavailable))
                .setIncludePeerCertificate(true)
                .build();
    }

    /**
     * Bodies stream through the DLP server chunk by chunk in both directions (SSE included, nothing buffered).
     * Under FULL_DUPLEX_STREAMED Envoy starts no per-message timer at all, not even for the header phases
     * ({@code ProcessorState::onStartProcessorCall}, {@code source/extensions/filters/http/ext_proc/processor_state.cc})
     * and ignores {@code mode_override} ("Mode override is not supported if the body send mode is
     * FULL_DUPLEX_STREAMED", {@code ext_proc.cc}), so neither {@code message_timeout} nor {@code allow_mode_override}
     * is emitted: binary bodies stream through the DLP server too, which passes them on. What bounds a stalled
     * DLP server: its own per-phase deadline, the route's idle timeout, and the keepalives of its cluster (docs §5).
     */
    private ExternalProcessor extProc() {
        return ExternalProcessor.newBuilder()
                .setGrpcService(envoyGrpc(EnvoyNames.DLP_CLUSTER, targets.dlp()))
                .setFailureModeAllow(FAILURE_MODE_ALLOW)
                .setProcessingMode(ProcessingMode.newBuilder()
                        .setRequestHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                        .setResponseHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                        .setRequestBodyMode(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED)
                        .setResponseBodyMode(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED)
                        // Envoy rejects FULL_DUPLEX_STREAMED unless trailers are sent too (ext_proc config.cc)
                        .setRequestTrailerMode(ProcessingMode.HeaderSendMode.SEND)
                        .setResponseTrailerMode(ProcessingMode.HeaderSendMode.SEND))
                .build();
    }

    /** The router, the last filter of every listener's chain. */
    static HttpFilter router() {
        return HttpFilter.newBuilder()
                .setName(EnvoyNames.ROUTER_FILTER)
                .setTypedConfig(Any.pack(Router.getDefaultInstance()))
                .build();
    }
}
