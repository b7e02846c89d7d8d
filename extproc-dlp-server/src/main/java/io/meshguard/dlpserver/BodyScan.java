package io.meshguard.dlpserver;

import io.meshguard.dlp.content.FindingListener;
import io.meshguard.dlp.content.Transformers;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.ProfilePath;
import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ValueHasher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Optional;

/**
 * One body scanned exactly as the server scans it (profile selection, content type, content-encoding, size and
 * non-text rules, the same transformers), for {@code meshguard dlp scan} and policy test cases.
 */
public final class BodyScan {
    /** Why a body was refused: the reason, and the blocking finding when there is one. */
    public record Blocked(String reason, Optional<Finding> finding) {}

    private final DirectionState state;
    private Blocked blocked;

    private BodyScan(DirectionState state) {
        this.state = state;
        state.headerBlock().ifPresent(b -> blocked = new Blocked(b.reason(), b.finding()));
    }

    /**
     * @param host request host (profiles may match on it)
     * @param path request path as sent ({@code :path}); profiles are chosen on its canonical form
     * @param contentType this direction's content type ("" = none)
     * @param contentEncoding this direction's content-encoding ("" = identity)
     */
    public static BodyScan open(
            DlpPolicy policy,
            Direction direction,
            String host,
            String path,
            String contentType,
            String contentEncoding,
            ValueHasher hasher,
            FindingListener listener) {
        return open(policy, direction, Optional.empty(), host, path, contentType, contentEncoding, hasher, listener);
    }

    /**
     * As the other {@code open}, for a stream whose gateway route names {@code routeProfile}
     * ({@code x-meshguard-dlp-profile}); the caller makes sure the policy has it (the server refuses the stream
     * otherwise).
     */
    public static BodyScan open(
            DlpPolicy policy,
            Direction direction,
            Optional<String> routeProfile,
            String host,
            String path,
            String contentType,
            String contentEncoding,
            ValueHasher hasher,
            FindingListener listener) {
        DlpMetrics metrics = new DlpMetrics(new SimpleMeterRegistry());
        ProfilePath profilePath = ProfilePath.of(path);
        if (profilePath.refused() && routeProfile.isEmpty()) {
            // as the server: a path extauthz refuses gets no profile, it is refused
            BodyScan refused =
                    new BodyScan(DirectionState.passing(direction, "invalid_path", metrics, DecoderBudget.unbounded()));
            refused.blocked = new Blocked("invalid_path", Optional.empty());
            return refused;
        }
        return new BodyScan(new DirectionState(
                direction,
                policy.select(direction, routeProfile, host, profilePath.path(), contentType),
                contentType,
                contentEncoding,
                false,
                hasher,
                listener,
                metrics,
                DecoderBudget.unbounded(),
                Transformers::forKind));
    }

    /** The profile that applies, if any. */
    public Optional<String> profile() {
        return state.policy.map(p -> p.profile());
    }

    /** Feeds a chunk; returns the bytes decided so far (empty once blocked). */
    public byte[] write(byte[] chunk) {
        return feed(chunk, false);
    }

    /** Ends the body; returns the rest. */
    public byte[] finish() {
        return feed(new byte[0], true);
    }

    private byte[] feed(byte[] chunk, boolean end) {
        if (blocked != null) {
            return new byte[0];
        }
        try {
            return state.body(chunk, end);
        } catch (BlockedException e) {
            blocked = new Blocked(e.decision().reason(), e.decision().finding());
            return new byte[0];
        }
    }

    /** Releases the decoder of a compressed body that is abandoned before {@link #finish}. */
    public void close() {
        state.close();
    }

    public Optional<Blocked> blocked() {
        return Optional.ofNullable(blocked);
    }

    /** Why part of the body was not scanned (non_text, oversize, unknown_encoding, no_profile), or "". */
    public String note() {
        return state.note();
    }
}
