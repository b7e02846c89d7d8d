package io.meshguard.catalogmodel.apikey;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Keys held in memory: for offline policy tests and {@code authz check}, where no database is around. */
public final class InMemoryApiKeyStore implements ApiKeyStore {
    private final Map<String, Stored> keys = new ConcurrentHashMap<>();

    @Override
    public Optional<Stored> find(String keyId) {
        return Optional.ofNullable(keys.get(keyId));
    }

    @Override
    public void insert(ApiKey key, byte[] secretHash) {
        if (keys.putIfAbsent(key.keyId(), new Stored(key, secretHash.clone())) != null) {
            throw new IllegalArgumentException("duplicate key id " + key.keyId());
        }
    }

    @Override
    public boolean revoke(String keyId, Instant at) {
        Stored s = keys.get(keyId);
        if (s == null || s.key().revokedAt().isPresent()) {
            return false;
        }
        ApiKey k = s.key();
        keys.put(
                keyId,
                new Stored(
                        new ApiKey(
                                k.keyId(),
                                k.name(),
                                k.owner(),
                                k.tenant(),
                                k.roles(),
                                k.scopes(),
                                k.tier(),
                                k.createdAt(),
                                k.expiresAt(),
                                Optional.of(at),
                                k.rotatedFrom(),
                                k.lastUsedAt(),
                                k.useCount()),
                        s.secretHash()));
        return true;
    }

    @Override
    public boolean expire(String keyId, Instant at) {
        Stored s = keys.get(keyId);
        if (s == null) {
            return false;
        }
        ApiKey k = s.key();
        Instant when = k.expiresAt().filter(e -> e.isBefore(at)).orElse(at);
        keys.put(
                keyId,
                new Stored(
                        new ApiKey(
                                k.keyId(),
                                k.name(),
                                k.owner(),
                                k.tenant(),
                                k.roles(),
                                k.scopes(),
                                k.tier(),
                                k.createdAt(),
                                Optional.of(when),
                                k.revokedAt(),
                                k.rotatedFrom(),
                                k.lastUsedAt(),
                                k.useCount()),
                        s.secretHash()));
        return true;
    }

    @Override
    public synchronized ApiKeyService.Created rotate(ApiKeyService service, String keyId, Instant predecessorUntil) {
        ApiKey old = find(keyId)
                .map(Stored::key)
                .orElseThrow(() -> new java.util.NoSuchElementException("no API key " + keyId));
        ApiKeyService.Minted next = service.successor(old);
        if (keys.values().stream().anyMatch(s -> s.key().rotatedFrom().equals(Optional.of(keyId)))) {
            throw new ApiKeyService.NotRotatable("API key " + keyId + " was rotated out already");
        }
        insert(next.created().key(), next.secretHash());
        expire(keyId, predecessorUntil);
        return next.created();
    }

    @Override
    public List<ApiKey> list(boolean includeRevoked) {
        List<ApiKey> out = new ArrayList<>();
        keys.values().forEach(s -> {
            if (includeRevoked || s.key().revokedAt().isEmpty()) {
                out.add(s.key());
            }
        });
        return out;
    }

    @Override
    public void addUsage(Map<String, Usage> usesByKeyId) {
        usesByKeyId.forEach((id, n) -> keys.computeIfPresent(id, (k, s) -> {
            ApiKey a = s.key();
            Instant lastUsed =
                    a.lastUsedAt().filter(l -> l.isAfter(n.lastUsed())).orElse(n.lastUsed());
            return new Stored(
                    new ApiKey(
                            a.keyId(),
                            a.name(),
                            a.owner(),
                            a.tenant(),
                            a.roles(),
                            a.scopes(),
                            a.tier(),
                            a.createdAt(),
                            a.expiresAt(),
                            a.revokedAt(),
                            a.rotatedFrom(),
                            Optional.of(lastUsed),
                            a.useCount() + n.count()),
                    s.secretHash());
        }));
    }
}
