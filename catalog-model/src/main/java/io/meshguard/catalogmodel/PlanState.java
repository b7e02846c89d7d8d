package io.meshguard.catalogmodel;

/**
 * A plan's life, as Gravitee's: a closed plan closes its subscriptions and never reopens (a customer who was cut off
 * must not be silently let back in by a provider's slip).
 */
public enum PlanState {
    /** Defined, not offered to customers. */
    STAGING,
    /** Offered; subscriptions may be created. */
    PUBLISHED,
    /** Existing subscriptions keep working; no new ones. */
    DEPRECATED,
    /** Every subscription on it is denied with {@code plan_closed}; final. */
    CLOSED;

    public static final Lifecycle<PlanState> LIFECYCLE = Lifecycle.of("plan", PlanState.class)
            .from(STAGING, PUBLISHED, CLOSED)
            .from(PUBLISHED, DEPRECATED, CLOSED)
            .from(DEPRECATED, PUBLISHED, CLOSED)
            .build();

    /** Whether a new subscription (or a move onto this plan) may be made. */
    public boolean acceptsSubscriptions() {
        return this == PUBLISHED;
    }
}
