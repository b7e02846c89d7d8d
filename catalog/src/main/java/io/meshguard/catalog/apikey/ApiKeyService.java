package io.meshguard.catalog.apikey;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** What {@code meshguard apikey create|rotate|revoke|list} do. */
public final class ApiKeyService {
    /** A new key: the text is shown to the operator once and never stored. */
    public record Created(String text, ApiKey key) {}

    /** A key minted and not stored yet: {@code secretHash} is the one thing of its secret meshguard keeps. */
    public record Minted(Created created, byte[] secretHash) {}

    /** The instant this service stamps keys with. */
    public Instant now() {
        return clock.instant();
    }

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
        Minted minted = mint(name, owner, tenant, roles, scopes, tier, expiresAt, rotatedFrom);
        store.insert(minted.created().key(), minted.secretHash());
        return minted.created();
    }

    /**
     * A new key, checked and minted but not stored: for a caller that inserts it in its own transaction
     * ({@link JdbcApiKeyStore#insert(java.sql.Connection, ApiKey, byte[])}). {@link Minted#secretHash} is what to store.
     *
     * @throws IllegalArgumentException when a field is empty or would be refused in an identity header
     */
    public Minted mint(
            String name,
            String owner,
            String tenant,
            List<String> roles,
            List<String> scopes,
            String tier,
            Optional<Instant> expiresAt,
            Optional<String> rotatedFrom) {
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
        return new Minted(new Created(minted.text(), key), minted.secretHash());
    }

    /**
     * The successor of {@code old} (same owner, tenant, rights and tier; the predecessor's end if still ahead), minted
     * but not stored.
     *
     * @throws IllegalArgumentException when {@code old} is revoked
     */
    public Minted successor(ApiKey old) {
        Instant now = clock.instant();
        if (old.revoked(now)) {
            throw new IllegalArgumentException("API key " + old.keyId() + " is revoked; create a new one instead");
        }
        return mint(
                old.name(),
                old.owner(),
                old.tenant(),
                old.roles(),
                old.scopes(),
                old.tier(),
                old.expiresAt().filter(e -> e.isAfter(now)),
                Optional.of(old.keyId()));
    }

    /**
     * A new key with the same owner, tenant, rights and tier; the old one keeps working for {@code grace} so clients
     * can switch, then expires.
     */
    public Created rotate(String keyId, Duration grace) throws ApiKeyStore.UnavailableException {
        ApiKey old = store.find(keyId)
                .map(ApiKeyStore.Stored::key)
                .orElseThrow(() -> new IllegalArgumentException("no API key " + keyId));
        Minted next = successor(old);
        store.insert(next.created().key(), next.secretHash());
        store.expire(keyId, clock.instant().plus(grace));
        return next.created();
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
