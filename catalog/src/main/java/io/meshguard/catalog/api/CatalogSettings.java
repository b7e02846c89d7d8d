package io.meshguard.catalog.api;

import io.meshguard.catalog.Environment;
import io.meshguard.catalog.PublishHost;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.util.List;

/** The catalogue API's settings ({@code catalog.*}), served on the xDS controller's admin port. */
public record CatalogSettings(String domain) {

    public static final ConfigKey<String> DOMAIN = ConfigKey.string("catalog.domain", "meshguard.localhost",
            "DNS domain product publishes are served under: {product}.{environment}.{cluster region}.api.{domain}.");

    public CatalogSettings {
        // fail at start, naming the key, rather than at the first publish
        try {
            PublishHost.of("p", Environment.DEV, "r", domain);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(DOMAIN.name() + ": " + e.getMessage(), e);
        }
    }

    public static ConfigGroup<CatalogSettings> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(DOMAIN);
            }

            @Override
            public CatalogSettings read(Config config) {
                return new CatalogSettings(config.get(DOMAIN));
            }
        };
    }
}
