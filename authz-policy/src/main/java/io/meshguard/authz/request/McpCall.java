package io.meshguard.authz.request;

import io.meshguard.contract.McpHeaders;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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

    /**
     * Reads the headers once per request ({@link HttpRequestView#mcp()}), allocating nothing for a request without
     * MCP headers and no decoded copy of a plain value.
     *
     * @param headers lower-case names, every value sent ({@link HttpRequestView#headers()})
     * @param commaJoined the names Envoy's map form may have joined ({@link HttpRequestView#commaJoined()})
     */
    public static McpCall read(Map<String, List<String>> headers, Set<String> commaJoined) {
        Optional<String> version = Optional.empty();
        Optional<String> method = Optional.empty();
        Optional<String> name = Optional.empty();
        Map<String, String> params = Map.of();
        boolean any = false;
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            String header = e.getKey();
            if (!header.startsWith("mcp-") || !McpHeaders.isMcpHeader(header)) {
                continue;
            }
            any = true;
            if (HttpRequestView.repeated(e.getValue(), commaJoined.contains(header))) {
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
                    params = withParam(params, param, value.get());
                }
            }
        }
        if (!any) {
            return NONE;
        }
        return new McpCall(version, method, name, params, Optional.empty());
    }

    /** Names are distinct (a header map's keys): one entry is the usual case, kept without a growing map. */
    private static Map<String, String> withParam(Map<String, String> params, String param, String value) {
        if (params.isEmpty()) {
            return Map.of(param, value);
        }
        Map<String, String> more = new HashMap<>(params);
        more.put(param, value);
        return more;
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
