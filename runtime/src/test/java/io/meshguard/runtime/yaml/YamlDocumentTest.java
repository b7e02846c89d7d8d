package io.meshguard.runtime.yaml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class YamlDocumentTest {

    private static final String POLICY = """
            # header comment
            version: 1
            rules:
              - name: payments-read
                enabled: true
                weight: 0.25
                paths: [/payments, "/refunds"]
              - name: admin
                enabled: false
            """;

    @Test
    void parse_valuesKnowTheirFileAndLine() {
        YamlNode root = YamlDocument.parse("authz.yaml", POLICY);

        assertThat(root.get("version").asInt()).isEqualTo(1);
        assertThat(root.get("version").location()).isEqualTo("authz.yaml:2");
        List<YamlNode> rules = root.get("rules").asList();
        assertThat(rules).hasSize(2);
        assertThat(rules.get(1).get("name").asString()).isEqualTo("admin");
        assertThat(rules.get(1).line()).isEqualTo(8);
        assertThat(rules.get(0).get("enabled").asBoolean()).isTrue();
        assertThat(rules.get(0).get("weight").asDouble()).isEqualTo(0.25);
        assertThat(rules.get(0).get("paths").asStringList()).containsExactly("/payments", "/refunds");
        assertThat(rules.get(0).get("paths").line()).isEqualTo(7);
    }

    @Test
    void keys_keepDocumentOrder() {
        YamlNode root = YamlDocument.parse("x.yaml", "zeta: 1\nalpha: 2\nmid: 3\n");

        assertThat(root.keys()).containsExactly("zeta", "alpha", "mid");
        assertThat(root.asMap().keySet()).containsExactly("zeta", "alpha", "mid");
        assertThat(root.entries().get(1).key().line()).isEqualTo(2);
    }

    @Test
    void optional_absentOrNullKey_isEmpty() {
        YamlNode root = YamlDocument.parse("x.yaml", "a: 1\nb:\nc: ~\n");

        assertThat(root.optional("a")).isPresent();
        assertThat(root.optional("b")).isEmpty();
        assertThat(root.optional("c")).isEmpty();
        assertThat(root.optional("missing")).isEmpty();
        assertThat(root.has("b")).isTrue();
        assertThat(root.has("missing")).isFalse();
    }

    @Test
    void get_missingKey_namesKeyAndMapLine() {
        YamlNode root = YamlDocument.parse("authz.yaml", "top: 1\nrule:\n  name: x\n");

        assertThatThrownBy(() -> root.get("rule").get("match"))
                .isInstanceOf(InvalidYamlException.class)
                .hasMessage("authz.yaml:3: missing required key 'match'");
    }

    @Test
    void asInt_onText_failsWithLineAndValue() {
        YamlNode root = YamlDocument.parse("config.yaml", "a: 1\nport: ninety\n");

        assertThatThrownBy(() -> root.get("port").asInt())
                .isInstanceOf(InvalidYamlException.class)
                .hasMessage("config.yaml:2: expected an integer, found 'ninety'")
                .satisfies(e -> {
                    InvalidYamlException ex = (InvalidYamlException) e;
                    assertThat(ex.line()).isEqualTo(2);
                    assertThat(ex.sourceName()).isEqualTo("config.yaml");
                    assertThat(ex.reason()).isEqualTo("expected an integer, found 'ninety'");
                });
    }

    @Test
    void asInt_outOfRange_fails() {
        YamlNode root = YamlDocument.parse("c.yaml", "n: 99999999999\nu: 1_000\n");

        assertThatThrownBy(() -> root.get("n").asInt()).hasMessageContaining("out of range");
        assertThat(root.get("n").asLong()).isEqualTo(99_999_999_999L);
        assertThat(root.get("u").asInt()).isEqualTo(1000);
    }

    @Test
    void asBoolean_yaml11Yes_isRejected() {
        YamlNode root = YamlDocument.parse("c.yaml", "a: yes\nb: TRUE\n");

        assertThatThrownBy(() -> root.get("a").asBoolean()).hasMessage("c.yaml:1: expected true or false, found 'yes'");
        assertThat(root.get("b").asBoolean()).isTrue();
    }

    @Test
    void asDouble_rejectsNonNumbers() {
        YamlNode root = YamlDocument.parse("c.yaml", "a: .nan\nb: 1e-3\nc: abc\n");

        assertThatThrownBy(() -> root.get("a").asDouble()).hasMessageContaining("expected a number");
        assertThat(root.get("b").asDouble()).isEqualTo(0.001);
        assertThatThrownBy(() -> root.get("c").asDouble()).hasMessage("c.yaml:3: expected a number, found 'abc'");
    }

    @Test
    void wrongShape_saysWhatWasExpectedAndFound() {
        YamlNode root = YamlDocument.parse("c.yaml", "rules:\n  name: x\nname: [a]\n");

        assertThatThrownBy(() -> root.get("rules").asList()).hasMessage("c.yaml:2: expected a list, found a map");
        assertThatThrownBy(() -> root.get("name").asString()).hasMessage("c.yaml:3: expected a string, found a list");
        assertThatThrownBy(() -> root.get("name").get("x")).hasMessage("c.yaml:3: expected a map, found a list");
    }

    @Test
    void duplicateKey_isRejectedWithBothLines() {
        assertThatThrownBy(() -> YamlDocument.parse("authz.yaml", "a: 1\nrules: []\nb: 2\nrules: [x]\n"))
                .isInstanceOf(InvalidYamlException.class)
                .hasMessage("authz.yaml:4: duplicate key 'rules' (first defined on line 2)");
    }

    @Test
    void duplicateKey_nested_isRejected() {
        assertThatThrownBy(() -> YamlDocument.parse("d.yaml", "outer:\n  - x: 1\n    x: 2\n"))
                .hasMessage("d.yaml:3: duplicate key 'x' (first defined on line 2)");
    }

    @Test
    void syntaxError_reportsLine() {
        assertThatThrownBy(() -> YamlDocument.parse("bad.yaml", "a: 1\nb: [unclosed\nc: 3\n"))
                .isInstanceOf(InvalidYamlException.class)
                .hasMessageStartingWith("bad.yaml:")
                .hasMessageContaining("not valid YAML")
                .satisfies(e -> assertThat(((InvalidYamlException) e).line()).isGreaterThanOrEqualTo(2));
    }

    @Test
    void badIndentation_reportsLineOfProblem() {
        assertThatThrownBy(() -> YamlDocument.parse("bad.yaml", "a:\n  b: 1\n c: 2\n"))
                .satisfies(e -> assertThat(((InvalidYamlException) e).line()).isEqualTo(3));
    }

    @Test
    void multipleDocuments_areRejected() {
        assertThatThrownBy(() -> YamlDocument.parse("m.yaml", "a: 1\n---\nb: 2\n"))
                .isInstanceOf(InvalidYamlException.class)
                .hasMessageContaining("m.yaml:");
    }

    @Test
    void emptyDocument_isNullNode() {
        YamlNode root = YamlDocument.parse("e.yaml", "# only a comment\n");

        assertThat(root.isNull()).isTrue();
        assertThat(root.asList()).isEmpty();
        assertThatThrownBy(() -> root.get("x")).hasMessage("e.yaml:1: expected a map, found an empty value");
    }

    @Test
    void billionLaughs_isRejected() {
        StringBuilder yaml = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i <= 9; i++) {
            yaml.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 10; j++) {
                yaml.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            yaml.append("]\n");
        }

        assertThatThrownBy(() -> YamlDocument.parse("bomb.yaml", yaml.toString()))
                .isInstanceOf(InvalidYamlException.class)
                .hasMessageContaining("bomb.yaml");
    }

    @Test
    void aliasExpansion_overNodeLimit_isRejected() {
        // Few aliases (within the alias limit) that still expand to millions of nodes.
        StringBuilder yaml = new StringBuilder("l0: &l0 [");
        for (int j = 0; j < 1000; j++) {
            yaml.append(j == 0 ? "" : ",").append("x");
        }
        yaml.append("]\n");
        for (int i = 1; i <= 4; i++) {
            yaml.append("l").append(i).append(": &l").append(i).append(" [");
            for (int j = 0; j < 10; j++) {
                yaml.append(j == 0 ? "" : ", ").append("*l").append(i - 1);
            }
            yaml.append("]\n");
        }

        assertThatThrownBy(() -> YamlDocument.parse("bomb.yaml", yaml.toString()))
                .hasMessageContaining("expands to more than");
    }

    @Test
    void smallAliasUse_isAllowed() {
        YamlNode root = YamlDocument.parse("a.yaml", "common: &roles [reader, writer]\nrule:\n  roles: *roles\n");

        assertThat(root.get("rule").get("roles").asStringList()).containsExactly("reader", "writer");
    }

    @Test
    void recursiveAlias_isRejected() {
        assertThatThrownBy(() -> YamlDocument.parse("r.yaml", "a: &a [1, *a]\n"))
                .isInstanceOf(InvalidYamlException.class)
                .hasMessageContaining("r.yaml:");
    }

    @Test
    void mergeKey_isRejected() {
        assertThatThrownBy(() -> YamlDocument.parse("m.yaml", "base: &b {x: 1}\nrule:\n  <<: *b\n  y: 2\n"))
                .hasMessage(
                        "m.yaml:3: merge keys (<<) are not supported; repeat the values or use an alias as a value");
    }

    @Test
    void complexKey_isRejected() {
        assertThatThrownBy(() -> YamlDocument.parse("k.yaml", "? [a, b]\n: 1\n"))
                .hasMessageContaining("map keys must be plain strings");
    }

    @Test
    void tooManyCodePoints_isRejected() {
        String big = "a: \"" + "x".repeat(YamlDocument.MAX_CODE_POINTS) + "\"\n";

        assertThatThrownBy(() -> YamlDocument.parse("big.yaml", big))
                .isInstanceOf(InvalidYamlException.class)
                .hasMessage("big.yaml: document too large: more than " + YamlDocument.MAX_CODE_POINTS + " characters");
    }

    @Test
    void javaTypeTags_areRejected() {
        assertThatThrownBy(() -> YamlDocument.parse("t.yaml", "a: !!javax.script.ScriptEngineManager [x]\n"))
                .isInstanceOf(InvalidYamlException.class)
                .hasMessageContaining("t.yaml:1: not valid YAML")
                .hasMessageContaining("Global tag is not allowed");
    }

    @Test
    void checkKeys_unknownKey_suggestsClosest() {
        YamlNode root = YamlDocument.parse("authz.yaml", "version: 1\nrulez: []\n");

        assertThatThrownBy(() -> root.checkKeys(List.of("version", "rules")))
                .hasMessage(
                        "authz.yaml:2: unknown key 'rulez' (did you mean 'rules'?); expected one of version, rules");
    }

    @Test
    void error_atNode_carriesLocation() {
        YamlNode root = YamlDocument.parse("dlp.yaml", "a: 1\nb:\n  c: nope\n");

        InvalidYamlException error = root.get("b").get("c").error("unknown detector 'nope'");

        assertThat(error).hasMessage("dlp.yaml:3: unknown detector 'nope'");
        assertThat(error.location()).isEqualTo("dlp.yaml:3");
    }
}
