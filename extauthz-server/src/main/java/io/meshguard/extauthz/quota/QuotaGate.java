package io.meshguard.extauthz.quota;

import io.meshguard.extauthz.decision.Identity;
import io.meshguard.extauthz.policy.AuthzPolicy;
import java.util.Optional;
import java.util.Set;

/** Charges an allowed request against the policy's calendar quotas: the engine's one call per Check. */
public interface QuotaGate {
    /** No quota counting (policy tests without a store, tools). */
    QuotaGate NONE = (policy, route, caller, requestedTier, alreadyCharged) -> QuotaVerdict.NONE;

    /**
     * @param route the route the request matched
     * @param requestedTier the tier the gateway route asks for ({@code meshguard.rate_limit_tier}), if any
     * @param alreadyCharged quotas the trusted gateway charged for this very request (gateway hop only): not charged again
     */
    QuotaVerdict charge(AuthzPolicy policy, String route, Identity caller, Optional<String> requestedTier,
            Set<String> alreadyCharged);
}
