package io.meshguard.catalogmodel;

import java.util.Objects;

/**
 * An application's subscription to one plan of one product publish. Changing plan keeps the subscription (and so its
 * credentials and its quota counters, docs/products.md "Plan changes").
 */
public record Subscription(String id, String applicationId, String publishId, String planId, SubscriptionState state) {

    public Subscription {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(applicationId, "applicationId");
        Objects.requireNonNull(publishId, "publishId");
        Objects.requireNonNull(planId, "planId");
        Objects.requireNonNull(state, "state");
    }

    /** The same subscription in {@code next}, if its lifecycle allows the move. */
    public Subscription moveTo(SubscriptionState next) {
        return new Subscription(id, applicationId, publishId, planId, SubscriptionState.LIFECYCLE.move(state, next));
    }

    /** The same subscription on another plan; only a live subscription changes plan. */
    public Subscription onPlan(String newPlanId) {
        if (state != SubscriptionState.ACTIVE
                && state != SubscriptionState.SUSPENDED
                && state != SubscriptionState.PENDING) {
            throw new TransitionRefused(
                    "subscription", state.name().toLowerCase(), "another plan", java.util.List.of());
        }
        return new Subscription(id, applicationId, publishId, newPlanId, state);
    }

    /**
     * The caller its plan's calendar quotas are counted for: the application on the product publish, not the
     * subscription, so closing a subscription and subscribing again (or moving to another plan) keeps the period's
     * count.
     */
    public String quotaCaller() {
        return "application:" + applicationId + "@" + publishId;
    }
}
