package io.meshguard.dlpserver;

import java.time.Duration;

/**
 * How long the server may take over one message before it gives up on the stream, per phase, and (optionally) how
 * long a whole bounded stream may stay open.
 *
 * <p>Why the server bounds itself: with {@code FULL_DUPLEX_STREAMED} Envoy starts no message timer for any call of
 * that direction, headers included ({@code ProcessorState::onStartProcessorCall}, "Skip starting timer For
 * FULL_DUPLEX_STREAMED body mode", {@code source/extensions/filters/http/ext_proc/processor_state.cc}), so
 * {@code message_timeout} is dead config; and Istio disables {@code stream_idle_timeout} on every connection manager
 * it builds ({@code pilot/pkg/networking/core/listener_builder.go}). A stalled scan would otherwise hold the request
 * open until the client gives up.
 *
 * @param headers from a headers message's arrival to its answer
 * @param bodyChunk from a body message's arrival until the server has dealt with it (answered, or decided to hold
 *     its bytes back for the next one)
 * @param trailers from a trailers message's arrival to its answer (the held-back tail is decided there)
 * @param stream a whole stream that is neither an event stream nor an upgrade (WebSocket); {@link Duration#ZERO}
 *     = no bound
 */
public record PhaseDeadlines(Duration headers, Duration bodyChunk, Duration trailers, Duration stream) {
    /** Headers 2 s (they cost microseconds), body chunks and trailers 5 s, whole streams unbounded. */
    public static final PhaseDeadlines DEFAULTS =
            new PhaseDeadlines(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ZERO);

    public PhaseDeadlines {
        if (!positive(headers) || !positive(bodyChunk) || !positive(trailers)) {
            throw new IllegalArgumentException("DLP phase deadlines must be positive (headers " + headers
                    + ", body chunk " + bodyChunk + ", trailers " + trailers + ")");
        }
        if (stream.isNegative()) {
            throw new IllegalArgumentException("dlp.deadline.stream must be 0 (no bound) or positive: " + stream);
        }
    }

    private static boolean positive(Duration d) {
        return !d.isNegative() && !d.isZero();
    }

    /** How often the watch looks: a quarter of the shortest deadline, between 10 ms and 250 ms. */
    Duration sweepInterval() {
        long shortest = Math.min(headers.toMillis(), Math.min(bodyChunk.toMillis(), trailers.toMillis()));
        if (!stream.isZero()) {
            shortest = Math.min(shortest, stream.toMillis());
        }
        return Duration.ofMillis(Math.max(10, Math.min(250, shortest / 4)));
    }
}
