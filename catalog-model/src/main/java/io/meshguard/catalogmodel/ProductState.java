package io.meshguard.catalogmodel;

/** A product's place in its catalogue life (Apigee/Konnect semantics, docs/products.md). */
public enum ProductState {
    /** Being defined; not visible to customers, cannot be published. */
    DRAFT,
    /** Visible to the customers its visibility admits; may be published and subscribed to. */
    PUBLISHED,
    /** Still served to existing subscriptions; no new subscriptions. */
    DEPRECATED,
    /** Withdrawn everywhere; final. */
    RETIRED;

    public static final Lifecycle<ProductState> LIFECYCLE = Lifecycle.of("product", ProductState.class)
            .from(DRAFT, PUBLISHED, RETIRED)
            .from(PUBLISHED, DEPRECATED, RETIRED)
            .from(DEPRECATED, PUBLISHED, RETIRED)
            .build();
}
