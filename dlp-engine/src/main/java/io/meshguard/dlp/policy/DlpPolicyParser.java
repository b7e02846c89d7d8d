package io.meshguard.dlp.policy;

import com.google.re2j.PatternSyntaxException;
import io.meshguard.dlp.detect.BuiltinDetector;
import io.meshguard.dlp.detect.PatternBounds;
import io.meshguard.dlp.detect.RegexRecognizer;
import io.meshguard.dlp.mcp.PinnedTool;
import io.meshguard.dlp.mcp.ToolPins;
import io.meshguard.dlp.mcp.ToolSchema;
import io.meshguard.dlp.scan.Action;
import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.dlp.scan.ContextRule;
import io.meshguard.dlp.scan.DetectorRule;
import io.meshguard.dlp.scan.ScanRules;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
 * Reads {@code dlp.yaml} strictly: unknown keys, unknown detectors or actions, unbounded or invalid patterns and
 * out-of-range numbers are errors with file and line; all errors are reported at once and nothing partial is
 * returned.
 */
public final class DlpPolicyParser {
    static final long DEFAULT_MAX_BODY = 64L * 1024 * 1024;
    private static final int DEFAULT_WITHIN = 32;

    private final String file;
    private final List<PolicyError> errors = new ArrayList<>();

    /** A detector definition before it is bound to an action in a profile. */
    private record DetectorDef(
            String name,
            Optional<BuiltinDetector> builtin,
            ScanRules.RegexSpec regex,
            ScanRules.KeywordSpec keywords,
            double minConfidence,
            ContextRule context,
            Set<String> allow,
            List<String> allowDomains) {}

    private DlpPolicyParser(String file) {
        this.file = file;
    }

    public static DlpPolicy parse(Path path) throws PolicyInvalidException, IOException {
        return parse(path.toString(), Files.readString(path, StandardCharsets.UTF_8));
    }

    public static DlpPolicy parse(String file, String yaml) throws PolicyInvalidException {
        DlpPolicyParser p = new DlpPolicyParser(file);
        DlpPolicy policy = p.read(yaml, sha256(yaml));
        if (!p.errors.isEmpty()) {
            throw new PolicyInvalidException(p.errors);
        }
        return policy;
    }

    private static String sha256(String text) {
        try {
            return java.util.HexFormat.of()
                    .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                            .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM provides SHA-256", e);
        }
    }

