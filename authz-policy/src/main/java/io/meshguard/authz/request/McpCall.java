package io.meshguard.authz.request;

import io.meshguard.contract.McpHeaders;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What an MCP request's metadata headers say it is ({@link McpHeaders}): the protocol version, the JSON-RPC method,
 * the tool, prompt or resource it names, and the tool arguments mirrored as {@code Mcp-Param-*} (keyed by the lower-case
 * name after the prefix). Read from the headers only — extauthz never sees the body; the DLP server holds the two to
 * each other.
 *
 * @param problem why the headers cannot be believed: one of them sent more than once (in either of Envoy's header
 *     encodings, {@link HttpRequestView#repeated}), a value in neither of the transport's encodings, a version that is
 *     not a date. Then every other field is empty.
 */
public record McpCall(
        Optional<String> protocolVersion,
        Optional<String> method,
        Optional<String> name,
        Map<String, String> params,
        Optional<Problem> problem) {

    /** @param header the offending header's name (never its value, which may be an argument) */
    public record Problem(String header, String description) {}

    public McpCall {
        params = Map.copyOf(params);
    }

    private static final McpCall NONE =
            new McpCall(Optional.empty(), Optional.empty(), Optional.empty(), Map.of(), Optional.empty());

    public static McpCall of(HttpRequestView request) {
        Optional<String> version = Optional.empty();
        Optional<String> method = Optional.empty();
        Optional<String> name = Optional.empty();
        Map<String, String> params = null;
        for (Map.Entry<String, List<String>> e : request.headers().entrySet()) {
            String header = e.getKey();
            if (!McpHeaders.isMcpHeader(header)) {
                continue;
            }
            if (request.repeated(header)) {
                return refused(header, "MCP header sent more than once");
            }
            Optional<String> value = McpHeaders.decode(e.getValue().get(0));
            if (value.isEmpty()) {
                return refused(header, "MCP header value is neither plain visible ASCII nor =?base64?…?= UTF-8");
            }
            switch (header) {
                case McpHeaders.PROTOCOL_VERSION -> {
                    if (!McpHeaders.wellFormedVersion(value.get())) {
                        return refused(header, "MCP protocol version is not a YYYY-MM-DD version");
                    }
                    version = value;
                }
                case McpHeaders.METHOD -> method = value;
                case McpHeaders.NAME -> name = value;
                default -> {
                    String param = header.substring(McpHeaders.PARAM_PREFIX.length());
                    if (param.isEmpty()) {
                        return refused(header, "MCP parameter header without a parameter name");
                    }
                    if (params == null) {
                        params = new TreeMap<>();
                    }
                    params.put(param, value.get());
                }
            }
        }
        if (version.isEmpty() && method.isEmpty() && name.isEmpty() && params == null) {
            return NONE;
        }
        return new McpCall(version, method, name, params == null ? Map.of() : params, Optional.empty());
    }

    private static McpCall refused(String header, String description) {
        return new McpCall(
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Map.of(),
                Optional.of(new Problem(header, description)));
    }

    /** Of the header era: requests carry the headers and the servers behind check them against the body. */
    public boolean headerEra() {
        return protocolVersion.filter(McpHeaders::headerEra).isPresent();
    }

    /** Present means the request sent at least one of the MCP headers (valid or not). */
    public boolean any() {
        return this != NONE;
    }
}
