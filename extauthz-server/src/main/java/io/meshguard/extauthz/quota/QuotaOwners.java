package io.meshguard.extauthz.quota;

import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKeyStore;
import io.meshguard.db.TenantScope;
import java.util.Optional;

/**
 * Whose a quota counter is, for the admin endpoint: a caller sees and changes only the counters of its tenants, and
 * another tenant's counter does not exist for it (404, the same answer as for a counter of nobody).
 * <ul>
 *   <li>{@code tenant:T} belongs to tenant {@code T};</li>
 *   <li>{@code api_key:ID} to the tenant of API key {@code ID}, read in a transaction PostgreSQL confines to the
 *       caller's tenants (row-level security on {@code api_keys}, migration V35): a forgotten filter here leaks
 *       nothing;</li>
 *   <li>{@code subject:…} and {@code sha256:…} record no tenant, so only callers acting for every tenant (a system
 *       grant, the token file) reach them.</li>
 * </ul>
 */
public final class QuotaOwners {
    private final Optional<JdbcApiKeyStore> keys;

    /** @param keys the API keys' store; empty: {@code api_key:} counters are for system callers only */
    public QuotaOwners(Optional<JdbcApiKeyStore> keys) {
        this.keys = keys;
    }

    /** Every counter is everyone's: the endpoint without tenants (the token file's local mode, tests). */
    public static QuotaOwners unscoped() {
        return new QuotaOwners(Optional.empty());
    }

    /** Whether the counter of {@code caller} belongs to one of {@code scope}'s tenants. */
    public boolean visible(TenantScope scope, String caller) throws QuotaStore.UnavailableException {
        if (scope.all()) {
            return true;
        }
        if (caller.startsWith("tenant:")) {
            return scope.includes(caller.substring("tenant:".length()));
        }
        if (caller.startsWith("api_key:") && keys.isPresent()) {
            try {
                return keys.get()
                        .find(scope, caller.substring("api_key:".length()))
                        .isPresent();
            } catch (ApiKeyStore.UnavailableException e) {
                throw new QuotaStore.UnavailableException(
                        "the API key of " + caller + " could not be read: " + e.getMessage(), e);
            }
        }
        return false;
    }
}
