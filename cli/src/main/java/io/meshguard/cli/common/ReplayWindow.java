package io.meshguard.cli.common;

import io.meshguard.audit.query.TimeArguments;
import java.time.Clock;
import java.time.Instant;
import picocli.CommandLine.Option;

/**
 * The window of recorded traffic a draft policy is replayed over ({@code policy impact}, {@code dlp impact}):
 * {@code --since} and {@code --until} (a picocli mixin, so both commands take the same forms).
 */
public final class ReplayWindow {
    @Option(
            names = "--since",
            defaultValue = "30d",
            paramLabel = "WHEN",
            description = "Start of the window: a duration ago (30d, 12h) or a time (default: ${DEFAULT-VALUE}).")
    private String since;

    @Option(names = "--until", paramLabel = "WHEN", description = "End of the window (default: now).")
    private String until;

    /** The window's bounds: {@code from} inclusive, {@code to} exclusive. */
    public record Bounds(Instant from, Instant to) {}

    /** {@code --since} and {@code --until} (else now) read on {@code clock}. */
    public Bounds read(Clock clock) {
        Instant from = TimeArguments.pointInTime(since, clock);
        return new Bounds(from, until == null ? clock.instant() : TimeArguments.pointInTime(until, clock));
    }
}
