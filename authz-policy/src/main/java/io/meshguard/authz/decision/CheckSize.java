package io.meshguard.authz.decision;

/**
 * How large a Check extauthz decides on. Envoy's request headers are bounded by the HCM's
 * {@code max_request_headers_kb} (default 60 KiB, at most 8192 KiB: {@code envoyproxy/envoy
 * api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto}), and the gateway's
 * ext_authz filter sends no body. grpc-java's default inbound limit (4 MiB) sat below that maximum, so a large but
 * legal request ended as a {@code RESOURCE_EXHAUSTED} RPC error — no decision, no audit row. The server therefore
 * accepts Checks up to {@link #MESSAGE_LIMIT_BYTES} and answers every Check above {@link #DENY_ABOVE_BYTES} with a
 * 431 deny. Only a message above the transport limit (which Envoy never sends) still ends as an RPC error, and
 * Envoy's {@code failure_mode_allow: false} turns that into a deny too.
 */
public final class CheckSize {
    /** Envoy's largest possible request headers (8192 KiB) plus 1 MiB for the Check's own fields. */
    public static final int DENY_ABOVE_BYTES = 9 * 1024 * 1024;
    /** The gRPC server's inbound message limit floor for extauthz. */
    public static final int MESSAGE_LIMIT_BYTES = 16 * 1024 * 1024;

    private CheckSize() {}
}
