package io.meshguard.contract;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The request headers meshguard's security policy owns, which gateway configuration (a route, a group, an API) must
 * never set or remove: the header names every {@code authz.yaml} starts from (identity headers, the tenant header,
 * credential headers), anything under {@link #MESHGUARD_PREFIX}, and the peer-certificate header. A loaded policy adds
 * its own names (renamed identity headers, header-contract defaults, extra credential headers): extauthz-server's
 * {@code OwnedHeaders.of(policy)} computes them and the xDS controller passes them to {@link #ownedBy}.
 *
 * <p>Names are compared in one canonical spelling ({@link #canonical}): trimmed, lower case (HTTP field names are
 * case-insensitive, RFC 9110 §5.1), {@code _} read as {@code -} (CGI-style servers map both to {@code HTTP_X_...},
 * the reason extauthz strips underscore spellings), so {@code " Authorization"}, {@code X_User_Id} and
 * {@code x-user-id} are one header.
 */
public final class OwnedHeaderNames {
    private OwnedHeaderNames() {}

    /** meshguard's own headers (route metadata, DLP stream metadata, internal markers). */
    public static final String MESHGUARD_PREFIX = "x-meshguard-";

    /** Credentials: the caller's token, API key and session never reach or leave through route configuration. */
    public static final List<String> CREDENTIALS =
            List.of("authorization", "proxy-authorization", "cookie", "x-api-key");

    /**
     * The identity and tenant headers of an {@code authz.yaml} that renames none (extauthz-server
     * {@code AuthzPolicyParser} defaults, kept equal by a test in the xDS controller).
     */
    public static final List<String> DEFAULT_IDENTITY = List.of(
            "x-user-id",
            "x-tenant-id",
            "x-user-roles",
            "x-user-scopes",
            "x-client-id",
            "x-auth-method",
            "x-auth-issuer",
            "x-auth-credential-id",
            "x-caller-type",
            "x-caller-principal");

    /**
     * The trusted gateway's verdict on the client address (set by its allow), which the workload's sidecar reads
     * instead of re-deriving it; believed only on a gateway hop.
     */
    public static final String CLIENT_ADDRESS = "x-meshguard-client-address";

    /**
     * The quotas the trusted gateway's allow charged for the request (comma-separated names): the sidecar behind it
     * skips exactly those on the gateway hop.
     */
    public static final String QUOTA_CHARGED = "x-meshguard-quota-charged";

    /**
     * The gateway rule that rate-limited the request (set by the trusted gateway's allow only then): the sidecar behind
     * it does not count the request again.
     */
    public static final String RATE_LIMITED_AT = "x-meshguard-rate-limited-at";

    /**
     * What the trusted gateway's allow tells the sidecar behind it. extauthz believes them only on a gateway hop (a
     * {@code mesh.trusted_gateways} peer carrying the gateway's identity headers) and removes or overwrites them on
     * every allow, so neither a client nor a mesh pod can set them for the upstream or the next Check.
     */
    public static final List<String> GATEWAY_HOP = List.of(CLIENT_ADDRESS, QUOTA_CHARGED, RATE_LIMITED_AT);

    /**
     * The tools an MCP route's tool rules let this caller call, set by extauthz's allow of a {@code tools/list} request
     * on a route that lists its tools: a JSON array of the tool names (ASCII, anything else {@code \\u}-escaped;
     * {@code []} when none). The DLP server lists only these in the answer and refuses an answer it cannot filter.
     * extauthz removes a client's value on every allow, as it does the identity headers the DLP server reads.
     */
    public static final String MCP_TOOLS = "x-meshguard-mcp-tools";

    /** The peer certificate Istio's sidecars forward: who the caller is on the mesh hop. */
    public static final String PEER_CERTIFICATE = "x-forwarded-client-cert";

    /** {@code name} as compared: trimmed, lower case, {@code _} as {@code -}. */
    public static String canonical(String name) {
        return name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Why configuration may not touch {@code name}, if it is owned.
     *
     * @param policyOwned the loaded policy's owned names (any spelling); empty when no policy is loaded
     */
    public static Optional<String> ownedBy(String name, Collection<String> policyOwned) {
        String c = canonical(name);
        if (c.startsWith(MESHGUARD_PREFIX)) {
            return Optional.of("x-meshguard-* headers are meshguard's own");
        }
        if (CREDENTIALS.contains(c)) {
            return Optional.of(
                    "a credential header: only the caller sets it, and extauthz strips it before the " + "upstream");
        }
        if (c.equals(PEER_CERTIFICATE)) {
            return Optional.of("the mesh peer's certificate: only the sidecar sets it");
        }
        if (DEFAULT_IDENTITY.contains(c)) {
            return Optional.of("an identity or tenant header: extauthz sets it from the verified credential");
        }
        for (String owned : policyOwned) {
            if (canonical(owned).equals(c)) {
                return Optional.of("owned by the loaded authz policy (identity, tenant, credential or "
                        + "header-contract default): extauthz decides its value");
            }
        }
        return Optional.empty();
    }
}
