package io.meshguard.authz.request;

/**
 * Why a request was allowed or denied: the stable code in responses, audit events and metrics (low cardinality).
 * Each deny reason carries the HTTP status Envoy returns for it.
 */
public enum Reason {
    ALLOWED("allowed", 200),
    PUBLIC_ROUTE("public_route", 200),
    MISSING_CREDENTIAL("missing_credential", 401),
    INVALID_TOKEN("invalid_token", 401),
    TOKEN_EXPIRED("token_expired", 401),
    TOKEN_TOO_LARGE("token_too_large", 401),
    UNKNOWN_ISSUER("unknown_issuer", 401),
    UNKNOWN_KEY("unknown_key", 401),
    BAD_SIGNATURE("bad_signature", 401),
    INVALID_API_KEY("invalid_api_key", 401),
    API_KEY_REVOKED("api_key_revoked", 401),
    API_KEY_EXPIRED("api_key_expired", 401),
    /** A claim value that would change meaning in a header (list delimiter, whitespace, control, non-ASCII). */
    INVALID_CLAIM("invalid_claim", 401),
    /** A valid token from an issuer the route does not accept ({@code issuers:} on the route). */
    ISSUER_NOT_ACCEPTED("issuer_not_accepted", 401),
    /**
     * A valid token not issued for the MCP server the route protects: its {@code aud} does not name the server's
     * canonical URI (RFC 8707; the MCP authorization spec: servers "MUST NOT accept or transit any other tokens").
     */
    WRONG_AUDIENCE("wrong_audience", 401),
    /**
     * Not a refusal: an MCP server's Protected Resource Metadata (RFC 9728), answered by extauthz as a local reply
     * (status 200) so that no upstream serves it.
     */
    RESOURCE_METADATA("resource_metadata", 200),
    /** Not an access token: an ID token, a logout token, a DPoP proof … ({@code typ}, RFC 9068 / RFC 8725 §3.11). */
    WRONG_TOKEN_TYPE("wrong_token_type", 401),
    /** A path an upstream could resolve differently ({@link io.meshguard.contract.CanonicalPath.Problem} names the sub-reason). */
    INVALID_PATH("invalid_path", 400),
    DUPLICATE_CREDENTIAL("duplicate_credential", 400),
    DUPLICATE_HEADER("duplicate_header", 400),
    REQUIRED_HEADER_MISSING("required_header_missing", 400),
    /**
     * An MCP route's request whose MCP headers cannot be decided on: one missing that its protocol version requires, one
     * repeated or badly encoded, or a protocol version older than header/body validation on a route that decides on
     * them.
     */
    MCP_HEADERS_INVALID("mcp_headers_invalid", 400),
    /** An MCP route's request for a JSON-RPC method the route does not take. */
    MCP_METHOD_NOT_ALLOWED("mcp_method_not_allowed", 403),
    /** A {@code tools/call} of a tool the route does not list, or whose roles or conditions the caller fails. */
    MCP_TOOL_NOT_ALLOWED("mcp_tool_not_allowed", 403),
    /** A Check larger than {@code CheckSize.DENY_ABOVE_BYTES}: answered with a deny, never an RPC error. */
    REQUEST_TOO_LARGE("request_too_large", 431),
    INSUFFICIENT_ROLE("insufficient_role", 403),
    INSUFFICIENT_SCOPE("insufficient_scope", 403),
    TENANT_MISMATCH("tenant_mismatch", 403),
    NO_MATCHING_ROUTE("no_matching_route", 403),
    POLICY_NOT_LOADED("policy_not_loaded", 403),
    INVALID_ROUTE_CONFIG("invalid_route_config", 403),
    /** The gateway route names an authz profile the loaded policy lacks (docs/route-contract.md). */
    UNKNOWN_PROFILE("unknown_profile", 403),
    /** The request's method or host is outside the rule the gateway route names. */
    OUTSIDE_PROFILE("outside_profile", 403),
    /** A policy-level {@code deny:} rule applies. */
    DENIED_BY_RULE("denied_by_rule", 403),
    /** The mTLS peer is not one the route's {@code from:} allows. */
    SOURCE_NOT_ALLOWED("source_not_allowed", 403),
    /** A route with {@code auth: mtls} was called without an mTLS peer identity. */
    PEER_IDENTITY_REQUIRED("peer_identity_required", 403),
    /** The mTLS peer's principal is not a well-formed SPIFFE ID. */
    INVALID_PEER_IDENTITY("invalid_peer_identity", 403),
    /** meshguard's identity headers arrived from a peer that is not a trusted gateway. */
    FORGED_IDENTITY_HEADER("forged_identity_header", 403),
    /** The route accepts only requests the trusted edge gateway already allowed. */
    GATEWAY_REQUIRED("gateway_required", 403),
    /** A {@code when:} condition of the route is false. */
    CONDITION_NOT_MET("condition_not_met", 403),
    /** A {@code when:} condition could not be evaluated: denied, never allowed. */
    CONDITION_ERROR("condition_error", 403),
    /** A product route: the credential's application has no live subscription to this product publish. */
    NO_SUBSCRIPTION("no_subscription", 403),
    /** A product route: the subscription waits for the provider's approval. */
    SUBSCRIPTION_PENDING("subscription_pending", 403),
    SUBSCRIPTION_SUSPENDED("subscription_suspended", 403),
    APPLICATION_SUSPENDED("application_suspended", 403),
    /** A product route: the subscription's plan was closed. */
    PLAN_CLOSED("plan_closed", 403),
    CREDENTIAL_REVOKED("credential_revoked", 401),
    CREDENTIAL_EXPIRED("credential_expired", 401),
    /** A rotated credential used after its overlap window. */
    CREDENTIAL_ROTATED_OUT("credential_rotated_out", 401),
    /** A credential of a kind the product publish or the plan does not admit. */
    AUTH_MODE_NOT_ALLOWED("auth_mode_not_allowed", 401),
    /** A product route while this replica holds no current subscription state: refused, never guessed. */
    SUBSCRIPTION_STATE_UNAVAILABLE("subscription_state_unavailable", 503),
    RATE_LIMITED("rate_limited", 429),
    /**
     * The rate-limit store is unreachable and the route's limits say {@code on_store_error: fail_closed}: 503 with
     * {@code Retry-After}, not 429 (the caller did nothing wrong, and 503 + Retry-After is what HTTP clients and
     * retry policies read as "come back later").
     */
    RATE_LIMIT_STORE_UNAVAILABLE("rate_limit_store_unavailable", 503),
    /** A calendar quota with {@code on_exceed: block} is used up until its reset ({@code quotas:}). */
    QUOTA_EXCEEDED("quota_exceeded", 429),
    /** A {@code block} quota could not be counted (Redis and PostgreSQL away, the caller's count unknown): fail closed. */
    QUOTA_UNAVAILABLE("quota_unavailable", 503),
    JWKS_UNAVAILABLE("jwks_unavailable", 503),
    API_KEY_STORE_UNAVAILABLE("api_key_store_unavailable", 503),
    UPSTREAM_CREDENTIAL_UNAVAILABLE("upstream_credential_unavailable", 503),
    /**
     * An MCP route with {@code token_exchange:}: the identity provider refused to exchange the caller's token for one
     * issued to the MCP server (audience not permitted, token or session no longer valid, user not allowed). The caller
     * is refused; never forwarded with its own token.
     */
    TOKEN_EXCHANGE_REFUSED("token_exchange_refused", 403),
    /**
     * An MCP route with {@code token_exchange:}: no exchanged token could be had (identity provider unreachable, slow
     * past {@code token_exchange.timeout}, failing, answering garbage, refusing meshguard's own client credential, or no
     * exchange configured). Fail closed: never forwarded with the caller's token.
     */
    TOKEN_EXCHANGE_UNAVAILABLE("token_exchange_unavailable", 503),
    /** A bug or an unforeseen input: still a deny, never an RPC error (which failure_mode_allow could turn into an allow). */
    INTERNAL_ERROR("internal_error", 500);

    private final String code;
    private final int status;

    Reason(String code, int status) {
        this.code = code;
        this.status = status;
    }

    public String code() {
        return code;
    }

    public int status() {
        return status;
    }

    public boolean allows() {
        return status == 200;
    }

    /** The reason with this audit code ({@link #INTERNAL_ERROR} for a code this version does not know). */
    public static Reason fromCode(String code) {
        for (Reason r : values()) {
            if (r.code.equals(code)) {
                return r;
            }
        }
        return INTERNAL_ERROR;
    }
}
