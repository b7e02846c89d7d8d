package io.meshguard.xds;

import java.util.Optional;

/** The controller the journey tests run: ADS on a free loopback port, a 10 ms debounce, local-development peers. */
public final class LoopbackSettings {
    private LoopbackSettings() {}

    public static XdsSettings of() {
        return XdsSettings.onLoopback("test", Optional.empty());
    }
}
