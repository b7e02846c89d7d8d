package io.meshguard.extauthz.server;

import io.grpc.Context;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.quota.QuotaVerdict;
import io.meshguard.authz.request.Identity;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Charges nothing for a Check whose call is already cancelled: Envoy cancels its Check when the downstream resets,
 * and no request follows a Check nobody is waiting for. Outside a gRPC call (the CLI's checks) the context is never
 * cancelled and every charge goes through.
 */
final class ChargesUnlessCancelled implements QuotaGate {
    private final QuotaGate quotas;

    ChargesUnlessCancelled(QuotaGate quotas) {
        this.quotas = quotas;
    }

    static QuotaGate of(QuotaGate quotas) {
        return quotas == QuotaGate.NONE ? quotas : new ChargesUnlessCancelled(quotas);
    }

    @Override
    public QuotaVerdict charge(
            AuthzPolicy policy,
            String route,
            Identity caller,
            Optional<String> requestedTier,
            Set<String> alreadyCharged) {
        return Context.current().isCancelled()
                ? QuotaVerdict.NONE
                : quotas.charge(policy, route, caller, requestedTier, alreadyCharged);
    }

    @Override
    public QuotaVerdict chargeSubscription(String subscription, List<SubscriptionQuota> owed) {
        return Context.current().isCancelled() ? QuotaVerdict.NONE : quotas.chargeSubscription(subscription, owed);
    }
}
