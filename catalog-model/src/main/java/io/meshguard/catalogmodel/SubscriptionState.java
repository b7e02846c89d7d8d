package io.meshguard.catalogmodel;

/**
 * An application's subscription to a plan of a product publish. Rejected and closed are final: a customer subscribes
 * again rather than a provider reviving a subscription whose approval trail says otherwise (Gravitee #4799).
 */
public enum SubscriptionState {
    /** Waiting for a provider's approval (manual plans); calls answer {@code subscription_pending}. */
    PENDING,
    ACTIVE,
    /** Calls answer {@code subscription_suspended}; may be resumed. */
    SUSPENDED,
    /** Ended by the customer, the provider or a closed plan; final. */
    CLOSED,
    /** Refused by the provider with a reason; final. */
    REJECTED;

    public static final Lifecycle<SubscriptionState> LIFECYCLE = Lifecycle.of("subscription", SubscriptionState.class)
            .from(PENDING, ACTIVE, REJECTED, CLOSED)
            .from(ACTIVE, SUSPENDED, CLOSED)
            .from(SUSPENDED, ACTIVE, CLOSED)
            .build();
}
