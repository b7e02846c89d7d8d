package io.meshguard.extauthz.subscription;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where extauthz follows subscription state ({@code subscriptions.*}).
 *
 * @param controller host:port of the xDS controller's ADS port; empty: product routes are refused (503)
 */
public record SubscriptionStateSettings(Optional<String> controller, Duration maxStaleness) {

    public static final ConfigKey<String> CONTROLLER = ConfigKey.string(
            "subscriptions.controller",
            "",
            "host:port of the xds-controller's ADS port, where this replica follows the catalogue's subscription "
                    + "state. Empty: routes that name a product publish are refused with 503 "
                    + "subscription_state_unavailable.");
    public static final ConfigKey<Duration> MAX_STALENESS = ConfigKey.duration(
            "subscriptions.max_staleness",
            Duration.ofSeconds(10),
            "How long a replica keeps deciding product routes from its last snapshot while "
                    + "the stream to the controller is down; after that they are refused (a suspension it may have "
                    + "missed must not be honoured late).");

    public static final SubscriptionStateSettings NONE =
            new SubscriptionStateSettings(Optional.empty(), Duration.ofSeconds(10));

    public static ConfigGroup<SubscriptionStateSettings> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(CONTROLLER, MAX_STALENESS);
            }

            @Override
            public SubscriptionStateSettings read(Config config) {
                String target = config.get(CONTROLLER).strip();
                return new SubscriptionStateSettings(
                        target.isEmpty() ? Optional.empty() : Optional.of(target), config.get(MAX_STALENESS));
            }
        };
    }
}
