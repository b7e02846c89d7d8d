package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKey;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKind;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AccessLogFieldsTest {
    private static CustomTag routeTag(String tag, String namespace, String key, String defaultValue) {
        return CustomTag.newBuilder()
                .setTag(tag)
                .setMetadata(CustomTag.Metadata.newBuilder()
                        .setKind(MetadataKind.newBuilder().setRoute(MetadataKind.Route.getDefaultInstance()))
                        .setMetadataKey(MetadataKey.newBuilder()
                                .setKey(namespace)
                                .addPath(MetadataKey.PathSegment.newBuilder().setKey(key)))
                        .setDefaultValue(defaultValue))
                .build();
    }

    private static HttpGrpcAccessLogConfig config(CustomTag... tags) {
        return HttpGrpcAccessLogConfig.newBuilder()
                .setCommonConfig(CommonGrpcAccessLogConfig.newBuilder()
                        .setLogName("l")
                        .addAllCustomTags(java.util.List.of(tags)))
                .addAdditionalRequestHeadersToLog("x-tenant-id")
                .addAdditionalRequestHeadersToLog("x-client-id")
                .addAdditionalResponseHeadersToLog("content-type")
                .build();
    }

    private static final Route ROUTE = Route.newBuilder()
            .setName("orders.v3.list")
            .setMetadata(Metadata.newBuilder()
                    .putFilterMetadata(
                            "meshguard",
                            Struct.newBuilder()
                                    .putFields(
                                            "api",
                                            Value.newBuilder()
                                                    .setStringValue("orders")
                                                    .build())
                                    .putFields(
                                            "checked",
                                            Value.newBuilder()
                                                    .setBoolValue(true)
                                                    .build())
                                    .putFields(
                                            "weight",
                                            Value.newBuilder().setNumberValue(3).build())
                                    .build()))
            .build();

    @Test
    void routeMetadataTags_copyTheMatchedRoutesValue_andLeaveMissingOnesOutUnlessDefaulted() {
        AccessLogCommon.Builder common = AccessLogCommon.newBuilder();
        AccessLogFields.apply(
                config(
                        routeTag("meshguard.api", "meshguard", "api", ""),
                        routeTag("meshguard.checked", "meshguard", "checked", ""),
                        routeTag("meshguard.sunset", "meshguard", "sunset", ""),
                        routeTag("other.ns", "other", "api", "fallback")),
                Optional.of(ROUTE),
                new Headers(),
                new Headers(),
                common,
                HTTPRequestProperties.newBuilder(),
                HTTPResponseProperties.newBuilder());
        assertThat(common.getCustomTagsMap())
                .containsExactlyInAnyOrderEntriesOf(java.util.Map.of(
                        "meshguard.api", "orders", "meshguard.checked", "true", "other.ns", "fallback"));

        AccessLogCommon.Builder noRoute = AccessLogCommon.newBuilder();
        AccessLogFields.apply(
                config(routeTag("meshguard.api", "meshguard", "api", "")),
                Optional.empty(),
                new Headers(),
                new Headers(),
                noRoute,
                HTTPRequestProperties.newBuilder(),
                HTTPResponseProperties.newBuilder());
        assertThat(noRoute.getCustomTagsMap()).isEmpty();
    }

    @Test
    void aNumberInRouteMetadata_isNotModelled() {
        assertThatThrownBy(() -> AccessLogFields.apply(
                        config(routeTag("w", "meshguard", "weight", "")),
                        Optional.of(ROUTE),
                        new Headers(),
                        new Headers(),
                        AccessLogCommon.newBuilder(),
                        HTTPRequestProperties.newBuilder(),
                        HTTPResponseProperties.newBuilder()))
                .isInstanceOf(UnmodelledException.class);
    }

    @Test
    void loggedHeaders_areTheNamedOnesAsTheyAreAtLogTime_absentOnesLeftOut() {
        Headers request = Headers.of("x-tenant-id", "acme", "authorization", "Bearer secret");
        HTTPRequestProperties.Builder req = HTTPRequestProperties.newBuilder();
        HTTPResponseProperties.Builder resp = HTTPResponseProperties.newBuilder();
        AccessLogFields.apply(
                config(),
                Optional.of(ROUTE),
                request,
                Headers.of("content-type", "text/event-stream"),
                AccessLogCommon.newBuilder(),
                req,
                resp);
        assertThat(req.getRequestHeadersMap()).containsExactly(java.util.Map.entry("x-tenant-id", "acme"));
        assertThat(resp.getResponseHeadersMap())
                .containsExactly(java.util.Map.entry("content-type", "text/event-stream"));
    }

    @Test
    void aLiteralCustomTag_isUnmodelledConfig() {
        HttpGrpcAccessLogConfig literal = config(CustomTag.newBuilder()
                .setTag("t")
                .setLiteral(CustomTag.Literal.newBuilder().setValue("v"))
                .build());
        assertThat(ModelledFields.unmodelled("als", literal))
                .singleElement()
                .asString()
                .contains("literal");
    }
}
