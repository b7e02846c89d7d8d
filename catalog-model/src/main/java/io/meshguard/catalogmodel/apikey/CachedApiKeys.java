package io.meshguard.catalogmodel.apikey;

/**
 * A replica's cached API key records, as catalog's {@code ApiKeyNotices} keeps them current (the authenticator's cache, which
 * lives with the decision engine the catalogue does not know).
 */
public interface CachedApiKeys {
    /** One key changed (revoked, its end moved, deleted): its record goes. */
    void drop(String keyId);

    /** Every record goes: notices may have been lost (the listener (re)connected). */
    void dropAll();

    /**
     * Anything may have changed, and nothing says what: each cached record is compared with the store and goes when
     * it differs there (revoked, end moved, secret changed, deleted), so no revocation is missed and no read is spent
     * on records that did not change.
     */
    void confirmAll();
}
