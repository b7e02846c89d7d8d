package io.meshguard.extauthz.policy;

import java.util.Map;

/**
 * Local token buckets (per replica: N replicas allow up to N times the rate). API-key callers are limited per key;
 * token callers per {@code by} (tenant or subject).
 *
 * @param by {@code tenant} or {@code subject}, for token callers
 * @param tiers tier name to its bucket
 * @param defaultTier tier of callers with none of their own
 * @param tenantTiers tier per tenant, for token callers whose issuer maps no tier claim
 * @param publicTier tier of anonymous callers (public routes), who are limited per client address (found through
 *     {@code mesh.trusted_proxy_hops}, {@link MeshSettings})
 */
public record RateLimitPolicy(String by, Map<String, RateTier> tiers, String defaultTier, Map<String, String> tenantTiers,
        String publicTier) {
    /** A bucket: refills {@code requestsPerSecond}, holds at most {@code burst}. */
    public record RateTier(String name, double requestsPerSecond, long burst) {}
}
