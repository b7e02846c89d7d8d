package io.meshguard.extauthz.apikey;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** What {@code meshguard apikey create|rotate|revoke|list} do. */
public final class ApiKeyService {
    /** A new key: the text is shown to the operator once and never stored. */
    public record Created(String text, ApiKey key) {}

    private final ApiKeyStore store;
    private final Clock clock;

    public ApiKeyService(ApiKeyStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    public Created create(
            String name,
            String owner,
            String tenant,
            List<String> roles,
            List<String> scopes,
            String tier,
            Optional<Instant> expiresAt)
            throws ApiKeyStore.UnavailableException {
        return create(name, owner, tenant, roles, scopes, tier, expiresAt, Optional.empty());
    }

    private Created create(
            String name,
            String owner,
            String tenant,
            List<String> roles,
            List<String> scopes,
            String tier,
            Optional<Instant> expiresAt,
            Optional<String> rotatedFrom)
            throws ApiKeyStore.UnavailableException {
        requireText(name, "name");
        requireText(owner, "owner");
        requireText(tenant, "tenant");
        if (tier == null || (!tier.equals(ApiKey.NO_TIER) && tier.isBlank())) {
            throw new IllegalArgumentException("tier must be a tier name, or ApiKey.NO_TIER for none of its own");
        }
        // what the key grants goes into identity headers: refuse now what Check would refuse on every request
        List<Optional<String>> problems = new java.util.ArrayList<>();
        problems.add(io.meshguard.catalog.IdentityText.problem("owner", owner));
        problems.add(io.meshguard.catalog.IdentityText.problem("tenant", tenant));
        roles.forEach(r -> problems.add(io.meshguard.catalog.IdentityText.problem("role", r)));
        scopes.forEach(s -> problems.add(io.meshguard.catalog.IdentityText.problem("scope", s)));
        for (Optional<String> p : problems) {
            if (p.isPresent()) {
                throw new IllegalArgumentException(p.get().replace(" claim ", " "));
            }
        }
        Instant now = clock.instant();
        if (expiresAt.isPresent() && !expiresAt.get().isAfter(now)) {
            throw new IllegalArgumentException("expiry " + expiresAt.get() + " is not in the future");
        }
        ApiKeySecret.Minted minted = ApiKeySecret.mint();
        ApiKey key = new ApiKey(
                minted.keyId(),
                name,
                owner,
                tenant,
                List.copyOf(roles),
                List.copyOf(scopes),
                tier,
                now,
                expiresAt,
                Optional.empty(),
                rotatedFrom,
                Optional.empty(),
                0);
        store.insert(key, minted.secretHash());
        return new Created(minted.text(), key);
    }

    /**
     * A new key with the same owner, tenant, rights and tier; the old one keeps working for {@code grace} so clients
     * can switch, then expires.
     */
    public Created rotate(String keyId, Duration grace) throws ApiKeyStore.UnavailableException {
        ApiKey old = store.find(keyId)
                .map(ApiKeyStore.Stored::key)
                .orElseThrow(() -> new IllegalArgumentException("no API key " + keyId));
        Instant now = clock.instant();
        if (old.revoked(now)) {
            throw new IllegalArgumentException("API key " + keyId + " is revoked; create a new one instead");
        }
        Created created = create(
                old.name(),
                old.owner(),
                old.tenant(),
                old.roles(),
                old.scopes(),
                old.tier(),
                old.expiresAt().filter(e -> e.isAfter(now)),
                Optional.of(keyId));
        store.expire(keyId, now.plus(grace));
        return created;
    }

    public boolean revoke(String keyId) throws ApiKeyStore.UnavailableException {
        return store.revoke(keyId, clock.instant());
    }

    public List<ApiKey> list(boolean includeRevoked) throws ApiKeyStore.UnavailableException {
        return store.list(includeRevoked);
    }

    private static void requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
    }
}
