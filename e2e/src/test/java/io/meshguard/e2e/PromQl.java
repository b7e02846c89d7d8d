package io.meshguard.e2e;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the names a PromQL expression depends on, without evaluating it: every metric it selects (with the labels
 * its matchers name), and every label its grouping clauses name ({@code by}, {@code without}, {@code on},
 * {@code ignoring}, {@code group_left}, {@code group_right}). Function names, aggregation operators, keywords,
 * numbers, durations, strings, range and subquery brackets and Grafana variables ({@code $__rate_interval},
 * {@code ${datasource}}) are not names. Labels that {@code label_replace}, {@code label_join} or
 * {@code count_values} create inside the expression are reported apart, since no server needs to expose them.
 *
 * <p>Grammar followed: Prometheus' {@code promql/parser/lex.go} and {@code generated_parser.y} (identifiers
 * {@code [a-zA-Z_:][a-zA-Z0-9_:]*}, label names without {@code :}, the three string quotes, keywords). A reader,
 * not a parser: it does not check that the expression is well formed beyond balanced brackets and matchers.
 */
final class PromQl {
    /**
     * A metric selector: the metric's name, the label names its matchers use, and the values its equality matchers
     * ({@code label="value"}) require.
     */
    record Selector(String metric, Set<String> labels, java.util.Map<String, String> equals) {
        Selector(String metric, Set<String> labels) {
            this(metric, labels, java.util.Map.of());
        }
    }

    /** What an expression depends on. */
    record Refs(List<Selector> selectors, Set<String> groupingLabels, Set<String> createdLabels) {
        Set<String> metrics() {
            Set<String> names = new LinkedHashSet<>();
            selectors.forEach(s -> names.add(s.metric()));
            return names;
        }
    }

    /** Aggregation operators and binary/modifier keywords: never metric names (lex.go's key and ItemType lists). */
    private static final Set<String> KEYWORDS = Set.of(
            "sum",
            "avg",
            "count",
            "min",
            "max",
            "group",
            "stddev",
            "stdvar",
            "topk",
            "bottomk",
            "count_values",
            "quantile",
            "limitk",
            "limit_ratio",
            "and",
            "or",
            "unless",
            "atan2",
            "offset",
            "by",
            "without",
            "on",
            "ignoring",
            "group_left",
            "group_right",
            "bool",
            "inf",
            "nan");

    private static final Set<String> LABEL_LISTS =
            Set.of("by", "without", "on", "ignoring", "group_left", "group_right");

    private PromQl() {}

    private enum Kind {
        IDENT,
        STRING,
        NUMBER,
        VARIABLE,
        PUNCT
    }

    private record Token(Kind kind, String text) {}

    static Refs read(String expr) {
        List<Token> tokens = lex(expr);
        List<Selector> selectors = new ArrayList<>();
        Set<String> grouping = new LinkedHashSet<>();
        Set<String> created = new LinkedHashSet<>();
        int i = 0;
        while (i < tokens.size()) {
            Token t = tokens.get(i);
            Token next = i + 1 < tokens.size() ? tokens.get(i + 1) : null;
            if (t.kind() == Kind.PUNCT && t.text().equals("[")) {
                i = skipBrackets(tokens, i); // range or subquery: durations, steps, variables
                continue;
            }
            if (t.kind() == Kind.PUNCT && t.text().equals("{")) {
                // a selector without a metric name: {__name__="x", ...}
                i = matchers(tokens, i, null, selectors, expr);
                continue;
            }
            if (t.kind() != Kind.IDENT) {
                i++;
                continue;
            }
            String word = t.text();
            boolean call =
                    next != null && next.kind() == Kind.PUNCT && next.text().equals("(");
            if (LABEL_LISTS.contains(word)) {
                if (call) {
                    i = labelList(tokens, i + 1, grouping, expr);
                } else {
                    i++; // group_left without a list
                }
                continue;
            }
            if (KEYWORDS.contains(word.toLowerCase(java.util.Locale.ROOT))) {
                i++;
                continue;
            }
            if (call) {
                if (word.equals("label_replace") || word.equals("label_join")) {
                    // label_replace(v, "dst", "replacement", "src", "regex"); label_join(v, "dst", "sep", "src"...)
                    List<String> strings = stringArguments(tokens, i + 1);
                    if (!strings.isEmpty()) {
                        created.add(strings.get(0));
                    }
                    if (word.equals("label_replace") && strings.size() >= 3) {
                        grouping.add(strings.get(2));
                    } else if (word.equals("label_join")) {
                        grouping.addAll(strings.subList(Math.min(2, strings.size()), strings.size()));
                    }
                }
                i++; // a function name
                continue;
            }
            if (next != null && next.kind() == Kind.PUNCT && next.text().equals("{")) {
                i = matchers(tokens, i + 1, word, selectors, expr);
            } else {
                selectors.add(new Selector(word, Set.of()));
                i++;
            }
        }
        // count_values("label", v) creates its first argument as a label
        for (int k = 0; k + 2 < tokens.size(); k++) {
            if (tokens.get(k).text().equals("count_values") && tokens.get(k + 2).kind() == Kind.STRING) {
                created.add(tokens.get(k + 2).text());
            }
        }
        grouping.removeAll(created);
        return new Refs(List.copyOf(selectors), grouping, created);
    }

