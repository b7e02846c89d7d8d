package io.meshguard.xds.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.meshguard.xds.model.ConfigJson;
import java.util.List;

/**
 * Envoy's JSON form of xDS resources, through Envoy's own protobuf types: printing names every {@code Any} type, and
 * parsing is strict (an unknown field or a wrong type fails) — the same rules Envoy applies to a JSON bootstrap.
 */
public final class EnvoyJson {
    /** Every message type the controller packs into an {@code Any}. */
    public static final JsonFormat.TypeRegistry TYPES = JsonFormat.TypeRegistry.newBuilder()
            .add(List.of(
                    Listener.getDescriptor(),
                    RouteConfiguration.getDescriptor(),
                    Cluster.getDescriptor(),
                    ClusterLoadAssignment.getDescriptor(),
                    HttpConnectionManager.getDescriptor(),
                    Router.getDescriptor(),
                    ExtAuthz.getDescriptor(),
                    ExtAuthzPerRoute.getDescriptor(),
                    ExternalProcessor.getDescriptor(),
                    ExtProcPerRoute.getDescriptor(),
                    HttpGrpcAccessLogConfig.getDescriptor(),
                    HttpProtocolOptions.getDescriptor(),
                    HTTPFault.getDescriptor(),
                    UpstreamTlsContext.getDescriptor(),
                    Cors.getDescriptor(),
                    CorsPolicy.getDescriptor()))
            .build();

    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().usingTypeRegistry(TYPES);
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().usingTypeRegistry(TYPES);

    private EnvoyJson() {}

    /** One resource as Envoy JSON with its {@code @type}. */
    public static String print(Message resource) {
        try {
            return PRINTER.print(Any.pack(resource));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a type is missing from EnvoyJson.TYPES: " + e.getMessage(), e);
        }
    }

    /** Parses Envoy JSON strictly into {@code builder}'s type. */
    public static <B extends Message.Builder> B parse(String json, B builder) throws InvalidProtocolBufferException {
        PARSER.merge(json, builder);
        return builder;
    }

    /** A whole group as one JSON document: the four resource lists and their versions. */
    public static ObjectNode render(GroupResources r, long revision) {
        ObjectNode out = ConfigJson.mapper().createObjectNode();
        TypeVersions v = TypeVersions.of(r);
        out.put("group", r.group());
        if (revision > 0) {
            out.put("revision", revision);
        }
        ObjectNode versions = out.putObject("versions");
        versions.put("listeners", v.listeners());
        versions.put("routes", v.routes());
        versions.put("clusters", v.clusters());
        versions.put("endpoints", v.endpoints());
        out.set("listeners", array(r.listeners()));
        out.set("routes", array(r.routes()));
        out.set("clusters", array(r.clusters()));
        out.set("endpoints", array(r.endpoints()));
        return out;
    }

    private static ArrayNode array(List<? extends Message> resources) {
        ArrayNode a = ConfigJson.mapper().createArrayNode();
        for (Message m : resources) {
            try {
                JsonNode node = ConfigJson.mapper().readTree(print(m));
                a.add(node);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("JsonFormat printed invalid JSON", e);
            }
        }
        return a;
    }
}
