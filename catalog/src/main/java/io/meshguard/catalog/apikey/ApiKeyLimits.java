package io.meshguard.catalog.apikey;

import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.util.List;

/**
 * How many API keys a tenant may mint through the admin API and the developer portal: at most
 * {@code maxLivePerTenant} keys that still work (not revoked, not expired), and at most {@code createdPerTenantPerHour}
 * new ones (rotations' successors not counted: a rotation replaces a key) in any hour. Counted in PostgreSQL under a
 * per-tenant lock ({@link JdbcApiKeyStore#tenantKeys}), so every replica enforces the same totals. Operators with
 * database access ({@code meshguard apikey create}) are not limited.
 */
public record ApiKeyLimits(long maxLivePerTenant, long createdPerTenantPerHour) {
    public static final ConfigKey<Long> MAX_LIVE_PER_TENANT = ConfigKey.longInteger(
            "apikey.max_live_keys_per_tenant",
            1_000,
            1,
            10_000_000,
            "Most API keys one tenant may hold that still work (not revoked, not expired; a rotated key counts until its "
                    + "overlap ends). A create or portal issue beyond it is refused (409) until a key is revoked; it "
                    + "bounds what one tenant adds to every replica's key ids and to the key table.");
    public static final ConfigKey<Long> CREATED_PER_TENANT_PER_HOUR = ConfigKey.longInteger(
            "apikey.created_per_tenant_per_hour",
            100,
            1,
            1_000_000,
            "Most API keys one tenant may create in any hour (revoked ones too; rotations are not creations). A create "
                    + "or portal issue beyond it is refused (429) until the oldest of that hour's keys is an hour old.");

    public static final ApiKeyLimits DEFAULTS =
            new ApiKeyLimits(MAX_LIVE_PER_TENANT.defaultValue(), CREATED_PER_TENANT_PER_HOUR.defaultValue());

    public ApiKeyLimits {
        if (maxLivePerTenant < 1 || createdPerTenantPerHour < 1) {
            throw new IllegalArgumentException("API key limits must be at least 1");
        }
    }

    /** Refuses a new key for {@code tenant} when it holds or created too many: 409 (live keys) or 429 (this hour). */
    void admit(String tenant, JdbcApiKeyStore.TenantKeys keys) {
        if (keys.live() >= maxLivePerTenant) {
            throw new OperationRefused(
                    409,
                    "tenant '" + tenant + "' holds " + keys.live() + " working API keys, the most it may hold ("
                            + MAX_LIVE_PER_TENANT.name() + "): revoke one it no longer uses first");
        }
        if (keys.createdLastHour() >= createdPerTenantPerHour) {
            throw new OperationRefused(
                    429,
                    "tenant '" + tenant + "' created " + keys.createdLastHour() + " API keys in the last hour, the most"
                            + " it may (" + CREATED_PER_TENANT_PER_HOUR.name() + "): try again later");
        }
    }

    public static ConfigGroup<ApiKeyLimits> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(MAX_LIVE_PER_TENANT, CREATED_PER_TENANT_PER_HOUR);
            }

            @Override
            public ApiKeyLimits read(Config config) {
                return new ApiKeyLimits(config.get(MAX_LIVE_PER_TENANT), config.get(CREATED_PER_TENANT_PER_HOUR));
            }
        };
    }
}
