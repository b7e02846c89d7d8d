package io.meshguard.runtime.tracing;

import io.opentelemetry.api.common.AttributeKey;

/**
 * The span attribute keys meshguard writes, in one place so a reviewer can see everything a span may carry. Values
 * are codes and counts chosen by meshguard (decision, reason, route and profile names from the policy, detector and
 * action names), never anything a client sent as a credential or a body: no token, API key, claim value, tenant,
 * subject or detected value.
 */
public final class SpanAttributes {
    /** OpenTelemetry RPC conventions. */
    public static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");

    public static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
    public static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
    public static final AttributeKey<Long> RPC_GRPC_STATUS_CODE = AttributeKey.longKey("rpc.grpc.status_code");

    /** {@code allow} or {@code deny} (Check), {@code pass}, {@code mask} or {@code block} (DLP). */
    public static final AttributeKey<String> DECISION = AttributeKey.stringKey("meshguard.decision");
    /** The decision's reason code, e.g. {@code token_expired}. */
    public static final AttributeKey<String> REASON = AttributeKey.stringKey("meshguard.reason");
    /** The HTTP status the decision answers with. */
    public static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("meshguard.http_status");
    /** The policy route that matched (its name in the policy file). */
    public static final AttributeKey<String> ROUTE = AttributeKey.stringKey("meshguard.route");
    /** The profile a gateway route named (authz or DLP). */
    public static final AttributeKey<String> PROFILE = AttributeKey.stringKey("meshguard.profile");
    /** How the caller authenticated: {@code jwt}, {@code api_key}, {@code mesh}, {@code none}. */
    public static final AttributeKey<String> AUTH_METHOD = AttributeKey.stringKey("meshguard.auth_method");
    /** The rate-limit tier applied. */
    public static final AttributeKey<String> TIER = AttributeKey.stringKey("meshguard.tier");
    /** Where a span's parent came from: {@code grpc_metadata}, {@code request_headers}, {@code none}. */
    public static final AttributeKey<String> PARENT_SOURCE = AttributeKey.stringKey("meshguard.parent_source");
    /** A DLP detector's name (events). */
    public static final AttributeKey<String> DETECTOR = AttributeKey.stringKey("meshguard.dlp.detector");
    /** A DLP action (events). */
    public static final AttributeKey<String> ACTION = AttributeKey.stringKey("meshguard.dlp.action");
    /** Request or response (events). */
    public static final AttributeKey<String> DIRECTION = AttributeKey.stringKey("meshguard.dlp.direction");

    private SpanAttributes() {}
}
