package io.meshguard.emulator;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKey;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import java.util.Optional;

/**
 * The configurable parts of a gRPC HTTP access-log entry:
 * <ul>
 *   <li>{@code additional_request_headers_to_log} / {@code additional_response_headers_to_log}: the named headers
 *       as they are when the entry is written, so the request headers ext_authz set are there
 *       ({@code HttpGrpcAccessLog::emitLog}, source/extensions/access_loggers/grpc/http_grpc_access_log_impl.cc);
 *       an absent header is left out;</li>
 *   <li>{@code common_config.custom_tags} of kind {@code metadata} / {@code route}: the matched route's
 *       {@code metadata.filter_metadata[key]} walked along {@code path}; a string value is copied into
 *       {@code AccessLogCommon.custom_tags[tag]}, a missing one (or no route) leaves the tag out unless
 *       {@code default_value} is set ({@code MetadataCustomTag::applyLog}, source/common/tracing/custom_tag_impl.cc;
 *       called from {@code extractCommonAccessLogProperties}, grpc_access_log_utils.cc).</li>
 * </ul>
 * Other tag types and metadata kinds are refused by {@link ModelledFields}; non-string values are not modelled.
 */
final class AccessLogFields {
    private AccessLogFields() {}

    static void apply(
            HttpGrpcAccessLogConfig config,
            Optional<Route> route,
            Headers requestHeaders,
            Headers responseHeaders,
            AccessLogCommon.Builder common,
            HTTPRequestProperties.Builder request,
            HTTPResponseProperties.Builder response) {
        for (String name : config.getAdditionalRequestHeadersToLogList()) {
            requestHeaders.first(name).ifPresent(v -> request.putRequestHeaders(name, v));
        }
        for (String name : config.getAdditionalResponseHeadersToLogList()) {
            responseHeaders.first(name).ifPresent(v -> response.putResponseHeaders(name, v));
        }
        for (CustomTag tag : config.getCommonConfig().getCustomTagsList()) {
            if (!tag.hasMetadata() || !tag.getMetadata().getKind().hasRoute()) {
                throw new UnmodelledException("access-log custom tag " + tag.getTag() + " (" + tag.getTypeCase() + ")");
            }
            Optional<String> value =
                    route.flatMap(r -> routeValue(r, tag.getMetadata().getMetadataKey()));
            if (value.isPresent()) {
                common.putCustomTags(tag.getTag(), value.get());
            } else if (!tag.getMetadata().getDefaultValue().isEmpty()) {
                common.putCustomTags(tag.getTag(), tag.getMetadata().getDefaultValue());
            }
        }
    }

    /** {@code Config::Metadata::metadataValue}: the namespace's struct, then one struct field per path segment. */
    private static Optional<String> routeValue(Route route, MetadataKey key) {
        Struct struct = route.getMetadata().getFilterMetadataMap().get(key.getKey());
        if (struct == null || key.getPathCount() == 0) {
            return Optional.empty();
        }
        Value value = null;
        for (MetadataKey.PathSegment segment : key.getPathList()) {
            if (struct == null) {
                return Optional.empty();
            }
            value = struct.getFieldsMap().get(segment.getKey());
            if (value == null) {
                return Optional.empty();
            }
            struct = value.hasStructValue() ? value.getStructValue() : null;
        }
        return switch (value.getKindCase()) {
            case STRING_VALUE -> Optional.of(value.getStringValue());
            case BOOL_VALUE -> Optional.of(value.getBoolValue() ? "true" : "false");
            default ->
                throw new UnmodelledException(
                        "route metadata value of kind " + value.getKindCase() + " in an access-log custom tag");
        };
    }
}
