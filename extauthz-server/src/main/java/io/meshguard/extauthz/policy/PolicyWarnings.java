package io.meshguard.extauthz.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code meshguard policy check} points out in a valid policy without refusing it: choices that are allowed
 * but usually a mistake.
 */
public final class PolicyWarnings {
    private PolicyWarnings() {}

    public static List<PolicyError> of(AuthzPolicy policy) {
        List<PolicyError> out = new ArrayList<>();
        for (RoutePolicy r : policy.routes()) {
            if (r.auth() == AuthMode.NONE && r.match().hosts().isEmpty()) {
                out.add(new PolicyError(policy.source(), r.line(), "route " + r.name()
                        + ": auth none without 'hosts' opens this path on every host the proxy serves; name the hosts"));
            }
        }
        return out;
    }
}
