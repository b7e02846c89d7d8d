package io.meshguard.cli.policy;

import io.meshguard.access.RoleBindings;
import io.meshguard.runtime.yaml.InvalidYamlException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code access.yaml}: the admin plane's roles, permissions and bindings. A typo there is found by the same check
 * as one in {@code authz.yaml}, not first by the controller refusing to start; it has no test cases of its own.
 */
final class AccessPolicyKind implements PolicyKind {
    @Override
    public String name() {
        return "access";
    }

    @Override
    public Path file(Path policyDir) {
        return policyDir.resolve("access.yaml");
    }

    @Override
    public List<String> check(Path policyDir) {
        try {
            RoleBindings.load(file(policyDir));
            return List.of();
        } catch (InvalidYamlException e) {
            return List.of(policyDir.resolve(e.location()) + ": " + e.reason());
        }
    }

    @Override
    public List<PolicyTestResult> test(Path policyDir) {
        return List.of(); // bindings are exercised by the admin plane's permission tests, not by policy test cases
    }
}
