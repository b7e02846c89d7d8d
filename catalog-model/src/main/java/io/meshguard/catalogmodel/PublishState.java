package io.meshguard.catalogmodel;

/** A product publish: a product made reachable on one cluster and environment, compiled into a gateway revision. */
public enum PublishState {
    DRAFT,
    PUBLISHED,
    /** Its routes are gone from the gateway revision; its subscriptions answer {@code no_subscription}. */
    WITHDRAWN;

    public static final Lifecycle<PublishState> LIFECYCLE = Lifecycle.of("product publish", PublishState.class)
            .from(DRAFT, PUBLISHED, WITHDRAWN)
            .from(PUBLISHED, WITHDRAWN)
            .from(WITHDRAWN, PUBLISHED)
            .build();
}
