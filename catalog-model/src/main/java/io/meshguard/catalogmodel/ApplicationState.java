package io.meshguard.catalogmodel;

/** A customer's application; suspending it suspends every call it makes, whatever its subscriptions say. */
public enum ApplicationState {
    ACTIVE,
    SUSPENDED;

    public static final Lifecycle<ApplicationState> LIFECYCLE = Lifecycle.of("application", ApplicationState.class)
            .from(ACTIVE, SUSPENDED)
            .from(SUSPENDED, ACTIVE)
            .build();
}
