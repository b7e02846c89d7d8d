package io.meshguard.emulator;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The config fields this emulator models, per message type: every field set in a received resource must be in this
 * list, or the resource is reported as unmodelled (and the end-to-end tests fail). A field is listed only when the
 * emulator does with it what Envoy does (routing, filters, clusters) or when it provably changes nothing the emulator
 * can observe (names, stat prefixes, API versions). That way a new field the controller starts to emit cannot slip
 * past the tests untested: someone has to model it first.
 *
 * <p>A few fields are listed because they provably change nothing the emulator can observe; each says why next to
 * it (HTTP/2 connection settings for an HTTP/1.1 client, keepalives on loopback, a plaintext client's certificate).
 *
 * <p>The walk uses the protobuf descriptors: {@code getAllFields()} of each message (set fields only), recursion into
 * messages, {@code Any} unpacked by type URL (an unknown type URL is unmodelled), and fields the Java protos do not
 * know (unknown field numbers) are unmodelled too.
 */
public final class ModelledFields {
    private static final Map<String, Set<String>> FIELDS = Map.ofEntries(
            // LDS
            // per_connection_buffer_limit_bytes: the most request body the router keeps for a retry
            entry(
                    "envoy.config.listener.v3.Listener",
                    "name",
                    "address",
                    "filter_chains",
                    "per_connection_buffer_limit_bytes"),
            entry("envoy.config.core.v3.Address", "socket_address"),
            entry("envoy.config.core.v3.SocketAddress", "address", "port_value"),
            entry("envoy.config.listener.v3.FilterChain", "filters"),
            entry("envoy.config.listener.v3.Filter", "name", "typed_config"),
            entry(
                    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    "stat_prefix",
                    "rds",
                    "normalize_path",
                    "merge_slashes",
                    "path_with_escaped_slashes_action",
                    "http_filters",
                    "access_log",
                    "common_http_protocol_options",
                    "use_remote_address",
                    "internal_address_config",
                    "stream_idle_timeout",
                    // the client N entries from the right of x-forwarded-for (Gateway, TrustedHops)
                    "xff_num_trusted_hops",
                    // the time to receive the whole request: the emulated client sends each request at once
                    "request_timeout",
                    // the emulated client speaks HTTP/1.1: downstream HTTP/2 settings change nothing it can observe
                    "http2_protocol_options",
                    // Gateway mints an id when absent and replaces an edge client's: Envoy with these two at true and
                    // false, the only values the controller emits (GatewayListenerTest pins them)
                    "generate_request_id",
                    "preserve_external_request_id"),
            entry(
                    "envoy.config.core.v3.HttpProtocolOptions",
                    "headers_with_underscores_action",
                    // a connection's idle timeout: the emulator opens no long-lived downstream connections
                    "idle_timeout"),
            entry(
                    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.InternalAddressConfig",
                    "cidr_ranges"),
            entry("envoy.config.core.v3.CidrRange", "address_prefix", "prefix_len"),
            entry("envoy.extensions.filters.http.cors.v3.Cors"),
            entry(
                    "envoy.extensions.filters.http.cors.v3.CorsPolicy",
                    "allow_origin_string_match",
                    "allow_methods",
                    "allow_headers",
                    "expose_headers",
                    "max_age",
                    "allow_credentials",
                    "forward_not_matching_preflights"),
            entry("envoy.type.v3.HttpStatus", "code"),
            entry(
                    "envoy.extensions.filters.network.http_connection_manager.v3.Rds",
                    "route_config_name",
                    "config_source"),
            entry("envoy.config.core.v3.ConfigSource", "ads", "api_config_source", "resource_api_version"),
            entry("envoy.config.core.v3.AggregatedConfigSource"),
            entry("envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter", "name", "typed_config"),
            entry("envoy.extensions.filters.http.router.v3.Router"),
            // include_peer_certificate: the emulated downstream is plaintext, there is no certificate to include
            entry(
                    "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
                    "grpc_service",
                    "transport_api_version",
                    "failure_mode_allow",
                    "include_peer_certificate",
                    "status_on_error",
                    "encode_raw_headers",
                    "with_request_body"),
            entry(
                    "envoy.extensions.filters.http.ext_authz.v3.BufferSettings",
                    "max_request_bytes",
                    "allow_partial_message",
                    "pack_as_bytes"),
            entry("envoy.config.core.v3.GrpcService", "envoy_grpc", "timeout"),
            // authority: the :authority of the filter's gRPC stream, read by the gateway's Istio sidecar to route it
            // (grpc_service.proto); the emulated gateway has no sidecar and meshguard's servers ignore :authority.
            // deploy-tests' GatewayOnIstioTest checks it names the target Service.
            entry("envoy.config.core.v3.GrpcService.EnvoyGrpc", "cluster_name", "authority"),
            entry(
                    "envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
                    "grpc_service",
                    "failure_mode_allow",
                    "processing_mode",
                    "allow_mode_override",
                    "message_timeout"),
            entry(
                    "envoy.extensions.filters.http.ext_proc.v3.ProcessingMode",
                    "request_header_mode",
                    "response_header_mode",
                    "request_body_mode",
                    "response_body_mode",
                    "request_trailer_mode",
                    "response_trailer_mode"),
            entry("envoy.config.accesslog.v3.AccessLog", "name", "typed_config"),
            entry(
                    "envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig",
                    "common_config",
                    "additional_request_headers_to_log",
                    "additional_response_headers_to_log"),
            entry(
                    "envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig",
                    "log_name",
                    "transport_api_version",
                    "grpc_service",
                    "custom_tags"),
            // custom tags: only route metadata (AccessLogFields)
            entry("envoy.type.tracing.v3.CustomTag", "tag", "metadata"),
            entry("envoy.type.tracing.v3.CustomTag.Metadata", "kind", "metadata_key", "default_value"),
            entry("envoy.type.metadata.v3.MetadataKind", "route"),
            entry("envoy.type.metadata.v3.MetadataKind.Route"),
            entry("envoy.type.metadata.v3.MetadataKey", "key", "path"),
            entry("envoy.type.metadata.v3.MetadataKey.PathSegment", "key"),
            // RDS
            // vhds: VhdsSubscription
            entry("envoy.config.route.v3.RouteConfiguration", "name", "validate_clusters", "virtual_hosts", "vhds"),
            entry("envoy.config.route.v3.Vhds", "config_source"),
            // api_config_source: only VHDS's DELTA_GRPC one is followed (VhdsSubscription); RDS's must be ads
            // rate_limit_settings: a token bucket on the node's own requests; the emulator sends one request per
            // response it gets, never a burst, so the bucket never holds one back
            entry(
                    "envoy.config.core.v3.ApiConfigSource",
                    "api_type",
                    "transport_api_version",
                    "grpc_services",
                    "rate_limit_settings"),
            entry("envoy.config.core.v3.RateLimitSettings", "max_tokens", "fill_rate"),
            entry("envoy.config.route.v3.VirtualHost", "name", "domains", "routes", "typed_per_filter_config"),
            // metadata: read by the access logger's route-metadata custom tags (AccessLogFields)
            entry(
                    "envoy.config.route.v3.Route",
                    "name",
                    "match",
                    "route",
                    "direct_response",
                    "request_headers_to_add",
                    "request_headers_to_remove",
                    "response_headers_to_add",
                    "response_headers_to_remove",
                    "typed_per_filter_config",
                    "metadata"),
            entry("envoy.config.core.v3.Metadata", "filter_metadata"),
            entry("google.protobuf.Struct", "fields"),
            entry("google.protobuf.Value", "string_value", "bool_value"),
            entry(
                    "envoy.config.route.v3.RouteMatch",
                    "prefix",
                    "path",
                    "safe_regex",
                    "headers",
                    "path_separated_prefix"),
            entry("envoy.config.route.v3.HeaderMatcher", "name", "string_match", "present_match"),
            entry("envoy.type.matcher.v3.StringMatcher", "exact", "prefix", "safe_regex"),
            entry("envoy.type.matcher.v3.RegexMatcher", "regex"),
            entry(
                    "envoy.config.route.v3.RouteAction",
                    "cluster",
                    "weighted_clusters",
                    "timeout",
                    "idle_timeout",
                    "retry_policy",
                    "auto_host_rewrite",
                    "host_rewrite_literal",
                    "append_x_forwarded_host"),
            entry("envoy.config.route.v3.WeightedCluster", "clusters"),
            entry("envoy.config.route.v3.WeightedCluster.ClusterWeight", "name", "weight"),
            entry("envoy.config.route.v3.RetryPolicy", "retry_on", "num_retries", "retry_back_off", "per_try_timeout"),
            entry("envoy.config.route.v3.RetryPolicy.RetryBackOff", "base_interval", "max_interval"),
            entry("envoy.config.route.v3.DirectResponseAction", "status", "body"),
            entry("envoy.config.core.v3.DataSource", "inline_string"),
            entry("envoy.config.core.v3.HeaderValueOption", "header", "append_action", "append"),
            entry("envoy.config.core.v3.HeaderValue", "key", "value"),
            entry("envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute", "disabled", "check_settings"),
            entry(
                    "envoy.extensions.filters.http.ext_authz.v3.CheckSettings",
                    "context_extensions",
                    "with_request_body",
                    "disable_request_body_buffering"),
            entry("envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute", "disabled", "overrides"),
            entry("envoy.extensions.filters.http.ext_proc.v3.ExtProcOverrides", "grpc_initial_metadata"),
            // CDS / EDS
            entry(
                    "envoy.config.cluster.v3.Cluster",
                    "name",
                    "type",
                    "eds_cluster_config",
                    "connect_timeout",
                    "lb_policy",
                    "typed_extension_protocol_options",
                    "load_assignment",
                    "dns_lookup_family",
                    // TCP keepalive finds dead peers; on loopback nobody vanishes, requests see no difference
                    "upstream_connection_options",
                    // upstream connection buffers: flow control (back-pressure), not a request's outcome
                    "per_connection_buffer_limit_bytes"),
            entry("envoy.config.cluster.v3.UpstreamConnectionOptions", "tcp_keepalive"),
            entry("envoy.config.core.v3.TcpKeepalive", "keepalive_time", "keepalive_interval", "keepalive_probes"),
            entry("envoy.config.cluster.v3.Cluster.EdsClusterConfig", "eds_config", "service_name"),
            entry("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "explicit_http_config"),
            entry(
                    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig",
                    "http_protocol_options",
                    "http2_protocol_options"),
            entry("envoy.config.core.v3.Http1ProtocolOptions"),
            // HTTP/2 connection settings and PING keepalives: connection-level, no effect on a request's outcome
            entry(
                    "envoy.config.core.v3.Http2ProtocolOptions",
                    "max_concurrent_streams",
                    "initial_stream_window_size",
                    "initial_connection_window_size",
                    "connection_keepalive"),
            entry("envoy.config.core.v3.KeepaliveSettings", "interval", "timeout"),
            entry("envoy.config.endpoint.v3.ClusterLoadAssignment", "cluster_name", "endpoints"),
            entry("envoy.config.endpoint.v3.LocalityLbEndpoints", "locality", "lb_endpoints", "load_balancing_weight"),
            entry("envoy.config.core.v3.Locality", "region", "zone"),
            entry("envoy.config.endpoint.v3.LbEndpoint", "endpoint", "load_balancing_weight"),
            entry("envoy.config.endpoint.v3.Endpoint", "address"),
            // well-known types
            entry("google.protobuf.Duration", "seconds", "nanos"),
            entry("google.protobuf.BoolValue", "value"),
            entry("google.protobuf.UInt32Value", "value"),
            entry("google.protobuf.DoubleValue", "value"));

    /** Types an {@code Any} may carry, by type URL. */
    private static final Map<String, Message> ANY_TYPES = List.<Message>of(
                    Listener.getDefaultInstance(),
                    RouteConfiguration.getDefaultInstance(),
                    Cluster.getDefaultInstance(),
                    ClusterLoadAssignment.getDefaultInstance(),
                    HttpConnectionManager.getDefaultInstance(),
                    Router.getDefaultInstance(),
                    ExtAuthz.getDefaultInstance(),
                    ExtAuthzPerRoute.getDefaultInstance(),
                    ExternalProcessor.getDefaultInstance(),
                    ExtProcPerRoute.getDefaultInstance(),
                    HttpGrpcAccessLogConfig.getDefaultInstance(),
                    AccessLog.getDefaultInstance(),
                    HttpProtocolOptions.getDefaultInstance(),
                    io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDefaultInstance(),
                    io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDefaultInstance())
            .stream()
            .collect(Collectors.toUnmodifiableMap(
                    m -> "type.googleapis.com/" + m.getDescriptorForType().getFullName(), Function.identity()));

    private ModelledFields() {}

    private static Map.Entry<String, Set<String>> entry(String type, String... fields) {
        return Map.entry(type, Set.of(fields));
    }

    /**
     * Every set field of {@code message} (recursively) that the emulator does not model, as
     * {@code path (type.field)} strings; empty when everything is modelled.
     */
    public static List<String> unmodelled(String path, Message message) {
        List<String> out = new ArrayList<>();
        walk(path, message, out);
        return out;
    }

    /** The message packed in {@code any}, when its type is one this emulator knows. */
    public static Message unpack(Any any) throws InvalidProtocolBufferException {
        Message type = ANY_TYPES.get(any.getTypeUrl());
        if (type == null) {
            throw new InvalidProtocolBufferException("type URL not modelled: " + any.getTypeUrl());
        }
        return type.getParserForType().parseFrom(any.getValue());
    }

    private static void walk(String path, Message message, List<String> out) {
        String type = message.getDescriptorForType().getFullName();
        if (message instanceof Any any) {
            try {
                walk(path + "<" + any.getTypeUrl() + ">", unpack(any), out);
            } catch (InvalidProtocolBufferException e) {
                out.add(path + ": " + e.getMessage());
            }
            return;
        }
        if (!message.getUnknownFields().asMap().isEmpty()) {
            out.add(path + " (" + type + "): unknown field numbers "
                    + message.getUnknownFields().asMap().keySet());
        }
        boolean mapEntry = message.getDescriptorForType().getOptions().getMapEntry();
        Set<String> modelled = FIELDS.get(type);
        for (Map.Entry<FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
            FieldDescriptor fd = field.getKey();
            String fieldPath = path + "." + fd.getName();
            if (!mapEntry && (modelled == null || !modelled.contains(fd.getName()))) {
                out.add(fieldPath + " (" + type + "." + fd.getName() + ")");
                continue;
            }
            if (fd.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            if (fd.isRepeated()) {
                List<?> values = (List<?>) field.getValue();
                for (int i = 0; i < values.size(); i++) {
                    walk(fieldPath + "[" + i + "]", (Message) values.get(i), out);
                }
            } else {
                walk(fieldPath, (Message) field.getValue(), out);
            }
        }
    }
}