    private DlpPolicy read(String yaml, String digest) {
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(10);
            root = new Yaml(options).compose(new java.io.StringReader(yaml));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 1 : e.getProblemMark().getLine() + 1;
            error(line, "not valid YAML: " + e.getProblem());
            return null;
        } catch (RuntimeException e) {
            error(1, "not valid YAML: " + e.getMessage());
            return null;
        }
        if (!(root instanceof MappingNode top)) {
            error(root == null ? 1 : line(root), "the policy must be a mapping with 'version' and 'profiles'");
            return null;
        }
        Map<String, NodeTuple> keys = keys(
                top, Set.of("version", "tenant_header", "identity_headers", "block_response", "detectors", "profiles"));
        NodeTuple version = keys.get("version");
        if (version == null) {
            error(line(top), "'version: 1' is required");
        } else if (!"1".equals(scalar(version.getValueNode()))) {
            error(line(version.getValueNode()), "unsupported version; this meshguard reads version 1");
        }
        String tenantHeader = keys.containsKey("tenant_header")
                ? scalar(keys.get("tenant_header").getValueNode()).toLowerCase(java.util.Locale.ROOT)
                : "x-tenant-id";
        IdentityHeaderNames identity = keys.containsKey("identity_headers")
                ? identityHeaders(keys.get("identity_headers").getValueNode())
                : IdentityHeaderNames.DEFAULTS;
        BlockResponse block = keys.containsKey("block_response")
                ? blockResponse(keys.get("block_response").getValueNode())
                : BlockResponse.DEFAULT;
        Map<String, DetectorDef> detectors = new LinkedHashMap<>();
        for (BuiltinDetector d : BuiltinDetector.values()) {
            detectors.put(
                    d.id(),
                    new DetectorDef(
                            d.id(),
                            Optional.of(d),
                            null,
                            null,
                            0.5,
                            new ContextRule(d.contextBoost(), d.contextPenalty(), DEFAULT_WITHIN, 0.3, 0.5),
                            Set.of(),
                            List.of()));
        }
        if (keys.containsKey("detectors")) {
            MappingNode m = mapping(keys.get("detectors").getValueNode(), "detectors");
            if (m != null) {
                for (NodeTuple t : m.getValue()) {
                    String name = scalar(t.getKeyNode());
                    if (!name.matches("[a-z][a-z0-9_]{0,62}")) {
                        error(
                                line(t.getKeyNode()),
                                "detector name '" + name + "' must be lower case letters, digits and '_'");
                        continue;
                    }
                    DetectorDef def = detector(name, detectors.get(name), t.getValueNode());
                    if (def != null) {
                        detectors.put(name, def);
                    }
                }
            }
        }
        List<DlpPolicy.Profile> profiles = new ArrayList<>();
        NodeTuple profilesNode = keys.get("profiles");
        if (profilesNode == null) {
            error(line(top), "'profiles' is required (a list; the first profile whose match fits applies)");
        } else if (!(profilesNode.getValueNode() instanceof SequenceNode seq)) {
            error(line(profilesNode.getValueNode()), "'profiles' must be a list");
        } else {
            Set<String> names = new LinkedHashSet<>();
            for (Node n : seq.getValue()) {
                DlpPolicy.Profile p = profile(n, detectors);
                if (p != null && !names.add(p.name())) {
                    error(line(n), "duplicate profile name '" + p.name() + "'");
                } else if (p != null) {
                    profiles.add(p);
                }
            }
        }
        return new DlpPolicy(profiles, block, tenantHeader, digest, identity);
    }

    /** {@code identity_headers:}: authz.yaml's {@code settings.identity_headers} keys the DLP server reads. */
    private IdentityHeaderNames identityHeaders(Node n) {
        MappingNode m = mapping(n, "identity_headers");
        if (m == null) {
            return IdentityHeaderNames.DEFAULTS;
        }
        Map<String, NodeTuple> k = keys(m, Set.of("subject", "issuer", "client_id"));
        IdentityHeaderNames d = IdentityHeaderNames.DEFAULTS;
        return new IdentityHeaderNames(
                headerName(k.get("subject"), d.subject()),
                headerName(k.get("issuer"), d.issuer()),
                headerName(k.get("client_id"), d.clientId()));
    }

    private String headerName(NodeTuple t, String orElse) {
        if (t == null) {
            return orElse;
        }
        String name = scalar(t.getValueNode()).toLowerCase(java.util.Locale.ROOT);
        if (!name.matches("[a-z0-9][a-z0-9-]*")) {
            error(
                    line(t.getValueNode()),
                    "identity_headers." + scalar(t.getKeyNode()) + " must be a header name (letters, digits, '-')");
            return orElse;
        }
        return name;
    }

    private BlockResponse blockResponse(Node n) {
        MappingNode m = mapping(n, "block_response");
        if (m == null) {
            return BlockResponse.DEFAULT;
        }
        Map<String, NodeTuple> k = keys(m, Set.of("status", "message"));
        int status = k.containsKey("status") ? integer(k.get("status").getValueNode(), 400, 499) : 403;
        String message =
                k.containsKey("message") ? scalar(k.get("message").getValueNode()) : BlockResponse.DEFAULT.message();
        return new BlockResponse(status, message);
    }

    private DetectorDef detector(String name, DetectorDef existing, Node n) {
        MappingNode m = mapping(n, "detector '" + name + "'");
        if (m == null) {
            return null;
        }
        boolean builtin = existing != null && existing.builtin().isPresent();
        Set<String> allowed = builtin
                ? Set.of("min_confidence", "context", "allow", "allow_domains")
                : Set.of(
                        "pattern",
                        "keywords",
                        "confidence",
                        "min_confidence",
                        "validator",
                        "case_insensitive",
                        "context",
                        "allow",
                        "allow_domains");
        Map<String, NodeTuple> k = keys(m, allowed);
        double minConfidence = k.containsKey("min_confidence")
                ? decimal(k.get("min_confidence").getValueNode(), 0, 1)
                : 0.5;
        ContextRule base = builtin ? existing.context() : ContextRule.NONE;
        ContextRule context =
                k.containsKey("context") ? context(k.get("context").getValueNode(), base) : base;
        Set<String> allow = new LinkedHashSet<>();
        if (k.containsKey("allow")) {
            for (String v : strings(k.get("allow").getValueNode())) {
                allow.add(DetectorRule.normalize(v));
            }
        }
        List<String> domains =
                k.containsKey("allow_domains") ? strings(k.get("allow_domains").getValueNode()) : List.of();
        if (builtin) {
            return new DetectorDef(name, existing.builtin(), null, null, minConfidence, context, allow, domains);
        }
        NodeTuple pattern = k.get("pattern");
        NodeTuple keywords = k.get("keywords");
        if ((pattern == null) == (keywords == null)) {
            error(
                    line(m),
                    "detector '" + name + "' needs exactly one of 'pattern' (RE2 syntax) or 'keywords'; "
                            + "built-in detectors are: " + String.join(", ", builtinIds()));
            return null;
        }
        double confidence =
                k.containsKey("confidence") ? decimal(k.get("confidence").getValueNode(), 0, 1) : 0.6;
        if (keywords != null) {
            List<String> words = strings(keywords.getValueNode());
            if (words.isEmpty()) {
                error(line(keywords.getValueNode()), "'keywords' must list at least one word");
                return null;
            }
            if (k.containsKey("validator") || k.containsKey("case_insensitive")) {
                error(
                        line(m),
                        "'validator' and 'case_insensitive' apply to 'pattern' only (keywords always "
                                + "ignore ASCII case)");
            }
            return new DetectorDef(
                    name,
                    Optional.empty(),
                    null,
                    new ScanRules.KeywordSpec(words, confidence),
                    minConfidence,
                    context,
                    allow,
                    domains);
        }
        boolean caseInsensitive = k.containsKey("case_insensitive")
                && bool(k.get("case_insensitive").getValueNode());
        String regex = scalar(pattern.getValueNode());
        Node where = pattern.getValueNode();
        com.google.re2j.Pattern compiled;
        PatternBounds.Shape shape;
        try {
            compiled = RegexRecognizer.compile(regex, caseInsensitive);
            shape = PatternBounds.shape(regex, caseInsensitive);
        } catch (PatternSyntaxException e) {
            error(line(where), "pattern of '" + name + "' is not valid RE2 syntax: " + e.getMessage());
            return null;
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            error(line(where), "pattern of '" + name + "': " + e.getMessage());
            return null;
        }
        if (shape.maxBytes() == 0) {
            error(line(where), "pattern of '" + name + "' only matches empty text");
            return null;
        }
        RegexRecognizer.Validator validator = RegexRecognizer.Validator.NONE;
        if (k.containsKey("validator")) {
            String v = scalar(k.get("validator").getValueNode());
            try {
                validator = RegexRecognizer.Validator.valueOf(v.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                error(
                        line(k.get("validator").getValueNode()),
                        "unknown validator '" + v + "'; known: none, luhn, iban, kr_rrn_date, kr_brn");
            }
        }
        return new DetectorDef(
                name,
                Optional.empty(),
                new ScanRules.RegexSpec(compiled, shape, confidence, validator),
                null,
                minConfidence,
                context,
                allow,
                domains);
    }

    private ContextRule context(Node n, ContextRule base) {
        MappingNode m = mapping(n, "context");
        if (m == null) {
            return base;
        }
        Map<String, NodeTuple> k = keys(m, Set.of("words", "negative", "within", "boost", "penalty"));
        List<String> words = new ArrayList<>(base.boostWords());
        if (k.containsKey("words")) {
            words.addAll(strings(k.get("words").getValueNode()));
        }
        List<String> negative = new ArrayList<>(base.penaltyWords());
        if (k.containsKey("negative")) {
            negative.addAll(strings(k.get("negative").getValueNode()));
        }
        int within = k.containsKey("within")
                ? integer(k.get("within").getValueNode(), 1, 300)
                : base.within() == 0 ? DEFAULT_WITHIN : base.within();
        double boost = k.containsKey("boost")
                ? decimal(k.get("boost").getValueNode(), 0, 1)
                : base.boost() == 0 ? 0.3 : base.boost();
        double penalty = k.containsKey("penalty")
                ? decimal(k.get("penalty").getValueNode(), 0, 1)
                : base.penalty() == 0 ? 0.5 : base.penalty();
        return new ContextRule(words, negative, within, boost, penalty);
    }

    private DlpPolicy.Profile profile(Node n, Map<String, DetectorDef> detectors) {
        MappingNode m = mapping(n, "profile");
        if (m == null) {
            return null;
        }
        Map<String, NodeTuple> k =
                keys(m, Set.of("name", "match", "request", "response", "websocket", "mcp", "mcp_approval", "mcp_pins"));
        if (!k.containsKey("name")) {
            error(line(m), "a profile needs a 'name'");
            return null;
        }
        String name = scalar(k.get("name").getValueNode());
        ProfileMatch match = ProfileMatch.ANY;
        if (k.containsKey("match")) {
            MappingNode mm = mapping(k.get("match").getValueNode(), "match");
            if (mm != null) {
                Map<String, NodeTuple> mk = keys(mm, Set.of("hosts", "paths", "content_types"));
                match = new ProfileMatch(
                        mk.containsKey("hosts") ? strings(mk.get("hosts").getValueNode()) : List.of(),
                        mk.containsKey("paths") ? strings(mk.get("paths").getValueNode()) : List.of(),
                        mk.containsKey("content_types")
                                ? strings(mk.get("content_types").getValueNode())
                                : List.of());
                for (String p : match.paths()) {
                    if (!p.startsWith("/")) {
                        error(line(mk.get("paths").getValueNode()), "path '" + p + "' must start with '/'");
                    }
                }
            }
        }
        Optional<DirectionPolicy> request = k.containsKey("request")
                ? Optional.ofNullable(direction(name, k.get("request").getValueNode(), detectors))
                : Optional.empty();
        Optional<DirectionPolicy> response = k.containsKey("response")
                ? Optional.ofNullable(direction(name, k.get("response").getValueNode(), detectors))
                : Optional.empty();
        // WebSocket frames cannot be scanned as bodies (client frames are XOR-masked, RFC 6455 section 5.3, and a
        // rewrite that changes a length corrupts the frame): refused unless the profile lets them pass, counted.
        boolean mcp = false;
        if (k.containsKey("mcp")) {
            String v = scalar(k.get("mcp").getValueNode());
            if (!"true".equals(v) && !"false".equals(v)) {
                error(line(k.get("mcp").getValueNode()), "'mcp' must be true or false");
            }
            mcp = "true".equals(v);
        }
        Optional<McpApproval> approval = mcpPart(k, "mcp_approval", mcp, "MCP tool calls", this::mcpApproval);
        Optional<ToolPins> pins = mcpPart(k, "mcp_pins", mcp, "MCP tools to their pins", this::mcpPins);
        return new DlpPolicy.Profile(
                name,
                match,
                request,
                response,
                disposition(k.get("websocket"), DirectionPolicy.Disposition.BLOCK),
                mcp,
                approval,
                pins);
    }

    /**
     * {@code mcp_pins: {tools: [{name, description, input_schema}, …]}}: each schema read as JSON and compiled here, so a
     * schema the gateway could not hold calls to is refused with its line, never at request time.
     */
    private ToolPins mcpPins(Node n) {
        MappingNode m = mapping(n, "mcp_pins");
        if (m == null) {
            return null;
        }
        Map<String, NodeTuple> k = keys(m, Set.of("tools"));
        if (!k.containsKey("tools") || !(k.get("tools").getValueNode() instanceof SequenceNode seq)) {
            error(line(m), "'mcp_pins' needs 'tools': a list of {name, description, input_schema}");
            return null;
        }
        List<PinnedTool> tools = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (Node item : seq.getValue()) {
            MappingNode tm = mapping(item, "a pinned tool");
            if (tm == null) {
                continue;
            }
            Map<String, NodeTuple> tk = keys(tm, Set.of("name", "description", "input_schema"));
            String name = tk.containsKey("name") ? scalar(tk.get("name").getValueNode()) : "";
            if (name.isEmpty()) {
                error(line(tm), "a pinned tool needs a 'name'");
                continue;
            }
            if (!names.add(name)) {
                error(line(tm), "tool '" + name + "' is pinned twice");
                continue;
            }
            if (!tk.containsKey("input_schema")) {
                error(line(tm), "tool '" + name + "' needs its 'input_schema' (MCP tools always have one)");
                continue;
            }
            Node sn = tk.get("input_schema").getValueNode();
            try {
                com.fasterxml.jackson.databind.JsonNode schema = YamlJson.of(sn, ToolSchema.MAX_DEPTH);
                ToolSchema.compile(schema);
                Optional<String> description = tk.containsKey("description")
                        ? Optional.of(scalar(tk.get("description").getValueNode()))
                        : Optional.empty();
                tools.add(new PinnedTool(name, description, schema));
            } catch (YamlJson.Problem e) {
                error(e.line(), "tool '" + name + "': input_schema: " + e.getMessage());
            } catch (IllegalArgumentException e) {
                error(line(sn), "tool '" + name + "': " + e.getMessage());
            }
        }
        if (tools.size() > ToolPins.MAX_TOOLS) {
            error(line(m), "at most " + ToolPins.MAX_TOOLS + " tools are pinned per profile");
            return null;
        }
        return new ToolPins(tools);
    }

    /** A profile's MCP setting {@code key}, read when present; refused on a profile without {@code mcp: true}. */
    private <T> Optional<T> mcpPart(
            Map<String, NodeTuple> k,
            String key,
            boolean mcp,
            String holds,
            java.util.function.Function<Node, T> read) {
        if (!k.containsKey(key)) {
            return Optional.empty();
        }
        Node n = k.get(key).getValueNode();
        if (!mcp) {
            error(line(n), "'" + key + "' holds " + holds + ": the profile needs 'mcp: true'");
        }
        return Optional.ofNullable(read.apply(n));
    }

    private McpApproval mcpApproval(Node n) {
        MappingNode m = mapping(n, "mcp_approval");
        if (m == null) {
            return null;
        }
        Map<String, NodeTuple> k = keys(m, Set.of("tools", "expires_seconds", "agent_owners"));
        List<String> tools = k.containsKey("tools") ? strings(k.get("tools").getValueNode()) : List.of();
        if (tools.isEmpty()) {
            error(line(m), "'mcp_approval' needs 'tools': the tool names whose calls two people approve");
        }
        int seconds = k.containsKey("expires_seconds")
                ? integer(k.get("expires_seconds").getValueNode(), 60, (int) McpApproval.MAX_EXPIRES.toSeconds())
                : 900;
        Map<String, String> owners = new java.util.LinkedHashMap<>();
        if (k.containsKey("agent_owners")) {
            MappingNode om = mapping(k.get("agent_owners").getValueNode(), "agent_owners");
            if (om != null) {
                for (NodeTuple t : om.getValue()) {
                    String owner = scalar(t.getValueNode());
                    if (owner.isBlank()) {
                        error(line(t.getValueNode()), "an agent's owner is the subject of a person, not empty");
                    }
                    owners.put(scalar(t.getKeyNode()), owner);
                }
            }
        }
        return new McpApproval(tools, java.time.Duration.ofSeconds(seconds), owners);
    }

    private DirectionPolicy direction(String profile, Node n, Map<String, DetectorDef> detectors) {
        MappingNode m = mapping(n, "direction");
        if (m == null) {
            return null;
        }
        Map<String, NodeTuple> k =
                keys(m, Set.of("detectors", "non_text", "oversize", "max_body_bytes", "unknown_encoding", "grpc"));
        ScanRules rules = new ScanRules();
        if (k.containsKey("detectors")) {
            MappingNode dm = mapping(k.get("detectors").getValueNode(), "detectors");
            if (dm != null) {
                for (NodeTuple t : dm.getValue()) {
                    String name = scalar(t.getKeyNode());
                    DetectorDef def = detectors.get(name);
                    if (def == null) {
                        error(
                                line(t.getKeyNode()),
                                "unknown detector '" + name + "'; define it under 'detectors' " + "or use a built-in: "
                                        + String.join(", ", builtinIds()));
                        continue;
                    }
                    Action action = action(t.getValueNode());
                    if (action == null) {
                        continue;
                    }
                    DetectorRule rule = new DetectorRule(
                            name, def.minConfidence(), def.context(), def.allow(), def.allowDomains(), action);
                    if (def.builtin().isPresent()) {
                        rules.addBuiltin(def.builtin().get(), rule);
                    } else if (def.regex() != null) {
                        rules.addRegex(def.regex(), rule);
                    } else {
                        rules.addKeywords(def.keywords(), rule);
                    }
                }
            }
        }
        DirectionPolicy.Disposition nonText = disposition(k.get("non_text"), DirectionPolicy.Disposition.PASS);
        return new DirectionPolicy(
                profile,
                rules,
                nonText,
                disposition(k.get("oversize"), DirectionPolicy.Disposition.BLOCK),
                k.containsKey("max_body_bytes")
                        ? integer(k.get("max_body_bytes").getValueNode(), 1024, Integer.MAX_VALUE)
                        : DEFAULT_MAX_BODY,
                disposition(k.get("unknown_encoding"), DirectionPolicy.Disposition.BLOCK),
                disposition(k.get("grpc"), nonText));
    }

    private Action action(Node n) {
        if (n instanceof ScalarNode s) {
            Optional<ActionKind> kind = ActionKind.parse(s.getValue());
            if (kind.isEmpty()) {
                error(line(n), "unknown action '" + s.getValue() + "'; use mask, redact, hash, block or alert");
                return null;
            }
            return Action.of(kind.get());
        }
        MappingNode m = mapping(n, "action");
        if (m == null) {
            return null;
        }
        Map<String, NodeTuple> k = keys(m, Set.of("action", "keep_last", "mask_char", "replacement"));
        if (!k.containsKey("action")) {
            error(line(m), "'action' is required (mask, redact, hash, block or alert)");
            return null;
        }
        Action base = action(k.get("action").getValueNode());
        if (base == null) {
            return null;
        }
        int keepLast = k.containsKey("keep_last") ? integer(k.get("keep_last").getValueNode(), 0, 16) : base.keepLast();
        char maskChar = base.maskChar();
        if (k.containsKey("mask_char")) {
            String c = scalar(k.get("mask_char").getValueNode());
            if (c.length() != 1 || c.charAt(0) >= 0x80 || Character.isLetterOrDigit(c.charAt(0))) {
                error(line(k.get("mask_char").getValueNode()), "mask_char must be one ASCII symbol such as '*'");
            } else {
                maskChar = c.charAt(0);
            }
        }
        String template = base.template();
        if (k.containsKey("replacement")) {
            template = scalar(k.get("replacement").getValueNode());
            if (base.kind() == ActionKind.HASH && !template.contains("{hash}")) {
                error(line(k.get("replacement").getValueNode()), "a hash replacement must contain {hash}");
            }
        }
        return new Action(base.kind(), keepLast, maskChar, template);
    }

    private DirectionPolicy.Disposition disposition(NodeTuple t, DirectionPolicy.Disposition dflt) {
        if (t == null) {
            return dflt;
        }
        String v = scalar(t.getValueNode());
        return switch (v) {
            case "pass" -> DirectionPolicy.Disposition.PASS;
            case "block" -> DirectionPolicy.Disposition.BLOCK;
            default -> {
                error(line(t.getValueNode()), "'" + scalar(t.getKeyNode()) + "' must be 'pass' or 'block'");
                yield dflt;
            }
        };
    }

    // ---- node helpers ----

    private static List<String> builtinIds() {
        List<String> ids = new ArrayList<>();
        for (BuiltinDetector d : BuiltinDetector.values()) {
            ids.add(d.id());
        }
        return ids;
    }

    private Map<String, NodeTuple> keys(MappingNode m, Set<String> allowed) {
        Map<String, NodeTuple> out = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            String key = scalar(t.getKeyNode());
            if (!allowed.contains(key)) {
                error(
                        line(t.getKeyNode()),
                        "unknown key '" + key + "'; allowed here: "
                                + String.join(", ", new java.util.TreeSet<>(allowed)));
            } else {
                out.put(key, t);
            }
        }
        return out;
    }

    private MappingNode mapping(Node n, String what) {
        if (n instanceof MappingNode m) {
            return m;
        }
        error(line(n), what + " must be a mapping");
        return null;
    }

    private String scalar(Node n) {
        if (n instanceof ScalarNode s) {
            return s.getValue();
        }
        error(line(n), "expected a single value");
        return "";
    }

    private List<String> strings(Node n) {
        if (n instanceof SequenceNode seq) {
            List<String> out = new ArrayList<>();
            for (Node item : seq.getValue()) {
                String s = scalar(item);
                if (s.isEmpty()) {
                    error(line(item), "empty entry");
                } else {
                    out.add(s);
                }
            }
            return out;
        }
        error(line(n), "expected a list");
        return List.of();
    }

    private int integer(Node n, int min, int max) {
        String s = scalar(n);
        try {
            long v = Long.parseLong(s.replace("_", ""));
            if (v < min || v > max) {
                error(line(n), s + " is out of range [" + min + ", " + max + "]");
                return min;
            }
            return (int) v;
        } catch (NumberFormatException e) {
            error(line(n), "'" + s + "' is not a whole number");
            return min;
        }
    }

    private double decimal(Node n, double min, double max) {
        String s = scalar(n);
        try {
            double v = Double.parseDouble(s);
            if (!(v >= min && v <= max)) {
                error(line(n), s + " is out of range [" + min + ", " + max + "]");
                return min;
            }
            return v;
        } catch (NumberFormatException e) {
            error(line(n), "'" + s + "' is not a number");
            return min;
        }
    }

    private boolean bool(Node n) {
        String s = scalar(n);
        if (s.equals("true") || s.equals("false")) {
            return s.equals("true");
        }
        error(line(n), "'" + s + "' must be true or false");
        return false;
    }

    private static int line(Node n) {
        return n.getStartMark().getLine() + 1;
    }

    private void error(int line, String message) {
        errors.add(new PolicyError(file, line, message));
    }
}
