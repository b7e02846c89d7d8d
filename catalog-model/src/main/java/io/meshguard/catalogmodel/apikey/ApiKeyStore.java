package io.meshguard.catalogmodel.apikey;

import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Where API keys live (PostgreSQL in production: catalog's {@code JdbcApiKeyStore}). */
public interface ApiKeyStore {
    /** A key with its stored secret hash. */
    record Stored(ApiKey key, byte[] secretHash) {}

    /** The store could not be reached; callers deny (fail closed). */
    final class UnavailableException extends Exception {
        private static final long serialVersionUID = 1L;

        public UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    Optional<Stored> find(String keyId) throws UnavailableException;

    /** The stored keys among {@code keyIds}, by id (one read where the store can; absent ids are not in the map). */
    default Map<String, Stored> findAll(Collection<String> keyIds) throws UnavailableException {
        Map<String, Stored> found = new HashMap<>();
        for (String keyId : keyIds) {
            find(keyId).ifPresent(s -> found.put(keyId, s));
        }
        return found;
    }

    void insert(ApiKey key, byte[] secretHash) throws UnavailableException;

    /** Marks a key revoked; false when no such key or already revoked. */
    boolean revoke(String keyId, Instant at) throws UnavailableException;

    /** Shortens a key's life (rotation grace period); false when no such key. */
    boolean expire(String keyId, Instant at) throws UnavailableException;

    List<ApiKey> list(boolean includeRevoked) throws UnavailableException;

    /**
     * Rotates {@code keyId} as one step: checks it ({@link ApiKeyService#successor}; not rotated out already), stores
     * its successor and moves its own end to {@code predecessorUntil} (never later).
     *
     * @throws ApiKeyService.NotRotatable when the key is revoked, expired or rotated out already
     * @throws java.util.NoSuchElementException when there is no such key
     */
    ApiKeyService.Created rotate(ApiKeyService keys, String keyId, Instant predecessorUntil)
            throws UnavailableException;

    /**
     * Uses of one key counted since the last write.
     *
     * @param lastUsed when the newest of them was authenticated (not when they are written)
     */
    record Usage(long count, Instant lastUsed) {}

    /** Adds counted uses and moves each key's last-use time forward to its newest use. */
    void addUsage(Map<String, Usage> usesByKeyId) throws UnavailableException;
}
