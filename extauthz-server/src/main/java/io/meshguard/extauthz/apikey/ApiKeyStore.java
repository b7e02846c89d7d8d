package io.meshguard.extauthz.apikey;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Where API keys live (PostgreSQL in production: {@link JdbcApiKeyStore}). */
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

    void insert(ApiKey key, byte[] secretHash) throws UnavailableException;

    /** Marks a key revoked; false when no such key or already revoked. */
    boolean revoke(String keyId, Instant at) throws UnavailableException;

    /** Shortens a key's life (rotation grace period); false when no such key. */
    boolean expire(String keyId, Instant at) throws UnavailableException;

    List<ApiKey> list(boolean includeRevoked) throws UnavailableException;

    /** Adds counted uses and sets the last-use time. */
    void addUsage(Map<String, Long> usesByKeyId, Instant lastUsed) throws UnavailableException;
}
