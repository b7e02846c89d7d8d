package io.meshguard.envoygateway.schema;

import java.util.Objects;

/**
 * Why the Kubernetes API server would refuse a resource: which resource, where in it, and what is wrong.
 *
 * @param resource {@code Kind/name}
 * @param path a JSON pointer into the resource ({@code /spec/rules/0/matches})
 * @param message what the schema or the CEL rule says
 */
public record SchemaProblem(String resource, String path, String message) {
    public SchemaProblem {
        Objects.requireNonNull(resource, "resource");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return resource + " " + (path.isEmpty() ? "/" : path) + ": " + message;
    }
}
