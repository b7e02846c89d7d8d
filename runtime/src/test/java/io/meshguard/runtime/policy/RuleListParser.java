package io.meshguard.runtime.policy;

import io.meshguard.runtime.yaml.InvalidYamlException;
import io.meshguard.runtime.yaml.YamlDocument;
import io.meshguard.runtime.yaml.YamlNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A small real policy format for watcher tests: each file is {@code rules: [name, ...]}; the policy is the
 * list of all rule names in file order. Errors from every file are collected.
 */
final class RuleListParser implements PolicyParser<List<String>> {
    @Override
    public List<String> parse(List<PolicySource> sources) throws PolicyInvalidException {
        List<String> rules = new ArrayList<>();
        List<PolicyError> errors = new ArrayList<>();
        for (PolicySource source : sources) {
            try {
                YamlNode root = YamlDocument.parse(source.fileName(), source.text());
                root.checkKeys(Set.of("rules"));
                for (YamlNode rule : root.get("rules").asList()) {
                    rules.add(rule.asString());
                }
            } catch (InvalidYamlException e) {
                errors.add(PolicyError.of(e));
            }
        }
        if (!errors.isEmpty()) {
            throw new PolicyInvalidException(errors);
        }
        return List.copyOf(rules);
    }
}
