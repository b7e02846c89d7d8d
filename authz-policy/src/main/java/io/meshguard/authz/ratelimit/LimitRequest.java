package io.meshguard.authz.ratelimit;

import io.meshguard.authz.policy.RateLimitPolicy.Limit;
import io.meshguard.authz.policy.RateLimitPolicy.OnStoreError;
import java.util.List;

/**
 * One caller's limits for one request.
 *
 * @param callerKey the escaped, length-prefixed caller identity ({@link RateLimitKeys}), scope and tier included
 * @param tier the tier name, for headers and logs
 * @param limits every limit of the tier; the request must fit all
 * @param onStoreError what to do while the shared store cannot answer
 */
public record LimitRequest(String callerKey, String tier, List<Limit> limits, OnStoreError onStoreError) {
    public LimitRequest {
        limits = List.copyOf(limits);
    }
}
