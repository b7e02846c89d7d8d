package io.meshguard.catalogmodel;

import java.util.Objects;

/**
 * A customer organisation's client of products.
 *
 * @param tenant the customer organisation that owns it (row-level security confines it like every tenant row)
 */
public record Application(String id, String tenant, String name, ApplicationState state) {

    public Application {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
    }
}
