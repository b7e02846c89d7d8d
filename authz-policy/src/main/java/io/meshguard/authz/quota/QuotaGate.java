package io.meshguard.authz.quota;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.request.Identity;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Charges an allowed request against the policy's calendar quotas: the engine's one call per Check. */
public interface QuotaGate {
    /** No quota counting (policy tests without a store, tools). */
    QuotaGate NONE = (policy, route, caller, requestedTier, alreadyCharged) -> QuotaVerdict.NONE;

    /**
     * @param route the route the request matched
     * @param requestedTier the tier the gateway route asks for ({@code meshguard.rate_limit_tier}), if any
     * @param alreadyCharged quotas the trusted gateway charged for this very request (gateway hop only): not charged again
     */
    QuotaVerdict charge(
            AuthzPolicy policy,
            String route,
            Identity caller,
            Optional<String> requestedTier,
            Set<String> alreadyCharged);

    /**
     * Charges one request to a subscription's calendar quotas (its plan's, and the operation's when the plan limits
     * it), counted per subscription by the same day/month counters and stores as the policy's quotas. Not counting
     * by default (no store).
     */
    default QuotaVerdict chargeSubscription(String subscription, List<SubscriptionQuota> quotas) {
        return QuotaVerdict.NONE;
    }

    /**
     * One calendar quota of a subscription. The counter is named by the subscription and {@code counter}, never by
     * the plan: moving to another plan keeps what was used this period, and the new plan's limit applies to it
     * (docs/products.md, "Changing plans").
     *
     * @param counter {@code subscription}, or {@code subscription/<operation>} for an operation's own quota
     */
    record SubscriptionQuota(String counter, io.meshguard.catalogmodel.CalendarQuota quota) {
        /** The quota as the counters count it: per subscription, one tier ({@code plan}), the plan's limit. */
        public io.meshguard.authz.policy.QuotaPolicy asPolicy() {
            return new io.meshguard.authz.policy.QuotaPolicy(
                    counter,
                    io.meshguard.authz.policy.QuotaPolicy.Per.SUBJECT,
                    quota.period() == io.meshguard.catalogmodel.CalendarQuota.Period.DAY
                            ? io.meshguard.authz.policy.QuotaPolicy.Period.DAY
                            : io.meshguard.authz.policy.QuotaPolicy.Period.MONTH,
                    quota.zone(),
                    java.util.Map.of("plan", quota.limit()),
                    "plan",
                    quota.blockWhenUsedUp()
                            ? io.meshguard.authz.policy.QuotaPolicy.OnExceed.BLOCK
                            : io.meshguard.authz.policy.QuotaPolicy.OnExceed.ALLOW_AND_FLAG,
                    List.of(),
                    Set.of(),
                    0);
        }
    }
}
