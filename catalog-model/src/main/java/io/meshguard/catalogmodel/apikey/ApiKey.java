package io.meshguard.catalogmodel.apikey;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** A stored API key: who owns it, what it may do, its life. The secret itself is never held, only its hash. */
public record ApiKey(
        String keyId,
        String name,
        String owner,
        String tenant,
        List<String> roles,
        List<String> scopes,
        String tier,
        Instant createdAt,
        Optional<Instant> expiresAt,
        Optional<Instant> revokedAt,
        Optional<String> rotatedFrom,
        Optional<Instant> lastUsedAt,
        long useCount) {
    /**
     * The tier of a key that has none of its own (a tenant made it): the policy's {@code tenant_tiers}, else its
     * {@code default_tier}, decide its limits, as for the tenant's tokens without a {@code tier} claim.
     */
    public static final String NO_TIER = "";

    /** The key's own tier, when the bank gave it one. */
    public Optional<String> ownTier() {
        return Optional.of(tier).filter(t -> !t.isEmpty());
    }

    public boolean revoked(Instant now) {
        return revokedAt.isPresent() && !revokedAt.get().isAfter(now);
    }

    public boolean expired(Instant now) {
        return expiresAt.isPresent() && !expiresAt.get().isAfter(now);
    }
}
