package io.meshguard.extauthz.policy;

import java.io.Reader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a YAML document as a tree of nodes that remember their line, collecting errors instead of stopping at the
 * first one, so a person fixing a policy sees every problem in one run.
 */
final class YamlDoc {
    private final String file;
    private final List<PolicyError> errors = new ArrayList<>();

    YamlDoc(String file) {
        this.file = file;
    }

    /** Parses the text; a syntax error becomes one located error and an empty result. */
    Optional<Node> compose(Reader reader) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(20);
        options.setCodePointLimit(4 * 1024 * 1024);
        try {
            return Optional.ofNullable(new Yaml(options).compose(reader));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 1 : e.getProblemMark().getLine() + 1;
            error(line, "YAML syntax: " + e.getProblem());
            return Optional.empty();
        } catch (RuntimeException e) {
            error(1, "YAML syntax: " + e.getMessage());
            return Optional.empty();
        }
    }

    List<PolicyError> errors() {
        return errors;
    }

    String file() {
        return file;
    }

    void error(Node node, String message) {
        error(line(node), message);
    }

    void error(int line, String message) {
        errors.add(new PolicyError(file, line, message));
    }

    static int line(Node node) {
        return node.getStartMark().getLine() + 1;
    }

    /** The mapping's entries by key; unknown keys (not in {@code allowed}) are reported. */
    Map<String, Node> mapping(Node node, String what, Set<String> allowed) {
        Map<String, Node> out = new LinkedHashMap<>();
        if (!(node instanceof MappingNode mapping)) {
            error(node, what + " must be a mapping (key: value)");
            return out;
        }
        for (NodeTuple tuple : mapping.getValue()) {
            if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
                error(tuple.getKeyNode(), what + ": keys must be plain strings");
                continue;
            }
            if (out.containsKey(key.getValue()) || (allowed.isEmpty() && seen(out, key.getValue()))) {
                error(key, what + ": duplicate key '" + key.getValue() + "'");
                continue;
            }
            if (!allowed.isEmpty() && !allowed.contains(key.getValue())) {
                error(key, what + ": unknown key '" + key.getValue() + "' (allowed: " + String.join(", ", sorted(allowed)) + ")");
                continue;
            }
            out.put(key.getValue(), tuple.getValueNode());
        }
        return out;
    }

    private static boolean seen(Map<String, Node> out, String key) {
        return out.containsKey(key);
    }

    /** A mapping with free-form keys (header names, tier names) and scalar values. */
    Map<String, String> stringMap(Node node, String what) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : mapping(node, what, Set.of()).entrySet()) {
            string(e.getValue(), what + "." + e.getKey()).ifPresent(v -> out.put(e.getKey(), v));
        }
        return out;
    }

    List<Node> sequence(Node node, String what) {
        if (node instanceof SequenceNode seq) {
            return seq.getValue();
        }
        error(node, what + " must be a list");
        return List.of();
    }

    Optional<String> string(Node node, String what) {
        if (node instanceof ScalarNode scalar) {
            return Optional.of(scalar.getValue());
        }
        error(node, what + " must be a single value, not a list or mapping");
        return Optional.empty();
    }

    /** A list of strings; a single scalar is accepted as a one-element list because people write it that way. */
    List<String> strings(Node node, String what) {
        List<String> out = new ArrayList<>();
        if (node instanceof ScalarNode scalar) {
            out.add(scalar.getValue());
            return out;
        }
        for (Node item : sequence(node, what)) {
            string(item, what + " item").ifPresent(out::add);
        }
        return out;
    }

    Optional<Boolean> bool(Node node, String what) {
        return string(node, what).flatMap(v -> switch (v.toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on" -> Optional.of(true);
            case "false", "no", "off" -> Optional.of(false);
            default -> {
                error(node, what + " must be true or false, got '" + v + "'");
                yield Optional.empty();
            }
        });
    }

    Optional<Long> positiveLong(Node node, String what) {
        return string(node, what).flatMap(v -> {
            try {
                long n = Long.parseLong(v.trim());
                if (n > 0) {
                    return Optional.of(n);
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            error(node, what + " must be a whole number > 0, got '" + v + "'");
            return Optional.empty();
        });
    }

    Optional<Double> positiveDouble(Node node, String what) {
        return string(node, what).flatMap(v -> {
            try {
                double n = Double.parseDouble(v.trim());
                if (n > 0 && Double.isFinite(n)) {
                    return Optional.of(n);
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            error(node, what + " must be a number > 0, got '" + v + "'");
            return Optional.empty();
        });
    }

    /** Durations as people write them: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 7d}. */
    Optional<java.time.Duration> duration(Node node, String what) {
        return string(node, what).flatMap(v -> {
            Optional<java.time.Duration> d = Durations.parse(v);
            if (d.isEmpty()) {
                error(node, what + " must be a duration like 500ms, 30s, 5m, 1h or 7d, got '" + v + "'");
            }
            return d;
        });
    }

    private static List<String> sorted(Set<String> set) {
        List<String> list = new ArrayList<>(set);
        list.sort(null);
        return list;
    }
}
