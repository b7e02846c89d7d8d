package io.meshguard.dlp.policy;

import java.util.Locale;
import java.util.Optional;

/** Content-type parsing the scanner relies on. */
public final class MediaTypes {
    private MediaTypes() {}

    /** How a body of this content type is scanned. */
    public enum Kind {
        JSON,
        JSON_LINES,
        FORM,
        EVENT_STREAM,
        TEXT,
        NON_TEXT
    }

    /** {@code type/subtype} in lower case, without parameters; "" when absent. */
    public static String essence(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semi = contentType.indexOf(';');
        return (semi >= 0 ? contentType.substring(0, semi) : contentType).trim().toLowerCase(Locale.ROOT);
    }

    /** True for {@code multipart/*} (form-data, mixed, related, …) in any case, with any parameters. */
    public static boolean isMultipart(String contentType) {
        return essence(contentType).startsWith("multipart/");
    }

    /**
     * A parameter of a media type ({@code charset}, {@code boundary}), RFC 9110 §5.6.6: name case-insensitive,
     * value a token or a quoted string (quotes and backslash escapes removed), white space around {@code ;} and
     * {@code =} tolerated as lenient parsers tolerate it. The first occurrence wins; empty when absent.
     */
    public static Optional<String> parameter(String contentType, String name) {
        if (contentType == null) {
            return Optional.empty();
        }
        int i = contentType.indexOf(';');
        int n = contentType.length();
        while (i >= 0 && i < n) {
            i++; // past ';'
            int eq = contentType.indexOf('=', i);
            int semi = contentType.indexOf(';', i);
            if (eq < 0 || (semi >= 0 && semi < eq)) {
                i = semi;
                continue;
            }
            String key = contentType.substring(i, eq).trim();
            int v = eq + 1;
            while (v < n && (contentType.charAt(v) == ' ' || contentType.charAt(v) == '\t')) {
                v++;
            }
            String value;
            int next;
            if (v < n && contentType.charAt(v) == '"') {
                StringBuilder sb = new StringBuilder();
                int k = v + 1;
                while (k < n && contentType.charAt(k) != '"') {
                    char c = contentType.charAt(k);
                    if (c == '\\' && k + 1 < n) {
                        c = contentType.charAt(++k);
                    }
                    sb.append(c);
                    k++;
                }
                value = sb.toString();
                next = contentType.indexOf(';', Math.min(n, k + 1));
            } else {
                next = contentType.indexOf(';', v);
                value = (next < 0 ? contentType.substring(v) : contentType.substring(v, next)).trim();
            }
            if (key.equalsIgnoreCase(name)) {
                return Optional.of(value);
            }
            i = next;
        }
        return Optional.empty();
    }

    /** The same label with its charset parameter(s) replaced by {@code charset=utf-8} (other parameters kept). */
    public static String withCharsetUtf8(String contentType) {
        StringBuilder sb = new StringBuilder();
        String[] parts = contentType.split(";");
        sb.append(parts[0].trim());
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim();
            int eq = p.indexOf('=');
            if (p.isEmpty() || (eq > 0 && p.substring(0, eq).trim().equalsIgnoreCase("charset"))) {
                continue;
            }
            sb.append("; ").append(p);
        }
        return sb.append("; charset=utf-8").toString();
    }

    /**
     * True for gRPC and gRPC-Web bodies: {@code application/grpc}, {@code application/grpc+proto} (any
     * {@code +suffix}), {@code application/grpc-web}, {@code application/grpc-web+proto},
     * {@code application/grpc-web-text} (base64 of the same frames), in any case, with any parameters.
     */
    public static boolean isGrpc(String contentType) {
        return isGrpcEssence(essence(contentType));
    }

    private static boolean isGrpcEssence(String m) {
        return m.equals("application/grpc")
                || m.startsWith("application/grpc+")
                || m.equals("application/grpc-web")
                || m.startsWith("application/grpc-web+")
                || m.equals("application/grpc-web-text")
                || m.startsWith("application/grpc-web-text+");
    }

    /**
     * The scan kind. A body without a content type is scanned as text: not knowing what it is must not mean letting
     * it through unscanned.
     */
    public static Kind kind(String contentType) {
        String m = essence(contentType);
        if (m.isEmpty()) {
            return Kind.TEXT;
        }
        if (isGrpcEssence(m)) {
            return Kind.NON_TEXT; // length-prefixed frames, even application/grpc+json: not a JSON document
        }
        if (m.equals("application/x-ndjson") || m.equals("application/jsonl") || m.equals("application/x-jsonlines")) {
            return Kind.JSON_LINES;
        }
        if (m.equals("application/json") || m.endsWith("+json") || m.equals("text/json")) {
            return Kind.JSON;
        }
        if (m.equals("application/x-www-form-urlencoded")) {
            return Kind.FORM;
        }
        if (m.equals("text/event-stream")) {
            return Kind.EVENT_STREAM;
        }
        if (m.startsWith("text/")
                || m.equals("application/xml")
                || m.endsWith("+xml")
                || m.equals("application/javascript")
                || m.equals("application/graphql")
                || m.equals("application/yaml")
                || m.equals("application/x-yaml")
                || m.equals("application/csv")) {
            return Kind.TEXT;
        }
        return Kind.NON_TEXT;
    }
}
