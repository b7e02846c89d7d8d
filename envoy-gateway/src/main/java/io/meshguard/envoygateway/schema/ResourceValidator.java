package io.meshguard.envoygateway.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks a resource as the Kubernetes API server would on a create or server-side apply with strict field validation:
 * schema defaults applied first, then the structural schema (types, enums, required, patterns, lengths, bounds, list
 * types, formats, unknown fields refused, {@code allOf}/{@code anyOf}/{@code oneOf}/{@code not}), the ObjectMeta
 * rules for name and labels, and every {@code x-kubernetes-validations} CEL rule on the present nodes. Transition
 * rules ({@code oldSelf}) run only when the stored object is given and the node correlates, as on an update. A rule that
 * cannot be evaluated is a problem, never a pass.
 */
public final class ResourceValidator {

    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    private static final Pattern QUALIFIED_NAME = Pattern.compile("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$");
    private static final Set<String> CEL_RESERVED = Set.of(
            "true",
            "false",
            "null",
            "in",
            "as",
            "break",
            "const",
            "continue",
            "else",
            "for",
            "function",
            "if",
            "import",
            "let",
            "loop",
            "package",
            "namespace",
            "return",
            "var",
            "void",
            "while");
    private static final Pattern CEL_ACCESSIBLE = Pattern.compile("^[a-zA-Z_./-][a-zA-Z0-9_./-]*$");

    private final CrdSchemas schemas;
    private final CelRules rules = new CelRules();
    private final Map<String, Optional<Pattern>> patterns = new ConcurrentHashMap<>();

    public ResourceValidator(CrdSchemas schemas) {
        this.schemas = schemas;
    }

    public CrdSchemas schemas() {
        return schemas;
    }

    /** Problems of {@code resource} as a new object; empty when the API server would accept it. */
    public List<SchemaProblem> validate(JsonNode resource) {
        return validate(resource, Optional.empty());
    }

    /**
     * Problems of {@code resource} replacing {@code stored} (transition rules run where the two correlate); empty when
     * the API server would accept it.
     */
    public List<SchemaProblem> validate(JsonNode resource, Optional<JsonNode> stored) {
        String kind = resource.path("kind").asText("");
        String name = resource.path("metadata").path("name").asText("");
        Walk walk = new Walk(kind + "/" + name);
        Optional<CrdSchema> crd = schemas.schemaFor(resource.path("apiVersion").asText(""), kind);
        if (crd.isEmpty()) {
            walk.problem(
                    "",
                    "no CRD for " + resource.path("apiVersion").asText("?") + " " + kind + " in Gateway API "
                            + CrdSchemas.GATEWAY_API_VERSION + " ("
                            + schemas.channel().folder() + ") or Envoy Gateway "
                            + CrdSchemas.ENVOY_GATEWAY_VERSION);
            return walk.problems;
        }
        metadata(resource.path("metadata"), walk);
        JsonNode schema = crd.get().openApiV3Schema();
        JsonNode defaulted = resource.deepCopy();
        applyDefaults(defaulted, schema);
        Optional<JsonNode> old = stored.map(JsonNode::deepCopy);
        old.ifPresent(o -> applyDefaults(o, schema));
        // apiVersion, kind and metadata are the API server's (ObjectMeta), checked above; the rest is the CRD's
        ObjectNode body = ((ObjectNode) defaulted).deepCopy();
        body.remove(List.of("apiVersion", "kind", "metadata"));
        ObjectNode bodySchema = ((ObjectNode) schema).deepCopy();
        bodySchema.remove("x-kubernetes-validations");
        check(body, bodySchema, old.map(o -> (JsonNode) o), "", walk, true);
        // root-level rules see the whole object, of metadata only name and generateName
        rules(schema, defaulted, old, "", walk, true);
        return walk.problems;
    }

    /** Every rule of every bundled CRD that cannot be evaluated here, as {@code Kind: rule: why}; empty is the aim. */
    public List<String> unevaluableRules() {
        Set<String> out = new TreeSet<>();
        for (CrdSchema crd : schemas.all()) {
            collectRules(crd.openApiV3Schema(), rule -> rules.compileError(rule)
                    .ifPresent(why -> out.add(crd.kind() + ": " + rule + ": " + why)));
        }
        return List.copyOf(out);
    }

    /** Every rule of the bundled CRDs (for counts in tests and docs). */
    public int ruleCount() {
        int[] n = {0};
        for (CrdSchema crd : schemas.all()) {
            collectRules(crd.openApiV3Schema(), r -> n[0]++);
        }
        return n[0];
    }

