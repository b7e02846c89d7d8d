package io.meshguard.authz.policy;

import java.util.Optional;

/**
 * An MCP route whose caller's token is exchanged (RFC 8693) before the request reaches the MCP server
 * ({@code token_exchange:} on the route's {@code mcp:}): the server gets a token issued for itself, never the one the
 * caller sent. Where the exchange is made and with which client credential is the server's configuration
 * ({@code token_exchange.*} settings), never the policy's.
 *
 * @param audience the RFC 8693 {@code audience} asked for (Keycloak: the MCP server's client id), which the issued
 *     token's {@code aud} must name; default: the route's {@code resource:} URI
 * @param scope the RFC 8693 {@code scope} asked for (space-separated), empty: the exchange client's defaults
 */
public record McpTokenExchange(String audience, Optional<String> scope) {
    /** Whether {@code value} may stand in a form field and an audit row as an audience or a scope list: visible ASCII. */
    static boolean visibleAscii(String value, boolean spacesAllowed) {
        if (value.isEmpty() || value.startsWith(" ") || value.endsWith(" ")) {
            return false;
        }
        return value.chars().allMatch(c -> (c > 0x20 && c < 0x7f) || (spacesAllowed && c == ' '));
    }
}
