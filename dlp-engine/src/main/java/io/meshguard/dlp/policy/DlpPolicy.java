package io.meshguard.dlp.policy;

import io.meshguard.dlp.mcp.ToolPins;
import java.util.List;
import java.util.Optional;

/**
 * A validated dlp.yaml, ready to scan with: profiles in order (the first whose match fits wins), the block answer,
 * and the header that names the tenant for keyed hashes.
 */
public final class DlpPolicy {
    /**
     * A profile: its match, what it does per direction (absent = that direction is not scanned), and what happens to
     * a protocol upgrade (WebSocket) on its routes.
     *
     * @param mcpPins the MCP tools the profile's routes serve only as pinned ({@code mcp_pins:}), schemas compiled
     */
    public record Profile(
            String name,
            ProfileMatch match,
            Optional<DirectionPolicy> request,
            Optional<DirectionPolicy> response,
            DirectionPolicy.Disposition websocket,
            boolean mcp,
            Optional<McpApproval> mcpApproval,
            Optional<ToolPins> mcpPins) {
        /** A profile without tool calls held for approval or pinned tools. */
        public Profile(
                String name,
                ProfileMatch match,
                Optional<DirectionPolicy> request,
                Optional<DirectionPolicy> response,
                DirectionPolicy.Disposition websocket,
                boolean mcp) {
            this(name, match, request, response, websocket, mcp, Optional.empty(), Optional.empty());
        }

        /** A profile for a route that does not serve MCP. */
        public Profile(
                String name,
                ProfileMatch match,
                Optional<DirectionPolicy> request,
                Optional<DirectionPolicy> response,
                DirectionPolicy.Disposition websocket) {
            this(name, match, request, response, websocket, false);
        }
    }

    private final List<Profile> profiles;
    private final BlockResponse block;
    private final String tenantHeader;
    private final String version;
    private final IdentityHeaderNames identityHeaders;

    public DlpPolicy(List<Profile> profiles, BlockResponse block, String tenantHeader) {
        this(profiles, block, tenantHeader, "", IdentityHeaderNames.DEFAULTS);
    }

    /**
     * @param version the SHA-256 (hex) of the file's text, as the admin trail's reload rows name it
     * @param identityHeaders where extauthz hands the verified caller over (a held tool call is bound to it)
     */
    public DlpPolicy(
            List<Profile> profiles,
            BlockResponse block,
            String tenantHeader,
            String version,
            IdentityHeaderNames identityHeaders) {
        this.profiles = List.copyOf(profiles);
        this.block = block;
        this.tenantHeader = tenantHeader;
        this.version = version;
        this.identityHeaders = identityHeaders;
    }

    /** The SHA-256 (hex) of the text this policy was read from; a held tool call is bound to it. */
    public String version() {
        return version;
    }

    /** What applies to one direction of a message, or empty when no profile covers it (passes unscanned). */
    public Optional<DirectionPolicy> select(Direction direction, String host, String path, String contentType) {
        return select(direction, Optional.empty(), host, path, contentType);
    }

    /**
     * As {@link #select(Direction, String, String, String)}, but a route that names a profile gets that profile
     * (its content types still apply; its hosts and paths do not, the route already matched). The server refuses a
     * stream whose route names a profile this policy does not have ({@link #hasProfile}) before it gets here.
     */
    public Optional<DirectionPolicy> select(
            Direction direction, Optional<String> routeProfile, String host, String path, String contentType) {
        Optional<Profile> named = routeProfile.flatMap(this::profile);
        if (named.isPresent()) {
            Profile p = named.get();
            Optional<DirectionPolicy> d = direction == Direction.REQUEST ? p.request() : p.response();
            return d.filter(x -> p.match().matchesContentType(contentType));
        }
        for (Profile p : profiles) {
            Optional<DirectionPolicy> d = direction == Direction.REQUEST ? p.request() : p.response();
            if (d.isPresent() && p.match().matches(host, path, contentType)) {
                return d;
            }
        }
        return Optional.empty();
    }

    /** True when some profile could scan responses for this host and path (used to ask upstreams for identity). */
    public boolean scansResponses(Optional<String> routeProfile, String host, String path) {
        Optional<Profile> named = routeProfile.flatMap(this::profile);
        if (named.isPresent()) {
            return named.get().response().isPresent();
        }
        for (Profile p : profiles) {
            if (p.response().isPresent() && p.match().matchesRequest(host, path)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The profile that decides a protocol upgrade (WebSocket): the route's, else the first whose hosts and paths
     * match. Content types are not looked at: an upgrade request has no body type, and what follows it is frames.
     */
    public Optional<Profile> upgradeProfile(Optional<String> routeProfile, String host, String path) {
        Optional<Profile> named = routeProfile.flatMap(this::profile);
        if (named.isPresent()) {
            return named;
        }
        return profiles.stream()
                .filter(p -> p.match().matchesRequest(host, path))
                .findFirst();
    }

    /**
     * Whether the request's profile (the route's, else the first whose hosts and paths match) serves MCP
     * ({@code mcp: true}): its request bodies are held to their MCP headers even when a request sends none.
     */
    public boolean servesMcp(Optional<String> routeProfile, String host, String path) {
        return upgradeProfile(routeProfile, host, path).map(Profile::mcp).orElse(false);
    }

    /** The profile of that name. */
    public Optional<Profile> profile(String name) {
        return profiles.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    public boolean hasProfile(String name) {
        return profile(name).isPresent();
    }

    public List<Profile> profiles() {
        return profiles;
    }

    public BlockResponse block() {
        return block;
    }

    public String tenantHeader() {
        return tenantHeader;
    }

    /** The headers extauthz names the verified caller in ({@code identity_headers:}). */
    public IdentityHeaderNames identityHeaders() {
        return identityHeaders;
    }
}
