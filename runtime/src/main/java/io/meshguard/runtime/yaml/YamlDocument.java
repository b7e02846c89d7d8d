package io.meshguard.runtime.yaml;

import java.io.StringReader;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Parses one YAML document into a {@link YamlNode} tree whose every value knows its file and line.
 *
 * <p>Uses SnakeYAML's composer (the node graph), never its object constructor, so no Java type is ever
 * instantiated from a document. Policy files are untrusted input, so the parse is bounded: a code point
 * limit, a nesting depth limit, a limit on aliases to collections and on the size the document expands to
 * through aliases ("billion laughs"). Duplicate keys, recursive aliases, merge keys ({@code <<}) and
 * non-scalar keys are rejected with their lines.
 */
public final class YamlDocument {
    /** Largest document accepted, in code points; policies and config files are far smaller. */
    public static final int MAX_CODE_POINTS = 4 * 1024 * 1024;
    /** Aliases to maps or lists allowed in one document; SnakeYAML's own default. */
    public static final int MAX_COLLECTION_ALIASES = 50;
    /** Nodes a document may expand to once aliases are followed. */
    public static final int MAX_EXPANDED_NODES = 1_000_000;
    /** Deepest nesting of maps and lists in the text. */
    public static final int MAX_NESTING_DEPTH = 64;

    private YamlDocument() {}

    /**
     * Parses {@code text}.
     *
     * @param sourceName the name errors show, usually the file name ({@code authz.yaml})
     * @return the root node; an empty document gives a null node ({@link YamlNode#isNull()})
     * @throws InvalidYamlException on a syntax error, a duplicate key, a recursive or excessive alias use
     */
    public static YamlNode parse(String sourceName, String text) {
        // Checked before parsing: SnakeYAML would find out only after scanning the whole oversized text.
        if (text.length() > MAX_CODE_POINTS && text.codePointCount(0, text.length()) > MAX_CODE_POINTS) {
            throw new InvalidYamlException(
                    sourceName, 0, "document too large: more than " + MAX_CODE_POINTS + " characters");
        }
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_CODE_POINTS);
        options.setMaxAliasesForCollections(MAX_COLLECTION_ALIASES);
        options.setNestingDepthLimit(MAX_NESTING_DEPTH);
        options.setAllowRecursiveKeys(false);
        options.setAllowDuplicateKeys(false);
        options.setMergeOnCompose(false);
        Node root;
        try {
            root = new Yaml(options).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            throw new InvalidYamlException(sourceName, lineOf(e), describe(e));
        } catch (YAMLException e) {
            throw new InvalidYamlException(sourceName, 0, "not valid YAML: " + e.getMessage());
        }
        if (root != null) {
            new Validation(sourceName).visit(root);
        }
        return new YamlNode(sourceName, root, 1);
    }

    private static int lineOf(MarkedYAMLException e) {
        Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
        return mark == null ? 0 : mark.getLine() + 1;
    }

    private static String describe(MarkedYAMLException e) {
        String problem = e.getProblem() == null ? "syntax error" : e.getProblem();
        String context = e.getContext();
        return context == null ? "not valid YAML: " + problem : "not valid YAML: " + context + ": " + problem;
    }

    /** One walk over the composed graph: duplicate keys, key shapes, cycles and expansion size. */
    private static final class Validation {
        private final String sourceName;
        private final Set<Node> onPath = Collections.newSetFromMap(new IdentityHashMap<>());
        private int expanded;

        Validation(String sourceName) {
            this.sourceName = sourceName;
        }

        void visit(Node node) {
            if (++expanded > MAX_EXPANDED_NODES) {
                throw new InvalidYamlException(
                        sourceName,
                        line(node),
                        "document expands to more than " + MAX_EXPANDED_NODES + " nodes through aliases");
            }
            if (!onPath.add(node)) {
                throw new InvalidYamlException(sourceName, line(node), "recursive alias: a node contains itself");
            }
            try {
                if (node instanceof MappingNode map) {
                    visitMap(map);
                } else if (node instanceof SequenceNode list) {
                    for (Node item : list.getValue()) {
                        visit(item);
                    }
                }
            } finally {
                onPath.remove(node);
            }
        }

        private void visitMap(MappingNode map) {
            Map<String, Integer> seen = new HashMap<>();
            for (NodeTuple tuple : map.getValue()) {
                Node keyNode = tuple.getKeyNode();
                if (Tag.MERGE.equals(keyNode.getTag())) {
                    throw new InvalidYamlException(
                            sourceName,
                            line(keyNode),
                            "merge keys (<<) are not supported; repeat the values or use an alias as a value");
                }
                if (!(keyNode instanceof ScalarNode scalarKey) || Tag.NULL.equals(keyNode.getTag())) {
                    throw new InvalidYamlException(sourceName, line(keyNode), "map keys must be plain strings");
                }
                String key = scalarKey.getValue();
                Integer firstLine = seen.putIfAbsent(key, line(keyNode));
                if (firstLine != null) {
                    throw new InvalidYamlException(
                            sourceName,
                            line(keyNode),
                            "duplicate key '" + key + "' (first defined on line " + firstLine + ")");
                }
                visit(tuple.getValueNode());
            }
        }

        private static int line(Node node) {
            return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
        }
    }
}
