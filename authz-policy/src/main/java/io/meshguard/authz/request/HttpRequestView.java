package io.meshguard.authz.request;

import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.meshguard.contract.CanonicalPath;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The parts of a CheckRequest a decision needs, whichever way Envoy encoded the headers: the {@code headers} map
 * (duplicates comma-joined by Envoy) or {@code header_map} (one entry per header line; what {@code encode_raw_headers}
 * and grpc-java send). When both are present every value of both counts, so a duplicate cannot hide in the other.
 *
 * @param path the {@link CanonicalPath canonical} path, the only one routes are matched on; empty when the path is
 *     refused ({@code target.problem()} says why, and {@link #rawPath()} keeps what was sent)
 * @param mcp what the MCP metadata headers say ({@link McpCall#read}), read once here: an MCP route's stages, its
 *     conditions and the decision row all ask
 * @param body the request body, when the proxy sends it with the Check ({@code with_request_body}; empty otherwise).
 *     Read for one thing only: the JSON-RPC id a refusal of an MCP request echoes ({@link #jsonRpcId}). Nothing is
 *     decided on it: the DLP server holds the body to the headers
 */
public record HttpRequestView(
        String requestId,
        String method,
        String host,
        String path,
        Map<String, List<String>> headers,
        Map<String, String> contextExtensions,
        String sourcePrincipal,
        String sourceAddress,
        java.util.Set<String> commaJoined,
        CanonicalPath target,
        String query,
        McpCall mcp,
        com.google.protobuf.ByteString body) {

    /** Envoy's mark on a Check whose body it cut at {@code max_request_bytes} ({@code allow_partial_message}). */
    public static final String PARTIAL_BODY_HEADER = "x-envoy-auth-partial-body";

    public static HttpRequestView of(CheckRequest request) {
        AttributeContext attrs = request.getAttributes();
        AttributeContext.HttpRequest http = attrs.getRequest().getHttp();
        Map<String, String> mapForm = http.getHeadersMap();
        List<HeaderValue> lines = http.getHeaderMap().getHeadersList();
        Map<String, List<String>> headers = new LinkedHashMap<>(capacity(mapForm.size() + lines.size()));
        // Envoy's map form joins repeated headers with ','; only there does a comma mean "sent twice". Envoy copies
        // its header map's keys as they are (CheckRequestUtils::setHttpRequest in
        // source/extensions/filters/common/ext_authz/check_request_utils.cc), and its codecs keep keys lower-case
        // (HTTP/2 and HTTP/3 field names are lower-case on the wire: RFC 9113 §8.2.1, RFC 9114 §4.2; Envoy's HTTP/1
        // codec stores names as Http::LowerCaseString), so the map's own key set is usually the set asked about,
        // taken without a copy; other keys are lowered. Each name is lowered (or found lower-case) once.
        boolean allLower = true;
        for (Map.Entry<String, String> e : mapForm.entrySet()) {
            String key = lower(e.getKey());
            allLower &= key == e.getKey();
            add(headers, key, e.getValue());
        }
        java.util.Set<String> joined;
        if (mapForm.isEmpty()) {
            joined = java.util.Set.of();
        } else if (allLower) {
            joined = java.util.Collections.unmodifiableSet(mapForm.keySet());
        } else {
            java.util.Set<String> lowered = new java.util.HashSet<>();
            mapForm.keySet().forEach(k -> lowered.add(k.toLowerCase(Locale.ROOT)));
            joined = java.util.Collections.unmodifiableSet(lowered);
        }
        for (HeaderValue hv : lines) {
            String value = hv.getRawValue().isEmpty()
                    ? hv.getValue()
                    : hv.getRawValue().toString(StandardCharsets.UTF_8);
            add(headers, lower(hv.getKey()), value);
        }
        String method = !http.getMethod().isEmpty()
                ? http.getMethod()
                : first(headers, ":method").orElse("");
        String host = !http.getHost().isEmpty()
                ? http.getHost()
                : first(headers, ":authority").or(() -> first(headers, "host")).orElse("");
        // no target at all (an HTTP/2 CONNECT has no :path) is no path: refused as not origin-form, never read as "/"
        String rawPath = !http.getPath().isEmpty()
                ? http.getPath()
                : first(headers, ":path").orElse("");
        String requestId = first(headers, "x-request-id")
                .filter(HttpRequestView::safeId)
                .or(() -> Optional.of(http.getId()).filter(s -> !s.isEmpty()))
                .orElseGet(() -> UUID.randomUUID().toString());
        String source = attrs.getSource().getAddress().hasSocketAddress()
                ? attrs.getSource().getAddress().getSocketAddress().getAddress()
                : "";
        CanonicalPath target = CanonicalPath.parse(rawPath);
        // the host rules match on is canonical too (CanonicalHost): one spelling, made once here
        CanonicalHost canonicalHost = CanonicalHost.parse(host);
        if (canonicalHost.problem().isPresent() && target.problem().isEmpty()) {
            target = CanonicalPath.refusedHost(rawPath, canonicalHost.problem().get());
        }
        return new HttpRequestView(
                requestId,
                method.toUpperCase(Locale.ROOT),
                canonicalHost.host(),
                target.path(),
                headers,
                // the request is immutable, and so is its map (protobuf's MapField after build): no copy per Check
                attrs.getContextExtensionsMap(),
                attrs.getSource().getPrincipal(),
                source,
                joined,
                target,
                queryOf(rawPath),
                McpCall.read(headers, joined),
                bodyOf(http));
    }

    /**
     * {@code raw_body} ({@code pack_as_bytes}), else {@code body}: Envoy's UTF-8 string of the same bytes, which only
     * the raw form carries unchanged.
     */
    private static com.google.protobuf.ByteString bodyOf(AttributeContext.HttpRequest http) {
        if (!http.getRawBody().isEmpty()) {
            return http.getRawBody();
        }
        return http.getBody().isEmpty()
                ? com.google.protobuf.ByteString.EMPTY
                : com.google.protobuf.ByteString.copyFromUtf8(http.getBody());
    }

    /**
     * The JSON-RPC id of the request's body as JSON text ({@link JsonRpcId}), {@code null} when the Check carried no
     * body or the id cannot be told. Parsed on each call: only refusals of MCP requests ask.
     */
    public String jsonRpcId() {
        return JsonRpcId.of(body, all(PARTIAL_BODY_HEADER).contains("true"));
    }

    /** @param name already lower-case ({@link #lower}) */
    private static void add(Map<String, List<String>> headers, String name, String value) {
        List<String> values = headers.get(name);
        if (values == null) {
            values = new ArrayList<>(1);
            headers.put(name, values);
        }
        values.add(value);
    }

    /**
     * {@code name} in lower case, the same instance when it has no upper-case letter (every name Envoy sends): one
     * ASCII range test per character, where {@code toLowerCase} looks each character up in the Latin-1 case table.
     */
    static String lower(String name) {
        for (int i = 0, n = name.length(); i < n; i++) {
            char c = name.charAt(i);
            if ((c >= 'A' && c <= 'Z') || c > 0x7F) {
                return name.toLowerCase(Locale.ROOT);
            }
        }
        return name;
    }

    /** A hash map's initial capacity that holds {@code n} entries without growing. */
    private static int capacity(int n) {
        return n < 3 ? 4 : (int) (n / 0.75f) + 1;
    }

    /** All values sent for a header (Envoy's map form may have joined several into one, comma-separated). */
    public List<String> all(String name) {
        return headers.getOrDefault(name, List.of());
    }

    public Optional<String> first(String name) {
        return first(headers, name);
    }

    /**
     * True when the header was sent more than once, in either encoding. In Envoy's map form a comma inside the value
     * counts as a repeat: it cannot be told apart from two joined lines, and the headers asked about here (tenant,
     * credentials) never hold commas legitimately.
     */
    public boolean repeated(String name) {
        return repeated(all(name), commaJoined.contains(name));
    }

    /** @param mayBeJoined the header came (also) in Envoy's map form, where a comma joins repeated lines */
    static boolean repeated(List<String> values, boolean mayBeJoined) {
        if (values.size() > 1) {
            return true;
        }
        return values.size() == 1 && mayBeJoined && values.get(0).indexOf(',') >= 0;
    }

    private static Optional<String> first(Map<String, List<String>> headers, String name) {
        List<String> values = headers.get(name);
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    /** The path as the client sent it, without the query string: for audit only, never for matching. */
    public String rawPath() {
        return target.rawPath();
    }

    /** The raw query string (after {@code ?}, before {@code #}), "" when there is none. */
    private static String queryOf(String path) {
        int q = path.indexOf('?');
        if (q < 0) {
            return "";
        }
        int h = path.indexOf('#', q);
        return path.substring(q + 1, h < 0 ? path.length() : h);
    }

    /** Request ids are echoed in responses and logs: only short, plain ones are taken from the client. */
    private static boolean safeId(String id) {
        if (id.isEmpty() || id.length() > 128) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128) && c != '-' && c != '_' && c != '.' && c != ':') {
                return false;
            }
        }
        return true;
    }
}
