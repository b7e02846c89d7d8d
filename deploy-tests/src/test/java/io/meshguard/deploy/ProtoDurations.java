package io.meshguard.deploy;

import java.math.BigDecimal;
import java.time.Duration;

/** Durations in protobuf JSON form ({@code 1s}, {@code 0.5s}), as Istio and Envoy config write them. */
final class ProtoDurations {
    private ProtoDurations() {}

    static Duration parse(String text) {
        if (!text.endsWith("s")) {
            throw new IllegalArgumentException("not a protobuf duration (must end in s): " + text);
        }
        BigDecimal seconds = new BigDecimal(text.substring(0, text.length() - 1));
        return Duration.ofNanos(seconds.movePointRight(9).longValueExact());
    }
}
