package io.meshguard.deploy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheck;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig;
import io.envoyproxy.envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Parses Envoy config written as YAML into Envoy's own protobuf types, the way Envoy does: JSON field names of
 * the v3 API, unknown fields rejected (no {@code ignoringUnknownFields}), and every {@code typed_config} resolved
 * through a type registry of the extensions meshguard ships. An {@code @type} outside the registry fails, so a
 * new extension has to be added here on purpose.
 */
final class EnvoyProtos {
    /** Extension types that may appear inside {@code Any} fields of the config meshguard ships. */
    private static final List<Descriptor> EXTENSIONS = List.of(
            ExternalProcessor.getDescriptor(),
            ExtAuthz.getDescriptor(),
            Router.getDescriptor(),
            HttpConnectionManager.getDescriptor(),
            HttpProtocolOptions.getDescriptor(),
            HttpGrpcAccessLogConfig.getDescriptor(),
            StdoutAccessLog.getDescriptor(),
            FixedHeapConfig.getDescriptor(),
            DownstreamConnectionsConfig.getDescriptor(),
            HealthCheck.getDescriptor(),
            // per-route and upstream extensions of the config the xds-controller emits
            ExtAuthzPerRoute.getDescriptor(),
            ExtProcPerRoute.getDescriptor(),
            HTTPFault.getDescriptor(),
            Cors.getDescriptor(),
            CorsPolicy.getDescriptor(),
            UpstreamTlsContext.getDescriptor());

    private static final JsonFormat.TypeRegistry TYPES =
            JsonFormat.TypeRegistry.newBuilder().add(EXTENSIONS).build();

    private static final JsonFormat.Parser PARSER = JsonFormat.parser().usingTypeRegistry(TYPES);

    /** The Envoy type an EnvoyFilter patch value has, by the patch's {@code applyTo}. */
    private static final Map<String, Supplier<Message.Builder>> PATCH_TYPES = Map.ofEntries(
            Map.entry("HTTP_FILTER", HttpFilter::newBuilder),
            Map.entry("NETWORK_FILTER", Filter::newBuilder),
            Map.entry("LISTENER", Listener::newBuilder),
            Map.entry("LISTENER_FILTER", ListenerFilter::newBuilder),
            Map.entry("FILTER_CHAIN", FilterChain::newBuilder),
            Map.entry("CLUSTER", Cluster::newBuilder),
            Map.entry("ROUTE_CONFIGURATION", RouteConfiguration::newBuilder),
            Map.entry("VIRTUAL_HOST", VirtualHost::newBuilder),
            Map.entry("HTTP_ROUTE", Route::newBuilder),
            Map.entry("EXTENSION_CONFIG", TypedExtensionConfig::newBuilder),
            Map.entry("BOOTSTRAP", Bootstrap::newBuilder));

    private EnvoyProtos() {}

    /** The descriptor of an extension type by its full name, when it is one meshguard ships. */
    static Optional<Descriptor> extension(String fullName) {
        return Optional.ofNullable(TYPES.find(fullName));
    }

    /** An Envoy bootstrap file's content. */
    static Bootstrap bootstrap(String where, JsonNode yaml) {
        return (Bootstrap) parse(where, yaml, Bootstrap.newBuilder());
    }

    /** Where the bootstrap's first static cluster sends (its first endpoint): the controller a gateway dials. */
    static SocketAddress firstStaticEndpoint(Bootstrap bootstrap) {
        return bootstrap
                .getStaticResources()
                .getClusters(0)
                .getLoadAssignment()
                .getEndpoints(0)
                .getLbEndpoints(0)
                .getEndpoint()
                .getAddress()
                .getSocketAddress();
    }

    /** The cluster the bootstrap's ADS stream goes through. */
    static String adsClusterName(Bootstrap bootstrap) {
        return bootstrap
                .getDynamicResources()
                .getAdsConfig()
                .getGrpcServices(0)
                .getEnvoyGrpc()
                .getClusterName();
    }

    /** The value of an EnvoyFilter patch, as the Envoy type its {@code applyTo} names. */
    static Message patchValue(String where, String applyTo, JsonNode value) {
        Supplier<Message.Builder> builder = PATCH_TYPES.get(applyTo);
        if (builder == null) {
            throw new ManifestException(where + ": no Envoy type known for applyTo " + applyTo);
        }
        return parse(where, value, builder.get());
    }

    /** {@code json} merged strictly into {@code builder}. */
    static Message parse(String where, JsonNode json, Message.Builder builder) {
        try {
            PARSER.merge(YamlDocuments.JSON.writeValueAsString(json), builder);
            return builder.build();
        } catch (InvalidProtocolBufferException | JsonProcessingException e) {
            throw new ManifestException(
                    where + ": not a valid " + builder.getDescriptorForType().getFullName() + ": " + e.getMessage(), e);
        }
    }
}
