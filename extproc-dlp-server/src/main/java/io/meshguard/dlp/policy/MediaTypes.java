package io.meshguard.dlp.policy;

import java.util.Locale;

/** Content-type parsing the scanner relies on. */
public final class MediaTypes {
    private MediaTypes() {}

    /** How a body of this content type is scanned. */
    public enum Kind {
        JSON, JSON_LINES, FORM, EVENT_STREAM, TEXT, NON_TEXT
    }

    /** {@code type/subtype} in lower case, without parameters; "" when absent. */
    public static String essence(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semi = contentType.indexOf(';');
        return (semi >= 0 ? contentType.substring(0, semi) : contentType).trim().toLowerCase(Locale.ROOT);
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
        return m.equals("application/grpc") || m.startsWith("application/grpc+")
                || m.equals("application/grpc-web") || m.startsWith("application/grpc-web+")
                || m.equals("application/grpc-web-text") || m.startsWith("application/grpc-web-text+");
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
        if (m.startsWith("text/") || m.equals("application/xml") || m.endsWith("+xml")
                || m.equals("application/javascript") || m.equals("application/graphql")
                || m.equals("application/yaml") || m.equals("application/x-yaml") || m.equals("application/csv")) {
            return Kind.TEXT;
        }
        return Kind.NON_TEXT;
    }
}
