package io.meshguard.dlpserver.check;

import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.policy.PolicyError;
import io.meshguard.dlp.policy.PolicyInvalidException;
import io.meshguard.dlp.scan.ValueHasher;
import io.meshguard.dlpserver.BodyScan;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * What {@code meshguard policy check|test} does for DLP: validate a dlp.yaml (file:line errors), and run the DLP
 * test cases in {@code policies/tests/dlp-*.yaml} through exactly the server's engine.
 *
 * <p>Test file format:
 * <pre>
 * policy: ../dlp.yaml          # relative to the test file
 * cases:
 *   - name: card in an LLM answer is masked
 *     direction: response       # or request (default response)
 *     route: /v1/chat/completions
 *     host: api.bank            # optional
 *     profile: cards            # optional: the profile a gateway route names (x-meshguard-dlp-profile)
 *     content_type: text/plain  # default text/plain
 *     chunk_size: 7             # optional: also feed in chunks and require the same output
 *     input: "..."
 *     expect:
 *       output: "..."           # exact rewritten content (optional)
 *       contains: ["..."]       # optional
 *       not_contains: ["..."]   # optional
 *       findings: [card]        # detectors found, in order (optional)
 *       blocked: false          # default false
 * </pre>
 */
public final class DlpPolicyChecks {
    private static final byte[] TEST_KEY = "meshguard-policy-test-key-0123456789".getBytes(StandardCharsets.UTF_8);

    /** The outcome of one test case. */
    public record CaseResult(String file, int line, String name, boolean passed, String message) {
        @Override
        public String toString() {
            return (passed ? "PASS " : "FAIL ") + file + ":" + line + " " + name + (passed ? "" : ": " + message);
        }
    }

    private DlpPolicyChecks() {}

    /** Validates a dlp.yaml; an empty list means it is valid. */
    public static List<PolicyError> check(Path dlpYaml) {
        try {
            DlpPolicyParser.parse(dlpYaml);
            return List.of();
        } catch (PolicyInvalidException e) {
            return e.errors();
        } catch (IOException e) {
            return List.of(new PolicyError(dlpYaml.toString(), 0, "cannot read: " + e.getMessage()));
        }
    }

