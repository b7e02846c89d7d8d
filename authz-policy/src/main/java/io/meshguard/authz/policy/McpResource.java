package io.meshguard.authz.policy;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An MCP server as an OAuth protected resource ({@code resource:} on a route's {@code mcp:}): its canonical URI is the
 * audience a token must name (RFC 8707, the MCP authorization spec's "canonical server URI"), and its Protected Resource
 * Metadata (RFC 9728) is served at the well-known URI formed by inserting {@link #WELL_KNOWN} between the URI's host
 * and path.
 *
 * @param uri the canonical URI: scheme and host in lower case, no default port, no trailing slash, no query or fragment
 * @param host the URI's host (lower case), which the metadata request's canonical host must equal
 * @param path the URI's path without its trailing slash ({@code ""} for a server at the origin's root)
 * @param authorizationServers the issuers a client is sent to for a token ({@code authorization_servers:}); empty: the
 *     issuers the route accepts
 */
public record McpResource(String uri, String host, String path, List<String> authorizationServers) {
    /** RFC 9728 §3: the well-known URI suffix for protected resource metadata. */
    public static final String WELL_KNOWN = "/.well-known/oauth-protected-resource";

    public McpResource {
        authorizationServers = List.copyOf(authorizationServers);
    }

    /**
     * The resource {@code raw} names, in its canonical spelling; empty when it is not an absolute {@code http(s)} URI
     * with a host, or carries user information, a query or a fragment (RFC 8707 §2: "MUST NOT include a fragment
     * component"; a query would make two spellings of one server).
     */
    public static Optional<String> canonical(String raw) {
        return parts(raw).map(p -> p.origin + p.path);
    }

    /** The resource named by {@code raw} in the policy; empty when {@link #canonical} refuses it. */
    public static Optional<McpResource> of(String raw, List<String> authorizationServers) {
        return parts(raw).map(p -> new McpResource(p.origin + p.path, p.host, p.path, authorizationServers));
    }

    /** The path the metadata is served at on the resource's host. */
    public String metadataPath() {
        return WELL_KNOWN + path;
    }

    /** The metadata's absolute URL: what the 401 challenge's {@code resource_metadata} names. */
    public String metadataUrl() {
        return uri.substring(0, uri.length() - path.length()) + metadataPath();
    }

    /**
     * Whether a token's {@code aud} claim (a string or a list of strings, RFC 7519 §4.1.3) names this resource, each
     * value compared in its canonical spelling. A missing claim, or values of other types, never do.
     */
    public boolean namedBy(Object aud) {
        if (aud instanceof String s) {
            return canonical(s).filter(uri::equals).isPresent();
        }
        if (aud instanceof Collection<?> values) {
            for (Object v : values) {
                if (v instanceof String s && canonical(s).filter(uri::equals).isPresent()) {
                    return true;
                }
            }
        }
        return false;
    }

    private record Parts(String origin, String host, String path) {}

    private static Optional<Parts> parts(String raw) {
        // a challenge header carries the URI: printable ASCII only (an IRI's Unicode is written percent-encoded)
        if (raw.isEmpty() || !raw.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return Optional.empty();
        }
        URI u;
        try {
            u = new URI(raw);
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
        if (u.getScheme() == null || u.isOpaque() || u.getHost() == null) {
            return Optional.empty();
        }
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http")) {
            return Optional.empty();
        }
        if (u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null) {
            return Optional.empty();
        }
        String host = u.getHost().toLowerCase(Locale.ROOT);
        int port = u.getPort();
        boolean defaultPort =
                port == -1 || (scheme.equals("https") && port == 443) || (scheme.equals("http") && port == 80);
        String path = u.getRawPath() == null ? "" : u.getRawPath();
        if (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        String origin = scheme + "://" + host + (defaultPort ? "" : ":" + port);
        return Optional.of(new Parts(origin, host, path));
    }
}
