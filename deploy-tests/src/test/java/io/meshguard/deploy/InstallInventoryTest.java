package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.testing.IntegrationTest;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/install.md's table "Every Secret and ConfigMap" is the install's one list: every Secret and ConfigMap that what
 * an operator applies (the production install, the bank overlay, the migrate and ops Jobs) reads, with every key read,
 * and nothing else; the ones the operator creates are exactly those the rendered manifests do not carry themselves.
 * Renders with {@code kubectl kustomize} (skips, with the reason, without kubectl).
 */
@IntegrationTest
class InstallInventoryTest {
    /** What an operator applies, as install.md says (manifests/istio/…). */
    static final List<String> APPLIED = List.of("", "overlays/bank", "migrate", "ops");

    private static final Pattern ROW = Pattern.compile(
            "^\\| (Secret|ConfigMap) `([a-z0-9.-]+)`(?: \\(namespace `([a-z0-9-]+)`\\))? \\| ([^|]*) \\| (you|the install)"
                    + " \\|",
            Pattern.MULTILINE);
    private static final Pattern KEY = Pattern.compile("`([A-Za-z0-9._-]+)`( \\(optional\\))?");

    /** One reference: a Secret or ConfigMap by kind and name. */
    record Ref(String kind, String name) implements Comparable<Ref> {
        @Override
        public int compareTo(Ref o) {
            return (kind + "/" + name).compareTo(o.kind + "/" + o.name);
        }

        @Override
        public String toString() {
            return kind + " " + name;
        }
    }

    /** A row of install.md's table. */
    record Documented(Set<String> keys, Set<String> optionalKeys, boolean operatorCreates) {}

    @BeforeAll
    static void needsKubectl() {
        assumeTrue(Kustomize.available(), "kubectl is not on the PATH: the install's inventory not checked");
        RepoPaths.assumePolicyFiles();
    }

    static Map<Ref, Documented> documented() throws Exception {
        String doc = Files.readString(RepoPaths.root().resolve("docs/install.md"));
        Map<Ref, Documented> rows = new TreeMap<>();
        Matcher row = ROW.matcher(doc);
        while (row.find()) {
            Set<String> keys = new TreeSet<>();
            Set<String> optional = new TreeSet<>();
            Matcher key = KEY.matcher(row.group(4));
            while (key.find()) {
                keys.add(key.group(1));
                if (key.group(2) != null) {
                    optional.add(key.group(1));
                }
            }
            Ref ref = new Ref(row.group(1), row.group(2));
            assertThat(rows).as("install.md lists %s once", ref).doesNotContainKey(ref);
            rows.put(ref, new Documented(keys, optional, row.group(5).equals("you")));
        }
        return rows;
    }

    /** The names of the Secrets install.md's table lists. */
    static Set<String> documentedSecrets() {
        try {
            return documented().keySet().stream()
                    .filter(r -> r.kind().equals("Secret"))
                    .map(Ref::name)
                    .collect(Collectors.toUnmodifiableSet());
        } catch (Exception e) {
            throw new IllegalStateException("docs/install.md cannot be read", e);
        }
    }

    /** Every Secret and ConfigMap the rendered documents read, with the keys read (empty: the whole object). */
    static Map<Ref, Set<String>> referenced(List<SourcedDocument> docs) {
        Map<Ref, Set<String>> refs = new TreeMap<>();
        for (SourcedDocument d : docs) {
            walk(d.node(), refs);
        }
        return refs;
    }

