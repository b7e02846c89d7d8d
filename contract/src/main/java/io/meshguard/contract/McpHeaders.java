package io.meshguard.contract;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;

/**
 * The request metadata headers of MCP's Streamable HTTP transport (protocol {@value #HEADER_ERA} and later), one reading
 * for both servers that decide on them: extauthz authorizes on the headers alone, the DLP server holds them to the
 * JSON-RPC body. Names are lower-case (how both servers receive them). Values are decoded per the transport's "Value
 * Encoding": a plain value is visible ASCII, space and tab; anything else travels as {@code =?base64?…?=} (exactly that
 * case) over the UTF-8 bytes. A value that is neither is invalid, never guessed at.
 */
public final class McpHeaders {
    private McpHeaders() {}

    public static final String PROTOCOL_VERSION = "mcp-protocol-version";
    public static final String METHOD = "mcp-method";
    public static final String NAME = "mcp-name";
    /** {@code Mcp-Param-{name}}: a tool argument the tool's schema mirrors ({@code x-mcp-header}). */
    public static final String PARAM_PREFIX = "mcp-param-";

    /** The first protocol version whose servers must hold these headers to the body (and clients must send them). */
    public static final String HEADER_ERA = "2026-07-28";

    /**
     * JSON-RPC error code of a header/body disagreement ({@code HeaderMismatch}), also of a missing, repeated or
     * unreadable MCP header.
     */
    public static final int HEADER_MISMATCH = -32020;

    /** JSON-RPC error code of a protocol version the receiver does not take ({@code UnsupportedProtocolVersion}). */
    public static final int UNSUPPORTED_PROTOCOL_VERSION = -32022;

    /**
     * Methods whose {@code Mcp-Name} a header-era client must send, mirroring {@link #nameField}: the core's three, and
     * the Tasks extension's ({@code io.modelcontextprotocol/tasks}: "the client MUST set the Mcp-Name header to the
     * value of params.taskId" for {@code tasks/get}, {@code tasks/update} and {@code tasks/cancel}).
     */
    public static final Set<String> NAMED_METHODS =
            Set.of("tools/call", "resources/read", "prompts/get", "tasks/get", "tasks/update", "tasks/cancel");

    private static final String SENTINEL_START = "=?base64?";
    private static final String SENTINEL_END = "?=";

    /** True for every header of this family (the fixed three and each {@code Mcp-Param-*}). */
    public static boolean isMcpHeader(String lowerName) {
        return lowerName.equals(PROTOCOL_VERSION)
                || lowerName.equals(METHOD)
                || lowerName.equals(NAME)
                || lowerName.startsWith(PARAM_PREFIX);
    }

    /**
     * The {@code params} field {@code Mcp-Name} mirrors for {@code method}: {@code uri} for resources, {@code taskId}
     * for the Tasks extension's methods on one task, else {@code name}. Only those three task methods name a task; any
     * other method's {@code Mcp-Name} is held to {@code name}.
     */
    public static String nameField(String method) {
        return switch (method) {
            case "resources/read" -> "uri";
            case "tasks/get", "tasks/update", "tasks/cancel" -> "taskId";
            default -> "name";
        };
    }

    /**
     * The value a header carries: the plain value (its surrounding optional whitespace dropped, as HTTP does), or the
     * decoded sentinel form. Empty when it is neither valid form: a control or non-ASCII byte, bad Base64, bytes
     * that are not UTF-8.
     */
    public static Optional<String> decode(String raw) {
        String v = strip(raw);
        if (v.startsWith(SENTINEL_START) && v.endsWith(SENTINEL_END) && v.length() >= 11) {
            String b64 = v.substring(SENTINEL_START.length(), v.length() - SENTINEL_END.length());
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(b64);
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
            try {
                return Optional.of(StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes))
                        .toString());
            } catch (CharacterCodingException e) {
                return Optional.empty();
            }
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (!(c == '\t' || (c >= 0x20 && c <= 0x7E))) {
                return Optional.empty();
            }
        }
        return Optional.of(v);
    }

    /**
     * Whether {@code version} is a protocol version ({@code YYYY-MM-DD}: four, two and two ASCII digits). Checked by
     * hand: both servers ask on every MCP request, where a regular expression was a measurable share of a Check.
     */
    public static boolean wellFormedVersion(String version) {
        if (version.length() != 10 || version.charAt(4) != '-' || version.charAt(7) != '-') {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            char c = version.charAt(i);
            if (i != 4 && i != 7 && (c < '0' || c > '9')) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a well-formed version is of the header era: its requests carry the headers and its servers check them
     * against the body. Dates compare as strings.
     */
    public static boolean headerEra(String version) {
        return wellFormedVersion(version) && version.compareTo(HEADER_ERA) >= 0;
    }

    private static String strip(String v) {
        int s = 0;
        int e = v.length();
        while (s < e && (v.charAt(s) == ' ' || v.charAt(s) == '\t')) {
            s++;
        }
        while (e > s && (v.charAt(e - 1) == ' ' || v.charAt(e - 1) == '\t')) {
            e--;
        }
        return v.substring(s, e);
    }
}
