package io.meshguard.access.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import io.meshguard.access.AdminCaller;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminRoute;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One admitted admin request, as every handler of an {@link AdminEndpoint} sees it: who (the gate's admission), the
 * route and the decoded path, the tenants the call acts for, and the request's query and body parsed one way for
 * every API (a bounded body, read once; JSON objects only).
 */
public final class AdminRequest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpExchange exchange;
    private final AdminRouter.Admitted admitted;
    private final List<String> segments;
    private final TenantScope scope;
    private final boolean systemWide;
    private final String requestId;
    private final int maxBody;
    private int status;
    private Optional<byte[]> bytes = Optional.empty();
    private Optional<Map<String, String>> query = Optional.empty();

    AdminRequest(
            HttpExchange exchange,
            AdminRouter.Admitted admitted,
            List<String> segments,
            TenantScope scope,
            boolean systemWide,
            String requestId,
            int maxBody,
            int status) {
        this.exchange = exchange;
        this.admitted = admitted;
        this.segments = List.copyOf(segments);
        this.scope = scope;
        this.systemWide = systemWide;
        this.requestId = requestId;
        this.maxBody = maxBody;
        this.status = status;
    }

    public HttpExchange exchange() {
        return exchange;
    }

    public AdminRoute route() {
        return admitted.route();
    }

    public AdminGate.Admitted admission() {
        return admitted.admission();
    }

    public AdminCaller caller() {
        return admitted.caller();
    }

    /** The actor as the trail names it. */
    public String actor() {
        return caller().actor();
    }

    public String requestId() {
        return requestId;
    }

    /** The decoded path segments the route was matched to. */
    public List<String> segments() {
        return segments;
    }

    public String segment(int i) {
        return segments.get(i);
    }

    /** The tenants whose objects the call reaches: the caller's on a tenant route, every tenant otherwise. */
    public TenantScope scope() {
        return scope;
    }

    /**
     * Whether the caller holds the route's permission at system scope: a gateway owner's call on its group does not,
     * so it is shown what concerns that group only.
     */
    public boolean systemWide() {
        return systemWide;
    }

    /**
     * {@code reason}, when there is one: every change of what is served or decided says why, and the admin trail keeps
     * it.
     *
     * @throws AdminJson.Refusal {@link ErrorKind#INVALID} when it is blank
     */
    public static String requireReason(String reason) {
        if (reason.isBlank()) {
            throw new AdminJson.Refusal(ErrorKind.INVALID, "a reason is required: {\"reason\": \"...\"}");
        }
        return reason;
    }

    /** Answers with {@code code} instead of the operation's declared status (202 for a publish that became requests). */
    public void answer(int code) {
        status = code;
    }

    int status() {
        return status;
    }

    /** The request's query, parsed once ({@link QueryString}). */
    public Map<String, String> query() {
        if (query.isEmpty()) {
            query = Optional.of(QueryString.parse(exchange.getRequestURI().getRawQuery()));
        }
        return query.get();
    }

    public Optional<String> query(String name) {
        return Optional.ofNullable(query().get(name));
    }

    /** The raw body, at most the endpoint's limit (413 over it), read once. */
    public byte[] bytes() {
        if (bytes.isEmpty()) {
            String type = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Content-Type"))
                    .orElse("")
                    .toLowerCase(Locale.ROOT);
            try (InputStream in = exchange.getRequestBody()) {
                byte[] b = in.readNBytes(maxBody + 1);
                if (b.length > maxBody) {
                    throw new AdminJson.Refusal(ErrorKind.TOO_LARGE, "request body larger than " + maxBody + " bytes");
                }
                if (b.length > 0 && !type.isEmpty() && !type.startsWith("application/json")) {
                    throw new AdminJson.Refusal(
                            ErrorKind.UNSUPPORTED_MEDIA_TYPE,
                            "the body must be application/json, got Content-Type '" + type + "'");
                }
                bytes = Optional.of(b);
            } catch (IOException e) {
                throw new AdminJson.Refusal(ErrorKind.MALFORMED, "unreadable body: " + e.getMessage());
            }
        }
        return bytes.get();
    }

    /** The body as a JSON object; an empty body is {@code {}}. */
    public JsonNode body() {
        byte[] b = bytes();
        if (b.length == 0) {
            return JSON.createObjectNode();
        }
        JsonNode node;
        try {
            node = JSON.readTree(b);
        } catch (JsonProcessingException e) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, "the body is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, "unreadable body: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, "the body must be a JSON object");
        }
        return node;
    }

    /**
     * The body read as {@code type} by {@code mapper} (an API's own mapping of its records); JSON that does not parse
     * or fit is malformed, {@code describe} says where.
     */
    public <T> T body(
            Class<T> type, ObjectMapper mapper, java.util.function.Function<JsonProcessingException, String> describe) {
        try {
            return mapper.readValue(bytes(), type);
        } catch (JsonProcessingException e) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, "invalid JSON: " + describe.apply(e));
        } catch (IOException e) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, "unreadable body: " + e.getMessage());
        }
    }

    /**
     * The string {@code field} of a JSON body: missing, null or blank is a refused value ({@link ErrorKind#INVALID},
     * 422), another JSON type a body that does not fit ({@link ErrorKind#MALFORMED}, 400).
     */
    public static String requiredText(JsonNode body, String field) {
        JsonNode n = body.path(field);
        if (n.isMissingNode() || n.isNull() || (n.isTextual() && n.asText().isBlank())) {
            throw new AdminJson.Refusal(ErrorKind.INVALID, "'" + field + "' is required (a string)");
        }
        if (!n.isTextual()) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, "'" + field + "' must be a string");
        }
        return n.asText();
    }

    /** The list of strings {@code field} of a JSON body, empty when absent; another JSON type is malformed (400). */
    public static List<String> strings(JsonNode body, String field) {
        JsonNode n = body.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, "'" + field + "' must be a list of strings");
        }
        List<String> out = new java.util.ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw new AdminJson.Refusal(ErrorKind.MALFORMED, "'" + field + "' must be a list of strings");
            }
            out.add(e.asText());
        }
        return List.copyOf(out);
    }

    /** The query parameter {@code name}, which the operation needs: missing is a refused request (422). */
    public String requiredQuery(String name, String example) {
        return query(name)
                .orElseThrow(() -> new AdminJson.Refusal(
                        ErrorKind.INVALID, "query parameter '" + name + "' is required (e.g. " + example + ")"));
    }

    /**
     * Starts an answer the handler writes itself (an export streamed as it is read): the endpoint sends nothing after
     * it, and a failure once bytes have left ends the stream instead of answering a status.
     */
    public OutputStream stream(int code, String contentType) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(code, 0);
        return exchange.getResponseBody();
    }

    /** The path as asked, for messages ({@code not found: /groups/x}). */
    public String path() {
        return exchange.getRequestURI().getPath();
    }
}