    /** Reads {@code {name op "value", ...}} starting at the brace; returns the index after the closing brace. */
    private static int matchers(List<Token> tokens, int brace, String metric, List<Selector> out, String expr) {
        Set<String> labels = new LinkedHashSet<>();
        java.util.Map<String, String> equals = new java.util.LinkedHashMap<>();
        String name = metric;
        int i = brace + 1;
        while (i < tokens.size() && !tokens.get(i).text().equals("}")) {
            Token label = tokens.get(i);
            if (label.kind() == Kind.PUNCT && label.text().equals(",")) {
                i++;
                continue;
            }
            if (label.kind() != Kind.IDENT
                    || i + 2 >= tokens.size()
                    || tokens.get(i + 2).kind() != Kind.STRING) {
                throw new IllegalArgumentException("cannot read the label matchers of: " + expr);
            }
            String op = tokens.get(i + 1).text();
            if (label.text().equals("__name__")) {
                if (!op.equals("=")) {
                    throw new IllegalArgumentException("a metric name matched by regex cannot be checked: " + expr);
                }
                name = tokens.get(i + 2).text();
            } else {
                labels.add(label.text());
                if (op.equals("=")) {
                    equals.put(label.text(), tokens.get(i + 2).text());
                }
            }
            i += 3;
        }
        if (i >= tokens.size()) {
            throw new IllegalArgumentException("unclosed '{' in: " + expr);
        }
        if (name == null) {
            throw new IllegalArgumentException("a selector without a metric name: " + expr);
        }
        out.add(new Selector(name, Set.copyOf(labels), java.util.Map.copyOf(equals)));
        return i + 1;
    }

    /** Reads {@code (a, b)} starting at the parenthesis; returns the index after it. */
    private static int labelList(List<Token> tokens, int paren, Set<String> out, String expr) {
        int i = paren + 1;
        while (i < tokens.size() && !tokens.get(i).text().equals(")")) {
            Token t = tokens.get(i);
            if (t.kind() == Kind.IDENT) {
                out.add(t.text());
            } else if (!t.text().equals(",")) {
                throw new IllegalArgumentException("unexpected '" + t.text() + "' in a label list of: " + expr);
            }
            i++;
        }
        if (i >= tokens.size()) {
            throw new IllegalArgumentException("unclosed label list in: " + expr);
        }
        return i + 1;
    }

    /** The string literals directly inside the call's parentheses (not inside nested calls). */
    private static List<String> stringArguments(List<Token> tokens, int paren) {
        List<String> strings = new ArrayList<>();
        int depth = 0;
        for (int i = paren; i < tokens.size(); i++) {
            String text = tokens.get(i).text();
            if (tokens.get(i).kind() == Kind.PUNCT && (text.equals("(") || text.equals("{") || text.equals("["))) {
                depth++;
            } else if (tokens.get(i).kind() == Kind.PUNCT
                    && (text.equals(")") || text.equals("}") || text.equals("]"))) {
                if (--depth == 0) {
                    break;
                }
            } else if (depth == 1 && tokens.get(i).kind() == Kind.STRING) {
                strings.add(text);
            }
        }
        return strings;
    }

    private static int skipBrackets(List<Token> tokens, int open) {
        for (int i = open + 1; i < tokens.size(); i++) {
            if (tokens.get(i).text().equals("]") && tokens.get(i).kind() == Kind.PUNCT) {
                return i + 1;
            }
        }
        throw new IllegalArgumentException("unclosed '['");
    }

    private static List<Token> lex(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#') { // comment to the end of the line
                while (i < s.length() && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '"' || c == '\'' || c == '`') {
                StringBuilder value = new StringBuilder();
                int j = i + 1;
                while (j < s.length() && s.charAt(j) != c) {
                    if (s.charAt(j) == '\\' && c != '`' && j + 1 < s.length()) {
                        j++;
                    }
                    value.append(s.charAt(j));
                    j++;
                }
                if (j >= s.length()) {
                    throw new IllegalArgumentException("unclosed string in: " + s);
                }
                out.add(new Token(Kind.STRING, value.toString()));
                i = j + 1;
            } else if (c == '$') { // Grafana variable: $name, ${name}, ${name:format}
                int j = i + 1;
                if (j < s.length() && s.charAt(j) == '{') {
                    j = s.indexOf('}', j) + 1;
                    if (j == 0) {
                        throw new IllegalArgumentException("unclosed ${ in: " + s);
                    }
                } else {
                    while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                        j++;
                    }
                }
                out.add(new Token(Kind.VARIABLE, s.substring(i, j)));
                i = j;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
                // numbers (1, 0.7, 1e3, 0x1f) and durations (5m, 1h30m): letters and digits run together
                int j = i;
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '.')) {
                    j++;
                }
                out.add(new Token(Kind.NUMBER, s.substring(i, j)));
                i = j;
            } else if (Character.isLetter(c) || c == '_' || c == ':') {
                int j = i;
                while (j < s.length()
                        && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_' || s.charAt(j) == ':')) {
                    j++;
                }
                out.add(new Token(Kind.IDENT, s.substring(i, j)));
                i = j;
            } else {
                // operators and brackets; two-character ones kept whole (=~ != !~ == >= <=)
                String two = i + 1 < s.length() ? s.substring(i, i + 2) : "";
                if (List.of("=~", "!=", "!~", "==", ">=", "<=").contains(two)) {
                    out.add(new Token(Kind.PUNCT, two));
                    i += 2;
                } else {
                    out.add(new Token(Kind.PUNCT, String.valueOf(c)));
                    i++;
                }
            }
        }
        return out;
    }
}
