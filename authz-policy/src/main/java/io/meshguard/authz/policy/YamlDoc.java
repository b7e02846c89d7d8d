package io.meshguard.authz.policy;

import io.meshguard.runtime.yaml.InvalidYamlException;
import io.meshguard.runtime.yaml.YamlDocument;
import io.meshguard.runtime.yaml.YamlEntry;
import io.meshguard.runtime.yaml.YamlNode;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a policy through the runtime's bounded YAML parser ({@link YamlDocument}: size, depth and alias limits,
 * duplicate keys refused) and checks its shape, collecting errors instead of stopping at the first one, so a person
 * fixing a policy sees every problem in one run.
 */
final class YamlDoc {
    private final String file;
    private final List<PolicyError> errors = new ArrayList<>();

    YamlDoc(String file) {
        this.file = file;
    }

    /** Parses the text; a syntax error becomes one located error and an empty result, as does an empty file. */
    Optional<YamlNode> compose(Reader reader) {
        try {
            StringBuilder text = new StringBuilder();
            char[] buf = new char[8192];
            for (int n; (n = reader.read(buf)) > 0; ) {
                text.append(buf, 0, n);
            }
            YamlNode root = YamlDocument.parse(file, text.toString());
            return root.isNull() ? Optional.empty() : Optional.of(root);
        } catch (InvalidYamlException e) {
            error(Math.max(1, e.line()), "YAML syntax: " + e.reason());
            return Optional.empty();
        } catch (IOException e) {
            error(1, "cannot read: " + e.getMessage());
            return Optional.empty();
        }
    }

    List<PolicyError> errors() {
        return errors;
    }

    String file() {
        return file;
    }

    void error(YamlNode node, String message) {
        error(node.line(), message);
    }

    void error(int line, String message) {
        errors.add(new PolicyError(file, line, message));
    }

    static int line(YamlNode node) {
        return node.line();
    }

    /** The mapping's entries by key; unknown keys (not in {@code allowed}) are reported. */
    Map<String, YamlNode> mapping(YamlNode node, String what, Set<String> allowed) {
        Map<String, YamlNode> out = new LinkedHashMap<>();
        if (!node.isMap()) {
            error(node, what + " must be a mapping (key: value)");
            return out;
        }
        // Duplicate and non-string keys were refused by the parser.
        for (YamlEntry entry : node.entries()) {
            if (!allowed.isEmpty() && !allowed.contains(entry.name())) {
                error(
                        entry.key(),
                        what + ": unknown key '" + entry.name() + "' (allowed: " + String.join(", ", sorted(allowed))
                                + ")");
                continue;
            }
            out.put(entry.name(), entry.value());
        }
        return out;
    }

    /** A mapping with free-form keys (header names, tier names) and scalar values. */
    Map<String, String> stringMap(YamlNode node, String what) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, YamlNode> e : mapping(node, what, Set.of()).entrySet()) {
            string(e.getValue(), what + "." + e.getKey()).ifPresent(v -> out.put(e.getKey(), v));
        }
        return out;
    }

    List<YamlNode> sequence(YamlNode node, String what) {
        if (node.isList()) {
            return node.asList();
        }
        error(node, what + " must be a list");
        return List.of();
    }

    /** A scalar's text; an empty value ({@code key:}) reads as "" so the caller's own check names the key. */
    Optional<String> string(YamlNode node, String what) {
        if (node.isScalar()) {
            return Optional.of(node.asString());
        }
        if (node.isNull()) {
            return Optional.of("");
        }
        error(node, what + " must be a single value, not a list or mapping");
        return Optional.empty();
    }

    /** A list of strings; a single scalar is accepted as a one-element list because people write it that way. */
    List<String> strings(YamlNode node, String what) {
        List<String> out = new ArrayList<>();
        if (node.isScalar()) {
            out.add(node.asString());
            return out;
        }
        for (YamlNode item : sequence(node, what)) {
            string(item, what + " item").ifPresent(out::add);
        }
        return out;
    }

    Optional<Boolean> bool(YamlNode node, String what) {
        return string(node, what).flatMap(v -> switch (v.toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on" -> Optional.of(true);
            case "false", "no", "off" -> Optional.of(false);
            default -> {
                error(node, what + " must be true or false, got '" + v + "'");
                yield Optional.empty();
            }
        });
    }

    Optional<Long> positiveLong(YamlNode node, String what) {
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

    Optional<Double> positiveDouble(YamlNode node, String what) {
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
    Optional<java.time.Duration> duration(YamlNode node, String what) {
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
