package io.meshguard.dlp.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * JSON written two ways from one walk: canonical (keys sorted, numbers by value, no spaces), what a tool's digest is
 * taken of; and spaced (keys in their order, a space after each colon and comma), a YAML flow collection any YAML 1.1
 * reader takes as the same JSON.
 */
final class JsonText {
    private JsonText() {}

    static String canonical(JsonNode n) {
        StringBuilder out = new StringBuilder();
        write(n, out, true);
        return out.toString();
    }

    static String spaced(JsonNode n) {
        StringBuilder out = new StringBuilder();
        write(n, out, false);
        return out.toString();
    }

    private static void write(JsonNode n, StringBuilder out, boolean canonical) {
        String comma = canonical ? "," : ", ";
        if (n.isObject()) {
            List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(n.properties());
            if (canonical) {
                fields.sort(Map.Entry.comparingByKey());
            }
            out.append('{');
            for (int i = 0; i < fields.size(); i++) {
                out.append(i > 0 ? comma : "")
                        .append(JsonNodeFactory.instance.textNode(fields.get(i).getKey()))
                        .append(canonical ? ":" : ": ");
                write(fields.get(i).getValue(), out, canonical);
            }
            out.append('}');
        } else if (n.isArray()) {
            out.append('[');
            for (int i = 0; i < n.size(); i++) {
                out.append(i > 0 ? comma : "");
                write(n.get(i), out, canonical);
            }
            out.append(']');
        } else if (n.isNumber() && canonical) {
            // BigDecimal's own form: 1, 1.0 and 1e0 are one value; never expanded to plain digits (1e999999 stays
            // short)
            out.append(n.decimalValue().stripTrailingZeros().toString());
        } else {
            out.append(n);
        }
    }
}
