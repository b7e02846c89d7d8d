package io.meshguard.xds.snapshot;

/** Resource and filter names the controller emits; Envoy and meshguard's servers both depend on them. */
public final class EnvoyNames {
    private EnvoyNames() {}

    public static final String ROUTER_FILTER = "envoy.filters.http.router";
    public static final String EXT_AUTHZ_FILTER = "envoy.filters.http.ext_authz";
    public static final String EXT_PROC_FILTER = "envoy.filters.http.ext_proc";
    public static final String CORS_FILTER = "envoy.filters.http.cors";
    public static final String FAULT_FILTER = "envoy.filters.http.fault";
    public static final String HCM_FILTER = "envoy.filters.network.http_connection_manager";
    public static final String GRPC_ACCESS_LOG = "envoy.access_loggers.http_grpc";
    public static final String HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
    public static final String TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls";

    public static final String EXT_AUTHZ_CLUSTER = "meshguard-extauthz";
    public static final String DLP_CLUSTER = "meshguard-dlp";
    public static final String ACCESS_LOG_CLUSTER = "meshguard-als";
    /** Endpoint-less cluster that closed (sunset, retired) versions point at for proxyless clients. */
    public static final String CLOSED_CLUSTER = "meshguard-closed";

    /**
     * The virtual host every Envoy route configuration carries for the gateway's readiness probe: its
     * {@link #READINESS_PATH} answers 200 only through a delivered route table. {@code .invalid} is reserved
     * (RFC 2606), so no customer hostname can take it; the gateway bootstraps send the probe with this Host.
     */
    public static final String READINESS_HOST = "meshguard-readiness.invalid";

    public static final String READINESS_PATH = "/ready";

    /** The catch-all virtual host ({@code *}) of a gateway's route table: every Host no route serves gets 404. */
    public static final String UNSERVED_HOST = "unserved";

    /** Route configuration served to proxyless gRPC clients (no Envoy-only per-route config). */
    public static final String PROXYLESS_ROUTES = "grpc";

    // What a route hands to extauthz and the DLP server is defined once: io.meshguard.contract.RouteContract.
    /** Node metadata key that names a node's gateway group (wins over node.cluster). */
    public static final String NODE_GROUP_METADATA = "meshguard.group";

    public static String envoyListener(int port) {
        return "http-" + port;
    }

    public static String envoyRoutes(int port) {
        return "http-" + port;
    }
}
