package io.meshguard.dlp.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A YAML value of dlp.yaml as the JSON it stands for (a pinned tool's {@code input_schema}): mappings with string keys,
 * lists, and scalars typed as YAML resolves them (a JSON document pasted in reads the same). A key given twice, a
 * non-string key or a value nested deeper than {@code maxDepth} is a {@link Problem} naming its line.
 */
final class YamlJson {
    private YamlJson() {}

    private static final java.util.regex.Pattern JSON_NUMBER =
            java.util.regex.Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?");

    static JsonNode of(Node n, int maxDepth) {
        return convert(n, 1, maxDepth);
    }

    private static JsonNode convert(Node n, int depth, int maxDepth) {
        if (depth > maxDepth) {
            throw new Problem(n, "nested deeper than " + maxDepth + " levels");
        }
        if (n instanceof MappingNode m) {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (NodeTuple t : m.getValue()) {
                if (!(t.getKeyNode() instanceof ScalarNode k) || !k.getTag().equals(Tag.STR)) {
                    throw new Problem(t.getKeyNode(), "JSON object keys are strings");
                }
                if (out.has(k.getValue())) {
                    throw new Problem(k, "key '" + k.getValue() + "' is given twice");
                }
                out.set(k.getValue(), convert(t.getValueNode(), depth + 1, maxDepth));
            }
            return out;
        }
        if (n instanceof SequenceNode seq) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            for (Node item : seq.getValue()) {
                out.add(convert(item, depth + 1, maxDepth));
            }
            return out;
        }
        ScalarNode s = (ScalarNode) n;
        String v = s.getValue();
        Tag tag = s.getTag();
        try {
            if (tag.equals(Tag.INT)) {
                return JsonNodeFactory.instance.numberNode(new BigInteger(v.replace("_", "")));
            }
            if (tag.equals(Tag.FLOAT)) {
                return JsonNodeFactory.instance.numberNode(new BigDecimal(v.replace("_", "")));
            }
        } catch (NumberFormatException e) {
            throw new Problem(s, "'" + v + "' is not a JSON number; quote it for a string");
        }
        if (s.getScalarStyle() == DumperOptions.ScalarStyle.PLAIN
                && JSON_NUMBER.matcher(v).matches()) {
            // YAML 1.1 reads 1e5 or 1.0E10 as strings; written plain in a schema they are the JSON numbers they spell
            return JsonNodeFactory.instance.numberNode(new BigDecimal(v));
        }
        if (tag.equals(Tag.BOOL)) {
            String b = v.toLowerCase(java.util.Locale.ROOT);
            return JsonNodeFactory.instance.booleanNode(b.equals("true") || b.equals("yes") || b.equals("on"));
        }
        if (tag.equals(Tag.NULL)) {
            return JsonNodeFactory.instance.nullNode();
        }
        return JsonNodeFactory.instance.textNode(v);
    }

    /** What cannot be read as JSON, and the line it is on. */
    static final class Problem extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int line;

        Problem(Node at, String message) {
            super(message);
            this.line = at.getStartMark().getLine() + 1;
        }

        int line() {
            return line;
        }
    }
}
