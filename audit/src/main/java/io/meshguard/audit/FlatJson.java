package io.meshguard.audit;

import io.meshguard.runtime.json.JsonStrings;
import java.util.Map;
import java.util.Optional;

/**
 * A JSON object of plain values (strings, booleans, integers) written by hand, character for character what
 * Jackson's default {@code ObjectMapper} writes for the same map (escapes {@code "}, {@code \} and control characters,
 * the short forms for {@code \b \t \n \f \r}; everything else as it is). Every authz decision's details are such a map,
 * and Jackson's generator setup was a third of building the event; other shapes go to Jackson.
 */
final class FlatJson {

    private FlatJson() {}

    /** The object's text, or empty when a value is not a string, boolean, int or long. */
    static Optional<String> write(Map<String, Object> object) {
        int size = 2;
        for (Map.Entry<String, Object> e : object.entrySet()) {
            Object v = e.getValue();
            if (!(v instanceof String || v instanceof Boolean || v instanceof Integer || v instanceof Long)) {
                return Optional.empty();
            }
            size += e.getKey().length() + 6 + (v instanceof String s ? s.length() + 2 : 8);
        }
        StringBuilder out = new StringBuilder(size);
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : object.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            string(out, e.getKey());
            out.append(':');
            Object v = e.getValue();
            if (v instanceof String s) {
                string(out, s);
            } else {
                out.append(v);
            }
        }
        return Optional.of(out.append('}').toString());
    }

    private static void string(StringBuilder out, String s) {
        JsonStrings.append(out, s);
    }
}
