package io.meshguard.xds;

import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.snapshot.FilterTargets;
import java.time.Duration;
import java.util.Optional;

/** The controller the journey tests run: ADS on a free loopback port, a 10 ms debounce, local-development peers. */
public final class LoopbackSettings {
    private LoopbackSettings() {}

    public static XdsSettings of() {
        return new XdsSettings(
                "127.0.0.1",
                0,
                Optional.empty(),
                FilterTargets.DEFAULTS,
                Optional.empty(),
                Duration.ofMillis(10),
                Duration.ofMinutes(1),
                Duration.ZERO,
                "test",
                AdsPeerPolicy.localDevelopment());
    }
}
