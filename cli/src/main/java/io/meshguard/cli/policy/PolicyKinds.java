package io.meshguard.cli.policy;

import java.util.List;

/** Every kind of policy file the policy commands know. Add a kind here with one line. */
public final class PolicyKinds {
    private PolicyKinds() {}

    public static List<PolicyKind> all() {
        return List.of(new AuthzPolicyKind(), new io.meshguard.cli.policy.DlpPolicyKind(), new AccessPolicyKind());
    }
}
