package io.meshguard.catalogmodel;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a provider sells: catalogue data and its operations. The id is the first label of every host it is published
 * on, so it is unique across tenants.
 */
public record Product(
        String id,
        String tenant,
        String name,
        String version,
        Optional<String> description,
        List<String> tags,
        Optional<String> docsUrl,
        Visibility visibility,
        ProductState state,
        List<Operation> operations) {

    /** Who sees the product in the catalogue. */
    public enum Visibility {
        /** Every signed-in customer. */
        PUBLIC,
        /** Its own tenant only (invited customers: a later change). */
        PRIVATE,
        /** Its own tenant's teams only. */
        INTERNAL
    }

    public Product {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(description, "description");
        tags = List.copyOf(tags);
        Objects.requireNonNull(docsUrl, "docsUrl");
        Objects.requireNonNull(visibility, "visibility");
        Objects.requireNonNull(state, "state");
        operations = List.copyOf(operations);
    }

    /** One thing a product lets its subscribers do: an API of the same tenant, a method and a path. */
    public record Operation(String id, String api, String method, String path) {
        public Operation {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(api, "api");
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(path, "path");
            if (!id.matches("[a-z0-9][a-z0-9._-]{0,99}")) {
                throw new IllegalArgumentException("operation id '" + id + "': lower-case letters, digits, . _ -");
            }
            if (!method.matches("GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|\\*")) {
                throw new IllegalArgumentException("operation " + id + ": unknown method " + method);
            }
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("operation " + id + ": path must start with /");
            }
        }
    }
}
