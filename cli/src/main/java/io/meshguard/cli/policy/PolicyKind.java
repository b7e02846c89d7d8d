package io.meshguard.cli.policy;

import java.nio.file.Path;
import java.util.List;

/**
 * One kind of policy file that {@code meshguard policy check|test} handles (authz, DLP, …). A new kind joins both
 * commands by implementing this and adding itself to {@link PolicyKinds#all()}.
 */
public interface PolicyKind {
    /** Short name shown in output, e.g. {@code authz}. */
    String name();

    /** The file this kind owns inside a policy directory, e.g. {@code DIR/authz.yaml}. */
    Path file(Path policyDir);

    /** Validates the file: empty when valid, else one {@code file:line: message} per problem. */
    List<String> check(Path policyDir);

    /** What is valid but probably a mistake, one {@code file:line: message} each; never fails the check. */
    default List<String> warnings(Path policyDir) {
        return List.of();
    }

    /**
     * Runs this kind's test cases from {@code DIR/tests/}. A policy that does not validate, or a test file that
     * cannot be read, is reported as a failed result (never thrown), so the run always ends with its summary.
     */
    List<PolicyTestResult> test(Path policyDir);
}
