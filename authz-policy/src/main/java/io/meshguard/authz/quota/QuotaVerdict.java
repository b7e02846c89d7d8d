package io.meshguard.authz.quota;

import java.util.List;
import java.util.Optional;

/**
 * What the quotas say about one request.
 *
 * @param blocked the quota that refuses it, if any
 * @param flagged {@code allow_and_flag} quotas it exceeds (it is allowed, the upstream and the audit log are told)
 * @param closest the counted quota with the fewest requests left, for the response headers
 */
public record QuotaVerdict(Optional<Blocked> blocked, List<String> flagged, Optional<Standing> closest) {
    /** No quota applies. */
    public static final QuotaVerdict NONE = new QuotaVerdict(Optional.empty(), List.of(), Optional.empty());

    /** Request header that tells the upstream which {@code allow_and_flag} quotas the caller is over (comma-separated). */
    public static final String FLAG_HEADER = "x-meshguard-quota-exceeded";

    /**
     * A refusal.
     *
     * @param storeUnavailable true when no count could be had (Redis and PostgreSQL both away, the caller's count
     *     unknown): a {@code block} quota then fails closed with 503
     * @param retryAfterSeconds until the period resets (429) or a short retry hint (503)
     */
    public record Blocked(String quota, long limit, long retryAfterSeconds, boolean storeUnavailable) {}

    /** How a caller stands against one quota after this request. */
    public record Standing(String quota, long limit, long remaining, long resetSeconds) {}

    /** Both verdicts of one allowed request (the plan's quotas and the policy's): every flag, the closest standing. */
    public QuotaVerdict and(QuotaVerdict other) {
        if (other == NONE) {
            return this;
        }
        if (this == NONE) {
            return other;
        }
        List<String> flags = new java.util.ArrayList<>(flagged);
        flags.addAll(other.flagged);
        Optional<Standing> nearest = closest.isEmpty()
                ? other.closest
                : other.closest.isEmpty()
                        ? closest
                        : Optional.of(
                                closest.get().remaining() <= other.closest.get().remaining()
                                        ? closest.get()
                                        : other.closest.get());
        return new QuotaVerdict(blocked.or(() -> other.blocked), List.copyOf(flags), nearest);
    }
}
