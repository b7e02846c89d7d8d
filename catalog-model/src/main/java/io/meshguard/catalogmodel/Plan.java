package io.meshguard.catalogmodel;

import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One way a product is sold: limits for the product and per operation, how subscriptions are approved and which
 * credentials it admits. Every field changes a decision (PlanFieldsTest); a field that changed nothing would be a
 * plan declared but not enforced, Apigee's classic pitfall.
 *
 * @param operationLimits limits per operation id, applied on top of {@code limits}
 */
public record Plan(
        String id,
        String productId,
        String name,
        PlanState state,
        PlanLimits limits,
        Map<String, PlanLimits> operationLimits,
        Approval approval,
        Set<AuthMode> authModes) {

    /** Whether a new subscription is active at once or waits for a provider. */
    public enum Approval {
        AUTO,
        MANUAL
    }

    public Plan {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(productId, "productId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(limits, "limits");
        operationLimits = Map.copyOf(operationLimits);
        Objects.requireNonNull(approval, "approval");
        authModes = Set.copyOf(authModes);
        if (authModes.isEmpty()) {
            throw new IllegalArgumentException("plan " + name + ": names no auth mode, so nobody could use it");
        }
        if (authModes.contains(AuthMode.NONE) && authModes.size() > 1) {
            throw new IllegalArgumentException("plan " + name + ": auth mode none cannot be mixed with credentials");
        }
    }

    /** The state a new subscription to this plan starts in. */
    public SubscriptionState initialSubscriptionState() {
        return approval == Approval.AUTO ? SubscriptionState.ACTIVE : SubscriptionState.PENDING;
    }

    /** Every auth mode a credential may have on this plan. */
    public Set<AuthMode> credentialModes() {
        Set<AuthMode> modes = EnumSet.noneOf(AuthMode.class);
        modes.addAll(authModes);
        modes.remove(AuthMode.NONE);
        return modes;
    }
}