    private static void collectRules(JsonNode schema, java.util.function.Consumer<String> sink) {
        if (schema.isObject()) {
            for (JsonNode v : schema.path("x-kubernetes-validations")) {
                sink.accept(v.path("rule").asText());
            }
            schema.properties().forEach(e -> {
                if (e.getKey().equals("properties")) {
                    e.getValue().forEach(p -> collectRules(p, sink));
                } else if (!e.getKey().equals("x-kubernetes-validations")
                        && !e.getKey().equals("default")
                        && !e.getKey().equals("enum")) {
                    collectRules(e.getValue(), sink);
                }
            });
        } else if (schema.isArray()) {
            schema.forEach(s -> collectRules(s, sink));
        }
    }

    private static final class Walk {
        final String resource;
        final List<SchemaProblem> problems = new ArrayList<>();

        Walk(String resource) {
            this.resource = resource;
        }

        void problem(String path, String message) {
            problems.add(new SchemaProblem(resource, path, message));
        }
    }

    // ---- ObjectMeta -------------------------------------------------------------------------------------------

    private static void metadata(JsonNode meta, Walk walk) {
        String name = meta.path("name").asText("");
        if (name.isEmpty()) {
            walk.problem("/metadata/name", "name is required");
        } else if (name.length() > 253 || !DNS_SUBDOMAIN.matches(name)) {
            walk.problem("/metadata/name", "'" + name + "' is not a DNS-1123 subdomain (lower case, at most 253)");
        }
        if (meta.has("namespace")) {
            String ns = meta.path("namespace").asText("");
            if (ns.length() > 63 || !DNS_LABEL.matches(ns)) {
                walk.problem("/metadata/namespace", "'" + ns + "' is not a DNS-1123 label");
            }
        }
        meta.path("labels").properties().forEach(e -> {
            String key = e.getKey();
            int slash = key.indexOf('/');
            String prefix = slash < 0 ? "" : key.substring(0, slash);
            String local = slash < 0 ? key : key.substring(slash + 1);
            if (slash >= 0 && (prefix.isEmpty() || prefix.length() > 253 || !DNS_SUBDOMAIN.matches(prefix))) {
                walk.problem("/metadata/labels/" + key, "label prefix '" + prefix + "' is not a DNS-1123 subdomain");
            }
            if (local.isEmpty() || local.length() > 63 || !QUALIFIED_NAME.matches(local)) {
                walk.problem("/metadata/labels/" + key, "label name '" + local + "' is not a qualified name");
            }
            String value = e.getValue().asText("");
            if (!e.getValue().isTextual()) {
                walk.problem("/metadata/labels/" + key, "label values are strings");
            } else if (!value.isEmpty() && (value.length() > 63 || !QUALIFIED_NAME.matches(value))) {
                walk.problem(
                        "/metadata/labels/" + key,
                        "label value '" + value + "' must be at most 63 characters of [-A-Za-z0-9_.],"
                                + " starting and ending alphanumeric");
            }
        });
    }

    // ---- defaulting -------------------------------------------------------------------------------------------

