package io.meshguard.authz.policy;

import io.meshguard.authz.request.Identity;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Which tier a caller is in, the one rule rate limits and quotas share: the gateway route's
 * {@code meshguard.rate_limit_tier} context extension, else the API key's tier or the token's {@code tier} claim —
 * whichever is present first, if {@code known} — else the tenant's entry in {@code tenant_tiers}, else the default.
 */
public final class CallerTier {
    private CallerTier() {}

    /**
     * @param requested the tier the gateway route asks for, if any
     * @param known the tier names the limit or quota defines
     */
    public static String resolve(
            Optional<String> requested,
            Identity id,
            Predicate<String> known,
            Map<String, String> tenantTiers,
            String defaultTier) {
        return requested
                .or(id::tier)
                .filter(known)
                .or(() -> id.tenant().map(tenantTiers::get))
                .filter(known)
                .orElse(defaultTier);
    }
}
