package io.meshguard.envoygateway.apply;

import java.util.Locale;

/**
 * What the zone does with a resource it applied that no longer matches the render (edited or deleted by hand): the
 * setting {@code zone.envoy_gateway.drift}.
 */
public enum DriftMode {
    /** Re-apply the render (server-side apply, taking the fields back from whoever changed them), count and log it. */
    CORRECT,
    /** Leave the resource as it is; log and report the drift until someone reconciles it or a new revision lands. */
    REPORT;

    /** The setting's value: {@code correct} or {@code report}. */
    public static DriftMode parse(String value) {
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "correct" -> CORRECT;
            case "report" -> REPORT;
            default ->
                throw new IllegalArgumentException(
                        "zone.envoy_gateway.drift must be correct or report, not '" + value + "'");
        };
    }

    /** The setting's spelling. */
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }
}