    /** Test files in a directory: {@code dlp-*.yaml}, sorted by name. */
    public static List<Path> testFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("dlp-.*\\.ya?ml"))
                    .sorted()
                    .toList();
        }
    }

    /**
     * Runs every case of one test file.
     *
     * @throws PolicyInvalidException when the test file itself, or the policy it names, is invalid
     */
    public static List<CaseResult> run(Path testFile) throws PolicyInvalidException, IOException {
        String file = testFile.toString();
        List<PolicyError> errors = new ArrayList<>();
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            root = new Yaml(options).compose(Files.newBufferedReader(testFile, StandardCharsets.UTF_8));
        } catch (MarkedYAMLException e) {
            throw new PolicyInvalidException(List.of(new PolicyError(
                    file,
                    e.getProblemMark() == null ? 1 : e.getProblemMark().getLine() + 1,
                    "not valid YAML: " + e.getProblem())));
        }
        if (!(root instanceof MappingNode top)) {
            throw new PolicyInvalidException(List.of(new PolicyError(file, 1, "expected 'policy' and 'cases'")));
        }
        Map<String, NodeTuple> k = keys(file, top, Set.of("policy", "cases"), errors);
        if (!k.containsKey("policy") || !k.containsKey("cases")) {
            errors.add(new PolicyError(file, line(top), "'policy' and 'cases' are required"));
            throw new PolicyInvalidException(errors);
        }
        Path policyPath = testFile.toAbsolutePath()
                .getParent()
                .resolve(text(k.get("policy").getValueNode()));
        DlpPolicy policy = DlpPolicyParser.parse(policyPath);
        if (!(k.get("cases").getValueNode() instanceof SequenceNode cases)) {
            errors.add(new PolicyError(file, line(k.get("cases").getValueNode()), "'cases' must be a list"));
            throw new PolicyInvalidException(errors);
        }
        List<CaseResult> results = new ArrayList<>();
        for (Node c : cases.getValue()) {
            CaseResult r = runCase(file, policy, c, errors);
            if (r != null) {
                results.add(r);
            }
        }
        if (!errors.isEmpty()) {
            throw new PolicyInvalidException(errors);
        }
        return results;
    }

    private static CaseResult runCase(String file, DlpPolicy policy, Node n, List<PolicyError> errors) {
        if (!(n instanceof MappingNode m)) {
            errors.add(new PolicyError(file, line(n), "a case must be a mapping"));
            return null;
        }
        Map<String, NodeTuple> k = keys(
                file,
                m,
                Set.of(
                        "name",
                        "direction",
                        "route",
                        "host",
                        "content_type",
                        "chunk_size",
                        "input",
                        "expect",
                        "tenant",
                        "profile"),
                errors);
        if (!k.containsKey("name") || !k.containsKey("input") || !k.containsKey("expect")) {
            errors.add(new PolicyError(file, line(m), "a case needs 'name', 'input' and 'expect'"));
            return null;
        }
        String name = text(k.get("name").getValueNode());
        String dir = k.containsKey("direction") ? text(k.get("direction").getValueNode()) : "response";
        if (!dir.equals("request") && !dir.equals("response")) {
            errors.add(new PolicyError(
                    file, line(k.get("direction").getValueNode()), "direction must be request or response"));
            return null;
        }
        Direction direction = dir.equals("request") ? Direction.REQUEST : Direction.RESPONSE;
        String route = k.containsKey("route") ? text(k.get("route").getValueNode()) : "/";
        String host = k.containsKey("host") ? text(k.get("host").getValueNode()) : "";
        Optional<String> profile =
                k.containsKey("profile") ? Optional.of(text(k.get("profile").getValueNode())) : Optional.empty();
        if (profile.isPresent() && !policy.hasProfile(profile.get())) {
            errors.add(new PolicyError(
                    file,
                    line(k.get("profile").getValueNode()),
                    "profile '" + profile.get()
                            + "' is not in the policy (the DLP server refuses streams whose route names it)"));
            return null;
        }
        String tenant = k.containsKey("tenant") ? text(k.get("tenant").getValueNode()) : "";
        String contentType =
                k.containsKey("content_type") ? text(k.get("content_type").getValueNode()) : "text/plain";
        int chunk = 0;
        if (k.containsKey("chunk_size")) {
            try {
                chunk = Integer.parseInt(text(k.get("chunk_size").getValueNode()));
            } catch (NumberFormatException e) {
                chunk = -1;
            }
            if (chunk < 1) {
                errors.add(new PolicyError(
                        file, line(k.get("chunk_size").getValueNode()), "chunk_size must be a whole number >= 1"));
                return null;
            }
        }
        byte[] input = text(k.get("input").getValueNode()).getBytes(StandardCharsets.UTF_8);
        if (!(k.get("expect").getValueNode() instanceof MappingNode em)) {
            errors.add(new PolicyError(file, line(k.get("expect").getValueNode()), "'expect' must be a mapping"));
            return null;
        }
        Map<String, NodeTuple> e =
                keys(file, em, Set.of("output", "contains", "not_contains", "findings", "blocked"), errors);
        Outcome whole = scan(policy, direction, profile, host, route, contentType, tenant, input, 0);
        int line = line(m);
        List<String> problems = new ArrayList<>();
        if (chunk > 0) {
            Outcome chunked = scan(policy, direction, profile, host, route, contentType, tenant, input, chunk);
            chunkedDiffers(whole, chunked, chunk).ifPresent(problems::add);
            if (chunked.blocked && e.containsKey("not_contains")) {
                for (String s : list(file, e.get("not_contains").getValueNode(), errors)) {
                    if (chunked.output.contains(s)) {
                        problems.add(
                                "output sent before the block, in chunks of " + chunk + " bytes, contains '" + s + "'");
                    }
                }
            }
        }
        boolean expectBlocked = e.containsKey("blocked")
                && text(e.get("blocked").getValueNode()).equals("true");
        if (expectBlocked != whole.blocked) {
            problems.add(
                    expectBlocked
                            ? "expected a block, the content passed"
                            : "blocked unexpectedly (" + whole.findings + ")");
        }
        if (e.containsKey("output") && !whole.blocked) {
            String want = text(e.get("output").getValueNode());
            if (!want.equals(whole.output)) {
                problems.add("output was:\n" + whole.output + "\nexpected:\n" + want);
            }
        }
        if (e.containsKey("contains")) {
            for (String s : list(file, e.get("contains").getValueNode(), errors)) {
                if (!whole.output.contains(s)) {
                    problems.add("output lacks '" + s + "'");
                }
            }
        }
        if (e.containsKey("not_contains")) {
            for (String s : list(file, e.get("not_contains").getValueNode(), errors)) {
                if (whole.output.contains(s)) {
                    problems.add("output still contains '" + s + "'");
                }
            }
        }
        if (e.containsKey("findings")) {
            List<String> want = list(file, e.get("findings").getValueNode(), errors);
            if (!want.equals(whole.findings)) {
                problems.add("findings were " + whole.findings + ", expected " + want);
            }
        }
        return new CaseResult(file, line, name, problems.isEmpty(), String.join("; ", problems));
    }

    /** What a scan produced: the bytes sent on (for a blocked body, those released before the block). */
    record Outcome(String output, List<String> findings, boolean blocked) {}

    /**
     * How a chunked run differs from the whole-body run, if it does. A passed body must come out byte for byte the
     * same; a blocked one must be blocked with the same findings, but what was sent before the block legitimately
     * depends on where the chunks end (earlier chunks were already released), so its output is not compared.
     */
    static Optional<String> chunkedDiffers(Outcome whole, Outcome chunked, int chunk) {
        if (chunked.blocked != whole.blocked) {
            return Optional.of((whole.blocked ? "passed" : "blocked") + " when fed in chunks of " + chunk
                    + " bytes (whole body: " + (whole.blocked ? "blocked" : "passed") + ")");
        }
        if (whole.blocked) {
            return chunked.findings.equals(whole.findings)
                    ? Optional.empty()
                    : Optional.of("findings were " + chunked.findings + " when fed in chunks of " + chunk + " bytes, "
                            + whole.findings + " as a whole");
        }
        return chunked.output.equals(whole.output)
                ? Optional.empty()
                : Optional.of("output differs when fed in chunks of " + chunk + " bytes");
    }

    private static Outcome scan(
            DlpPolicy policy,
            Direction d,
            Optional<String> profile,
            String host,
            String route,
            String contentType,
            String tenant,
            byte[] input,
            int chunk) {
        List<String> findings = new ArrayList<>();
        BodyScan scan = BodyScan.open(
                policy,
                d,
                profile,
                host,
                route,
                contentType,
                "",
                ValueHasher.forTenant(TEST_KEY, tenant),
                (f, loc) -> findings.add(f.detector()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int step = chunk > 0 ? chunk : Math.max(1, input.length);
        for (int i = 0; i < input.length; i += step) {
            out.writeBytes(scan.write(java.util.Arrays.copyOfRange(input, i, Math.min(input.length, i + step))));
        }
        out.writeBytes(scan.finish());
        return new Outcome(
                out.toString(StandardCharsets.UTF_8), findings, scan.blocked().isPresent());
    }

    private static Map<String, NodeTuple> keys(
            String file, MappingNode m, Set<String> allowed, List<PolicyError> errors) {
        Map<String, NodeTuple> out = new java.util.LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            String key = text(t.getKeyNode());
            if (!allowed.contains(key)) {
                errors.add(new PolicyError(
                        file,
                        line(t.getKeyNode()),
                        "unknown key '" + key + "'; allowed here: "
                                + String.join(", ", new java.util.TreeSet<>(allowed))));
            } else {
                out.put(key, t);
            }
        }
        return out;
    }

    private static List<String> list(String file, Node n, List<PolicyError> errors) {
        if (n instanceof SequenceNode s) {
            return s.getValue().stream().map(DlpPolicyChecks::text).toList();
        }
        errors.add(new PolicyError(file, line(n), "expected a list"));
        return List.of();
    }

    private static String text(Node n) {
        return n instanceof ScalarNode s ? s.getValue() : "";
    }

    private static int line(Node n) {
        return n.getStartMark().getLine() + 1;
    }
}
