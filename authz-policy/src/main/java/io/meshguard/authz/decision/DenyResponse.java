package io.meshguard.authz.decision;

import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.Reason;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The deny the client reads: status, JSON body (error, reason, message and the named extras) and response headers. */
final class DenyResponse {
    private DenyResponse() {}

    /**
     * @param extra body fields ({@code header}, {@code path_problem}, {@code rule}, {@code quota}); with
     *     {@code retry-after}, also the rate-limit response headers it carries
     */
    static Decision of(
            HttpRequestView request,
            Optional<String> route,
            Optional<Identity> who,
            Reason reason,
            String description,
            Map<String, String> extra,
            boolean cached) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put(
                "error",
                switch (reason.status()) {
                    case 400 -> "bad_request";
                    case 401 -> "unauthenticated";
                    case 429 -> "rate_limited";
                    case 503 -> "unavailable";
                    case 500 -> "internal";
                    default -> "forbidden";
                });
        body.put("reason", reason.code());
        body.put("message", description);
        if (extra.containsKey("header")) {
            body.put("header", extra.get("header"));
        }
        if (extra.containsKey("path_problem")) {
            body.put("path_problem", extra.get("path_problem"));
        }
        if (extra.containsKey("rule")) {
            body.put("rule", extra.get("rule"));
        }
        if (extra.containsKey("quota")) {
            body.put("quota", extra.get("quota"));
        }
        body.put("request_id", request.requestId());
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("content-type", "application/json");
        headers.put("x-request-id", request.requestId());
        if (reason.status() == 401) {
            headers.put(
                    "www-authenticate",
                    "Bearer error=\"invalid_token\", error_description=\"" + quotable(description) + "\"");
        }
        if (extra.containsKey("retry-after")) {
            // rate-limit answers: Retry-After and the rate-limit headers (every other deny's extra keys are body
            // fields)
            headers.put("retry-after", extra.get("retry-after"));
            extra.forEach((k, v) -> {
                if (k.startsWith("ratelimit") || k.startsWith("x-ratelimit-")) {
                    headers.put(k, v);
                }
            });
        }
        return new Decision(
                false,
                reason.status(),
                reason,
                description,
                request.requestId(),
                route,
                who,
                List.of(),
                List.of(),
                Map.copyOf(headers),
                Json.object(body),
                cached,
                Optional.empty(),
                Optional.empty());
    }

    /**
     * {@code d} answered as an MCP server answers a request it cannot take: the same status and headers, the body a
     * JSON-RPC error response whose {@code id} is the request's ({@link HttpRequestView#jsonRpcId}: {@code null} when
     * the Check carried no body to read it from), and whose {@code data} keeps meshguard's fields (reason, request
     * id, the named extras) for operators. MCP clients read an HTTP error's body as JSON-RPC (the transport's
     * servers answer every error so), and the official conformance suite expects every error to carry the id.
     *
     * @param code the JSON-RPC error code
     * @param data the extras of {@code d}'s body to keep under {@code error.data}, besides reason and request id
     */
    static Decision jsonRpc(Decision d, HttpRequestView request, int code, Map<String, String> data) {
        Map<String, String> kept = new LinkedHashMap<>();
        kept.put("reason", d.reason().code());
        kept.putAll(data);
        kept.put("request_id", d.requestId());
        StringBuilder body = new StringBuilder("{\"jsonrpc\":\"2.0\",\"id\":")
                .append(request.jsonRpcId())
                .append(",\"error\":{\"code\":")
                .append(code)
                .append(",\"message\":");
        Json.quote(body, d.description());
        body.append(",\"data\":").append(Json.object(kept)).append("}}");
        return new Decision(
                d.allowed(),
                d.status(),
                d.reason(),
                d.description(),
                d.requestId(),
                d.route(),
                d.identity(),
                d.headersSet(),
                d.headersRemoved(),
                d.responseHeaders(),
                body.toString(),
                d.tokenFromCache(),
                d.subscription(),
                d.plan());
    }

    /** The description sits inside a quoted-string of WWW-Authenticate: no quotes or backslashes. */
    static String quotable(String s) {
        return s.replace('"', '\'').replace('\\', '/');
    }
}
