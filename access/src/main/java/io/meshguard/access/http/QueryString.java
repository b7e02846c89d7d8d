package io.meshguard.access.http;

import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.ErrorKind;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one parser of {@code name=value&…} text on the admin ports: a request's query, and the console's form bodies.
 * The first value of a name wins; a malformed percent-escape is refused (400), never guessed at.
 */
public final class QueryString {
    private QueryString() {}

    /** The fields of {@code raw} (null or empty: none). */
    public static Map<String, String> parse(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String part : raw.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String name = decode(eq < 0 ? part : part.substring(0, eq), "a field name");
            String value = eq < 0 ? "" : part.substring(eq + 1);
            out.putIfAbsent(name, decode(value, "field '" + name + "'"));
        }
        return out;
    }

    /** {@code text} percent-decoded; a malformed escape is a refusal naming {@code what}. */
    static String decode(String text, String what) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, what + " is not valid percent-encoding");
        }
    }
}