    private static void walk(JsonNode node, Map<Ref, Set<String>> refs) {
        if (node.isArray()) {
            node.forEach(n -> walk(n, refs));
            return;
        }
        if (!node.isObject()) {
            return;
        }
        node.fields().forEachRemaining(field -> {
            JsonNode v = field.getValue();
            switch (field.getKey()) {
                case "secretKeyRef" ->
                    add(refs, "Secret", v.path("name").asText(), v.path("key").asText());
                case "configMapKeyRef" ->
                    add(
                            refs,
                            "ConfigMap",
                            v.path("name").asText(),
                            v.path("key").asText());
                case "secretRef" -> add(refs, "Secret", v.path("name").asText(), null);
                case "configMapRef" -> add(refs, "ConfigMap", v.path("name").asText(), null);
                case "credentialName" -> add(refs, "Secret", v.asText(), "tls.crt", "tls.key");
                case "secret" -> {
                    String name = v.has("secretName")
                            ? v.path("secretName").asText()
                            : v.path("name").asText();
                    addItems(refs, "Secret", name, v.path("items"));
                }
                case "configMap" -> {
                    if (v.has("name")) {
                        addItems(refs, "ConfigMap", v.path("name").asText(), v.path("items"));
                    }
                }
                default -> {}
            }
            walk(v, refs);
        });
    }

    // kustomize's generators append a hash of the content to the name; the docs name the generator
    private static String generatorName(String name) {
        return name.replaceFirst("-(?=[a-z0-9]{10}$)(?=[a-z]*[0-9])[a-z0-9]{10}$", "");
    }

    private static void addItems(Map<Ref, Set<String>> refs, String kind, String name, JsonNode items) {
        if (name.isEmpty()) {
            return;
        }
        Set<String> keys = refs.computeIfAbsent(new Ref(kind, generatorName(name)), r -> new TreeSet<>());
        items.forEach(i -> keys.add(i.path("key").asText()));
    }

    private static void add(Map<Ref, Set<String>> refs, String kind, String name, String... keys) {
        if (name.isEmpty()) {
            return;
        }
        Set<String> known = refs.computeIfAbsent(new Ref(kind, generatorName(name)), r -> new TreeSet<>());
        for (String k : keys) {
            if (k != null) {
                known.add(k);
            }
        }
    }

    private static List<SourcedDocument> render(String dir) throws Exception {
        return YamlDocuments.parse(
                "kubectl kustomize manifests/istio/" + dir,
                Kustomize.render(RepoPaths.manifests().resolve(dir)));
    }

    @Test
    void installDoc_listsEverySecretAndConfigMapTheAppliedManifestsRead_onceWithEveryKey() throws Exception {
        Map<Ref, Documented> documented = documented();
        Map<Ref, Set<String>> referenced = new TreeMap<>();
        Set<Ref> shipped = new TreeSet<>();
        for (String dir : APPLIED) {
            List<SourcedDocument> docs = render(dir);
            referenced(docs).forEach((ref, keys) -> referenced
                    .computeIfAbsent(ref, r -> new TreeSet<>())
                    .addAll(keys));
            docs.stream()
                    .filter(d -> d.kind().equals("Secret") || d.kind().equals("ConfigMap"))
                    .forEach(d -> shipped.add(new Ref(d.kind(), generatorName(d.name()))));
        }
        assertThat(shipped.stream().filter(r -> r.kind().equals("Secret")))
                .as("Secrets are created by the operator, never shipped")
                .isEmpty();

        assertThat(documented.keySet())
                .as("docs/install.md, \"Every Secret and ConfigMap\": the names the applied manifests read")
                .containsExactlyInAnyOrderElementsOf(referenced.keySet());
        referenced.forEach((ref, keys) -> {
            Documented row = documented.get(ref);
            assertThat(row.keys()).as("%s: the keys install.md lists", ref).containsAll(keys);
            assertThat(row.operatorCreates())
                    .as("%s: install.md says who creates it (you: not in the rendered install)", ref)
                    .isEqualTo(!shipped.contains(ref));
        });
    }

    @Test
    void readmeStepOne_createsEveryNamespacedSecretTheTableSaysYouCreate() throws Exception {
        String readme = Files.readString(RepoPaths.manifests().resolve("README.md"));
        Set<String> created = Pattern.compile("create secret (?:generic|tls) (meshguard-[a-z0-9-]+)")
                .matcher(readme)
                .results()
                .map(m -> m.group(1))
                .collect(Collectors.toCollection(TreeSet::new));
        documented().forEach((ref, row) -> {
            if (row.operatorCreates() && ref.kind().equals("Secret")) {
                assertThat(created)
                        .as("manifests/istio/README.md creates %s", ref)
                        .contains(ref.name());
            }
        });
    }
}