    /** The API server's structural defaulting: a missing property with a default gets it, then its children theirs. */
    static void applyDefaults(JsonNode value, JsonNode schema) {
        if (value.isObject()) {
            ObjectNode obj = (ObjectNode) value;
            JsonNode props = schema.path("properties");
            props.properties().forEach(p -> {
                if (!obj.has(p.getKey()) && p.getValue().has("default")) {
                    obj.set(p.getKey(), p.getValue().path("default").deepCopy());
                }
            });
            Iterator<Map.Entry<String, JsonNode>> fields = obj.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                JsonNode sub = props.has(f.getKey()) ? props.path(f.getKey()) : schema.path("additionalProperties");
                if (sub.isObject()) {
                    applyDefaults(f.getValue(), sub);
                }
            }
        } else if (value.isArray() && schema.path("items").isObject()) {
            value.forEach(item -> applyDefaults(item, schema.path("items")));
        }
    }

    // ---- structural schema --------------------------------------------------------------------------------------

    private void check(
            JsonNode value, JsonNode schema, Optional<JsonNode> old, String path, Walk walk, boolean strict) {
        if (value.isNull()) {
            if (!schema.path("nullable").asBoolean(false)) {
                walk.problem(path, "must not be null");
            }
            return;
        }
        boolean intOrString = schema.path("x-kubernetes-int-or-string").asBoolean(false);
        String type = schema.path("type").asText("");
        if (intOrString) {
            if (!value.isIntegralNumber() && !value.isTextual()) {
                walk.problem(path, "must be an integer or a string");
                return;
            }
        } else if (!type.isEmpty() && !typeMatches(value, type)) {
            walk.problem(
                    path,
                    "must be of type " + type + ", is "
                            + value.getNodeType().name().toLowerCase());
            return;
        }
        if (schema.has("enum")) {
            boolean listed = false;
            for (JsonNode allowed : schema.path("enum")) {
                listed |= allowed.equals(value) || allowed.asText().equals(value.asText()) && allowed.isTextual();
            }
            if (!listed) {
                walk.problem(path, "'" + value.asText() + "' is not one of " + schema.path("enum"));
            }
        }
        if (value.isTextual()) {
            string(value.asText(), schema, path, walk);
        } else if (value.isNumber()) {
            number(value, schema, path, walk);
        } else if (value.isArray()) {
            array((ArrayNode) value, schema, old, path, walk, strict);
        } else if (value.isObject()) {
            object((ObjectNode) value, schema, old, path, walk, strict);
        }
        for (JsonNode sub : schema.path("allOf")) {
            check(value, sub, Optional.empty(), path, walk, false);
        }
        if (schema.has("anyOf")) {
            boolean any = false;
            for (JsonNode sub : schema.path("anyOf")) {
                any |= valueProblems(value, sub, path).isEmpty();
            }
            if (!any) {
                walk.problem(path, "matches none of the anyOf alternatives " + brief(schema.path("anyOf")));
            }
        }
        if (schema.has("oneOf")) {
            int n = 0;
            for (JsonNode sub : schema.path("oneOf")) {
                n += valueProblems(value, sub, path).isEmpty() ? 1 : 0;
            }
            if (n != 1) {
                walk.problem(
                        path,
                        "matches " + n + " of the oneOf alternatives, must match exactly one "
                                + brief(schema.path("oneOf")));
            }
        }
        if (schema.has("not") && valueProblems(value, schema.path("not"), path).isEmpty()) {
            walk.problem(path, "matches the schema it must not match " + brief(schema.path("not")));
        }
        rules(schema, value, old, path, walk, false);
    }

    /** A value-validation sub-schema (allOf/anyOf/oneOf/not of a structural schema): no unknown-field check. */
    private List<SchemaProblem> valueProblems(JsonNode value, JsonNode schema, String path) {
        Walk w = new Walk("");
        check(value, schema, Optional.empty(), path, w, false);
        return w.problems;
    }

    private static String brief(JsonNode schemas) {
        String s = schemas.toString();
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    private static boolean typeMatches(JsonNode value, String type) {
        return switch (type) {
            case "object" -> value.isObject();
            case "array" -> value.isArray();
            case "string" -> value.isTextual();
            case "integer" -> value.isIntegralNumber();
            case "number" -> value.isNumber();
            case "boolean" -> value.isBoolean();
            default -> true;
        };
    }

    private void string(String s, JsonNode schema, String path, Walk walk) {
        int length = s.codePointCount(0, s.length());
        if (schema.has("minLength") && length < schema.path("minLength").asInt()) {
            walk.problem(
                    path,
                    "'" + s + "' is shorter than " + schema.path("minLength").asInt());
        }
        if (schema.has("maxLength") && length > schema.path("maxLength").asInt()) {
            walk.problem(
                    path,
                    "'" + s + "' is longer than " + schema.path("maxLength").asInt());
        }
        if (schema.has("pattern")) {
            String p = schema.path("pattern").asText();
            Optional<Pattern> compiled = patterns.computeIfAbsent(p, ResourceValidator::compile);
            if (compiled.isEmpty()) {
                walk.problem(path, "pattern " + p + " is not RE2 syntax: cannot check, refused");
            } else if (!compiled.get().matcher(s).find()) {
                walk.problem(path, "'" + s + "' does not match " + p);
            }
        }
        String format = schema.path("format").asText("");
        if (!format.isEmpty() && !formatHolds(format, s)) {
            walk.problem(path, "'" + s + "' is not a valid " + format);
        }
    }

    private static Optional<Pattern> compile(String p) {
        try {
            return Optional.of(Pattern.compile(p));
        } catch (PatternSyntaxException e) {
            return Optional.empty();
        }
    }

    /** The formats the API server checks (k8s.io/kube-openapi strfmt) that the bundled CRDs use. */
    private static boolean formatHolds(String format, String s) {
        return switch (format) {
            case "byte" -> {
                try {
                    Base64.getDecoder().decode(s);
                    yield true;
                } catch (IllegalArgumentException e) {
                    yield false;
                }
            }
            case "date-time" -> {
                try {
                    OffsetDateTime.parse(s);
                    yield true;
                } catch (DateTimeParseException e) {
                    yield false;
                }
            }
            case "ipv4" ->
                s.matches("^((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)$");
            case "ipv6" -> s.contains(":") && s.matches("^[0-9A-Fa-f:.]+$") && ipv6(s);
            default -> true; // int32/int64 are range formats (number), others are not checked by the API server
        };
    }

    private static boolean ipv6(String s) {
        // a literal only: InetAddresses never resolves a name
        return com.google.common.net.InetAddresses.isInetAddress(s);
    }

    private static void number(JsonNode n, JsonNode schema, String path, Walk walk) {
        double v = n.asDouble();
        if (schema.has("minimum")) {
            double min = schema.path("minimum").asDouble();
            if (v < min || schema.path("exclusiveMinimum").asBoolean(false) && v == min) {
                walk.problem(
                        path,
                        n.asText() + " is below the minimum "
                                + schema.path("minimum").asText());
            }
        }
        if (schema.has("maximum")) {
            double max = schema.path("maximum").asDouble();
            if (v > max || schema.path("exclusiveMaximum").asBoolean(false) && v == max) {
                walk.problem(
                        path,
                        n.asText() + " is above the maximum "
                                + schema.path("maximum").asText());
            }
        }
        if (schema.path("format").asText("").equals("int32") && (!n.canConvertToInt() || n.isFloatingPointNumber())) {
            walk.problem(path, n.asText() + " is not an int32");
        }
    }

    private void array(
            ArrayNode list, JsonNode schema, Optional<JsonNode> old, String path, Walk walk, boolean strict) {
        if (schema.has("minItems") && list.size() < schema.path("minItems").asInt()) {
            walk.problem(
                    path,
                    "has " + list.size() + " items, fewer than "
                            + schema.path("minItems").asInt());
        }
        if (schema.has("maxItems") && list.size() > schema.path("maxItems").asInt()) {
            walk.problem(
                    path,
                    "has " + list.size() + " items, more than "
                            + schema.path("maxItems").asInt());
        }
        String listType = schema.path("x-kubernetes-list-type").asText("atomic");
        List<String> mapKeys = new ArrayList<>();
        schema.path("x-kubernetes-list-map-keys").forEach(k -> mapKeys.add(k.asText()));
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode item = list.get(i);
            if (listType.equals("set") && !seen.add(item.toString())) {
                walk.problem(path + "/" + i, "duplicate value " + item + " in a set");
            }
            if (listType.equals("map")) {
                String key = mapKey(item, mapKeys);
                if (!seen.add(key)) {
                    walk.problem(path + "/" + i, "duplicate entry for key " + key + " in a map list");
                }
            }
            Optional<JsonNode> oldItem =
                    listType.equals("map") ? old.flatMap(o -> correlate(o, item, mapKeys)) : Optional.empty();
            if (schema.path("items").isObject()) {
                check(item, schema.path("items"), oldItem, path + "/" + i, walk, strict);
            }
        }
    }

    private static String mapKey(JsonNode item, List<String> keys) {
        StringBuilder b = new StringBuilder("{");
        for (String k : keys) {
            b.append(k).append('=').append(item.path(k).toString()).append(',');
        }
        return b.append('}').toString();
    }

    private static Optional<JsonNode> correlate(JsonNode oldList, JsonNode item, List<String> keys) {
        if (!oldList.isArray()) {
            return Optional.empty();
        }
        String key = mapKey(item, keys);
        for (JsonNode o : oldList) {
            if (mapKey(o, keys).equals(key)) {
                return Optional.of(o);
            }
        }
        return Optional.empty();
    }

    private void object(
            ObjectNode obj, JsonNode schema, Optional<JsonNode> old, String path, Walk walk, boolean strict) {
        for (JsonNode required : schema.path("required")) {
            if (!obj.has(required.asText())) {
                walk.problem(path, "required field " + required.asText() + " is missing");
            }
        }
        if (schema.has("maxProperties")
                && obj.size() > schema.path("maxProperties").asInt()) {
            walk.problem(
                    path,
                    "has " + obj.size() + " properties, more than "
                            + schema.path("maxProperties").asInt());
        }
        if (schema.has("minProperties")
                && obj.size() < schema.path("minProperties").asInt()) {
            walk.problem(
                    path,
                    "has " + obj.size() + " properties, fewer than "
                            + schema.path("minProperties").asInt());
        }
        JsonNode props = schema.path("properties");
        JsonNode additional = schema.path("additionalProperties");
        boolean preserve = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
        obj.properties().forEach(f -> {
            String fieldPath = path + "/" + f.getKey();
            Optional<JsonNode> oldField = old.filter(JsonNode::isObject).map(o -> o.get(f.getKey()));
            if (props.has(f.getKey())) {
                check(f.getValue(), props.path(f.getKey()), oldField, fieldPath, walk, strict);
            } else if (additional.isObject()) {
                check(f.getValue(), additional, oldField, fieldPath, walk, strict);
            } else if (strict && !preserve && !additional.asBoolean(false)) {
                // server-side apply with strict field validation (kubectl's default) refuses what it would prune
                walk.problem(fieldPath, "unknown field \"" + f.getKey() + "\"");
            }
        });
    }

    // ---- CEL ------------------------------------------------------------------------------------------------------

    private void rules(JsonNode schema, JsonNode value, Optional<JsonNode> old, String path, Walk walk, boolean root) {
        JsonNode validations = schema.path("x-kubernetes-validations");
        if (validations.isEmpty()) {
            return;
        }
        Object self = root ? celRoot(value, schema) : cel(value, schema);
        Optional<Object> oldSelf = old.map(o -> root ? celRoot(o, schema) : cel(o, schema));
        for (JsonNode v : validations) {
            String rule = v.path("rule").asText();
            if (CelRules.isTransitionRule(rule)) {
                if (v.path("optionalOldSelf").asBoolean(false)) {
                    walk.problem(
                            path, "rule uses optionalOldSelf, which is not evaluated here: refused (" + rule + ")");
                    continue;
                }
                if (oldSelf.isEmpty()) {
                    continue; // the API server runs transition rules on updates of a correlated node only
                }
            }
            CelRules.Outcome outcome =
                    rules.evaluate(rule, self, CelRules.isTransitionRule(rule) ? oldSelf : Optional.empty());
            String message = v.has("message") ? v.path("message").asText() : "failed rule: " + rule;
            switch (outcome) {
                case CelRules.Outcome.Holds h -> {}
                case CelRules.Outcome.Violated x -> walk.problem(path, message);
                case CelRules.Outcome.Unevaluable u ->
                    walk.problem(path, message + " (rule could not be evaluated, refused: " + u.why() + ")");
            }
        }
    }

    private Object celRoot(JsonNode value, JsonNode schema) {
        ObjectNode copy = ((ObjectNode) value).deepCopy();
        ObjectNode meta = JsonNodeFactory.instance.objectNode();
        JsonNode m = value.path("metadata");
        if (m.has("name")) {
            meta.set("name", m.get("name"));
        }
        if (m.has("generateName")) {
            meta.set("generateName", m.get("generateName"));
        }
        copy.set("metadata", meta);
        return cel(copy, schema);
    }

    /** The value as the API server hands it to CEL: schema property names escaped, integers int, maps and lists. */
    static Object cel(JsonNode value, JsonNode schema) {
        if (value.isObject()) {
            Map<String, Object> out = new LinkedHashMap<>();
            JsonNode props = schema.path("properties");
            JsonNode additional = schema.path("additionalProperties");
            value.properties().forEach(f -> {
                if (props.has(f.getKey())) {
                    escape(f.getKey()).ifPresent(k -> out.put(k, cel(f.getValue(), props.path(f.getKey()))));
                } else {
                    out.put(
                            f.getKey(),
                            cel(
                                    f.getValue(),
                                    additional.isObject() ? additional : JsonNodeFactory.instance.objectNode()));
                }
            });
            return out;
        }
        if (value.isArray()) {
            List<Object> out = new ArrayList<>();
            value.forEach(v -> out.add(cel(v, schema.path("items"))));
            return out;
        }
        if (value.isIntegralNumber()) {
            return value.asLong();
        }
        if (value.isNumber()) {
            return value.asDouble();
        }
        if (value.isBoolean()) {
            return value.asBoolean();
        }
        if (value.isNull()) {
            return dev.cel.common.values.NullValue.NULL_VALUE;
        }
        return value.asText();
    }

    /** k8s.io/apiserver/pkg/cel escaping of property names; empty for a name CEL cannot reach. */
    static Optional<String> escape(String name) {
        if (CEL_RESERVED.contains(name)) {
            return Optional.of("__" + name + "__");
        }
        if (!CEL_ACCESSIBLE.matches(name)) {
            return Optional.empty();
        }
        return Optional.of(name.replace("__", "__underscores__")
                .replace(".", "__dot__")
                .replace("-", "__dash__")
                .replace("/", "__slash__"));
    }
}
