package io.meshguard.catalogmodel.apikey;

import java.time.Clock;
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
     * (catalog's {@code JdbcApiKeyStore.insert(Connection, ApiKey, byte[])}). {@link Minted#secretHash} is what to store.
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
        problems.add(io.meshguard.catalogmodel.IdentityText.problem("owner", owner));
        problems.add(io.meshguard.catalogmodel.IdentityText.problem("tenant", tenant));
        roles.forEach(r -> problems.add(io.meshguard.catalogmodel.IdentityText.problem("role", r)));
        scopes.forEach(s -> problems.add(io.meshguard.catalogmodel.IdentityText.problem("scope", s)));
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
     * A key that may not be rotated: expired, revoked, or rotated out already (it has a successor, live or revoked). A
     * rotation renews the secret of a live grant; it never revives one that ended or starts a second line from it.
     */
    public static final class NotRotatable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public NotRotatable(String message) {
            super(message);
        }
    }

    /**
     * The successor of {@code old} (same owner, tenant, rights, tier and end), minted but not stored. Whether {@code
     * old} was rotated out already is the store's to say (catalog's {@code JdbcApiKeyStore.rotate}).
     *
     * @throws NotRotatable when {@code old} is revoked or expired
     */
    public Minted successor(ApiKey old) {
        Instant now = clock.instant();
        if (old.revoked(now)) {
            throw new NotRotatable("API key " + old.keyId() + " is revoked: it cannot be rotated; ask for a new key");
        }
        if (old.expired(now)) {
            throw new NotRotatable("API key " + old.keyId() + " expired at "
                    + old.expiresAt().orElseThrow() + ": it cannot be rotated; ask for a new key");
        }
        // the predecessor's end, unchanged: a rotation renews the secret, never the term the key was granted for
        return mint(
                old.name(),
                old.owner(),
                old.tenant(),
                old.roles(),
                old.scopes(),
                old.tier(),
                old.expiresAt(),
                Optional.of(old.keyId()));
    }

    /**
     * A new key with the same owner, tenant, rights, tier and end; the old one keeps working for {@code grace} (never
     * past its own end) so clients can switch.
     *
     * @throws NotRotatable when the key is revoked, expired or rotated out already
     */
    public Created rotate(String keyId, java.time.Duration grace) throws ApiKeyStore.UnavailableException {
        return store.rotate(this, keyId, clock.instant().plus(grace));
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
