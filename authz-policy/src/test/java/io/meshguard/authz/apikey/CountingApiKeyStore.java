package io.meshguard.authz.apikey;

import io.meshguard.catalogmodel.apikey.ApiKey;
import io.meshguard.catalogmodel.apikey.ApiKeyStore;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/** A key store counting its lookups (each key a {@link #find} or in a {@link #findAll} counts one). */
final class CountingApiKeyStore implements ApiKeyStore {
    final AtomicInteger finds = new AtomicInteger();
    private final ApiKeyStore store;

    CountingApiKeyStore(ApiKeyStore store) {
        this.store = store;
    }

    @Override
    public Optional<Stored> find(String keyId) throws UnavailableException {
        finds.incrementAndGet();
        return store.find(keyId);
    }

    @Override
    public void insert(ApiKey key, byte[] secretHash) throws UnavailableException {
        store.insert(key, secretHash);
    }

    @Override
    public boolean revoke(String keyId, Instant at) throws UnavailableException {
        return store.revoke(keyId, at);
    }

    @Override
    public boolean expire(String keyId, Instant at) throws UnavailableException {
        return store.expire(keyId, at);
    }

    @Override
    public List<ApiKey> list(boolean includeRevoked) throws UnavailableException {
        return store.list(includeRevoked);
    }

    @Override
    public io.meshguard.catalogmodel.apikey.ApiKeyService.Created rotate(
            io.meshguard.catalogmodel.apikey.ApiKeyService keys, String keyId, Instant predecessorUntil)
            throws UnavailableException {
        return store.rotate(keys, keyId, predecessorUntil);
    }

    @Override
    public void addUsage(Map<String, Usage> usesByKeyId) throws UnavailableException {
        store.addUsage(usesByKeyId);
    }
}
