package io.meshguard.runtime.yaml;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A value in a parsed YAML document that knows where it came from ({@link #location()} gives
 * {@code authz.yaml:12}). Accessors convert or fail with an {@link InvalidYamlException} that names the line,
 * so parsers read like {@code rule.get("match").get("path").asString()} and still report precise errors.
 *
 * <p>Conversions are strict on purpose: {@link #asBoolean()} accepts only {@code true}/{@code false} (never
 * YAML 1.1's {@code yes}/{@code on}), numbers must be decimal integers.
 */
public final class YamlNode {
    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9][0-9_]*");
    private static final Pattern DECIMAL =
            Pattern.compile("[-+]?([0-9][0-9_]*(\\.[0-9_]*)?|\\.[0-9][0-9_]*)([eE][-+]?[0-9]+)?");

    /** The shape of a node. */
    public enum Kind {
        MAP("a map"),
        LIST("a list"),
        SCALAR("a scalar value"),
        NULL("an empty value");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        /** "a map", "a list", ... for error messages. */
        public String description() {
            return description;
        }
    }

    private final String sourceName;
    private final Node node;
    private final int fallbackLine;

    YamlNode(String sourceName, Node node, int fallbackLine) {
        this.sourceName = sourceName;
        this.node = node;
        this.fallbackLine = fallbackLine;
    }

    /** The file name given to the parser. */
    public String sourceName() {
        return sourceName;
    }

    /** 1-based line where this value starts. */
    public int line() {
        return node == null || node.getStartMark() == null
                ? fallbackLine
                : node.getStartMark().getLine() + 1;
    }

    /** 1-based column where this value starts. */
    public int column() {
        return node == null || node.getStartMark() == null
                ? 1
                : node.getStartMark().getColumn() + 1;
    }

    /** {@code authz.yaml:12}. */
    public String location() {
        return sourceName + ":" + line();
    }

    /** What shape this value has. */
    public Kind kind() {
        if (node == null) {
            return Kind.NULL;
        }
        return switch (node) {
            case MappingNode m -> Kind.MAP;
            case SequenceNode s -> Kind.LIST;
            case ScalarNode s when Tag.NULL.equals(s.getTag()) -> Kind.NULL;
            default -> Kind.SCALAR;
        };
    }

    /** True for a map (YAML mapping). */
    public boolean isMap() {
        return kind() == Kind.MAP;
    }

    /** True for a list (YAML sequence). */
    public boolean isList() {
        return kind() == Kind.LIST;
    }

    /** True for a non-null scalar (text, number, boolean). */
    public boolean isScalar() {
        return kind() == Kind.SCALAR;
    }

    /** True for an empty value, {@code ~} or {@code null}. */
    public boolean isNull() {
        return kind() == Kind.NULL;
    }

    /** An error located at this node, for the caller to throw: {@code throw node.error("unknown role")}. */
    public InvalidYamlException error(String reason) {
        return new InvalidYamlException(sourceName, line(), reason);
    }

    /** The value of a required key of this map; fails at this map's line when it is missing. */
    public YamlNode get(String key) {
        return findEntry(key).map(YamlEntry::value).orElseThrow(() -> error("missing required key '" + key + "'"));
    }

    /** The value of an optional key; empty when the key is absent or its value is empty/null. */
    public Optional<YamlNode> optional(String key) {
        return findEntry(key).map(YamlEntry::value).filter(v -> !v.isNull());
    }

    /** Whether this map has {@code key} (even with an empty value). */
    public boolean has(String key) {
        return findEntry(key).isPresent();
    }

    /** The entries of this map in document order. */
    public List<YamlEntry> entries() {
        MappingNode map = expect(Kind.MAP, MappingNode.class);
        List<YamlEntry> entries = new ArrayList<>(map.getValue().size());
        for (NodeTuple tuple : map.getValue()) {
            YamlNode key = child(tuple.getKeyNode());
            YamlNode value = new YamlNode(sourceName, tuple.getValueNode(), key.line());
            entries.add(new YamlEntry(key, value));
        }
        return Collections.unmodifiableList(entries);
    }

    /** The keys of this map in document order. */
    public List<String> keys() {
        return entries().stream().map(YamlEntry::name).toList();
    }

    /** This map as an ordered, unmodifiable map. */
    public Map<String, YamlNode> asMap() {
        Map<String, YamlNode> result = new LinkedHashMap<>();
        for (YamlEntry entry : entries()) {
            result.put(entry.name(), entry.value());
        }
        return Collections.unmodifiableMap(result);
    }

    /** This list's items; an empty value counts as an empty list. */
    public List<YamlNode> asList() {
        if (isNull()) {
            return List.of();
        }
        SequenceNode list = expect(Kind.LIST, SequenceNode.class);
        return list.getValue().stream().map(this::child).toList();
    }

    /** This list's items as strings. */
    public List<String> asStringList() {
        return asList().stream().map(YamlNode::asString).toList();
    }

    /** This scalar as text (numbers and booleans included, as written). */
    public String asString() {
        if (kind() != Kind.SCALAR) {
            throw error("expected a string, found " + kind().description());
        }
        return ((ScalarNode) node).getValue();
    }

    /** This scalar as a decimal integer within {@code int} range. */
    public int asInt() {
        long value = asLong();
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw error("integer out of range: " + value);
        }
        return (int) value;
    }

    /** This scalar as a decimal integer ({@code _} separators allowed, like {@code 1_000}). */
    public long asLong() {
        String text = expectText("an integer");
        if (!INTEGER.matcher(text).matches()) {
            throw error("expected an integer, found '" + text + "'");
        }
        try {
            return Long.parseLong(text.replace("_", ""));
        } catch (NumberFormatException e) {
            throw error("integer out of range: " + text);
        }
    }

    /** This scalar as a finite decimal number ({@code 0.25}, {@code 1e-3}). */
    public double asDouble() {
        String text = expectText("a number");
        if (!DECIMAL.matcher(text).matches()) {
            throw error("expected a number, found '" + text + "'");
        }
        double value = Double.parseDouble(text.replace("_", ""));
        if (!Double.isFinite(value)) {
            throw error("number out of range: " + text);
        }
        return value;
    }

    /** This scalar as {@code true} or {@code false} (any case); {@code yes}/{@code no}/{@code on}/{@code off} are rejected. */
    public boolean asBoolean() {
        String text = expectText("true or false");
        if (text.equalsIgnoreCase("true")) {
            return true;
        }
        if (text.equalsIgnoreCase("false")) {
            return false;
        }
        throw error("expected true or false, found '" + text + "'");
    }

    /**
     * Fails at the first key of this map that is not in {@code allowed}, suggesting the closest allowed key.
     */
    public void checkKeys(Collection<String> allowed) {
        for (YamlEntry entry : entries()) {
            if (!allowed.contains(entry.name())) {
                throw entry.key()
                        .error("unknown key '" + entry.name() + "'" + NearestName.hint(entry.name(), allowed)
                                + "; expected one of " + String.join(", ", allowed));
            }
        }
    }

    @Override
    public String toString() {
        return location() + " (" + kind().description() + ")";
    }

    private Optional<YamlEntry> findEntry(String key) {
        for (YamlEntry entry : entries()) {
            if (entry.name().equals(key)) {
                return Optional.of(entry);
            }
        }
        return Optional.empty();
    }

    private String expectText(String expected) {
        if (kind() != Kind.SCALAR) {
            throw error("expected " + expected + ", found " + kind().description());
        }
        return ((ScalarNode) node).getValue().trim();
    }

    private <N extends Node> N expect(Kind kind, Class<N> type) {
        Kind actual = kind();
        if (actual != kind) {
            throw error("expected " + kind.description() + ", found " + actual.description());
        }
        return type.cast(node);
    }

    private YamlNode child(Node child) {
        return new YamlNode(sourceName, child, line());
    }
}
