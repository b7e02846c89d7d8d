package io.meshguard.access;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;

/**
 * One admin operation, declared once: its {@link AdminRoute} (method, path template, permission, scope), the one-line
 * summary the OpenAPI document shows, the status it answers with when it succeeds (201 for a create, never guessed
 * from the path), the JSON Schema of its request body if it takes one, and its handler. The gate admits from the
 * route, the API dispatches to the handler of the same row, and the OpenAPI document is written from the same row.
 *
 * @param <H> the handler type of the API that declares the operation (each API calls its handlers with its own call)
 */
public record AdminOperation<H>(
        AdminRoute route, String summary, int status, Optional<ObjectNode> requestBody, H handler) {

    public AdminOperation {
        if (status < 200 || status > 299) {
            throw new IllegalArgumentException(route.method() + " " + route.path() + ": success status " + status);
        }
    }

    /** An operation answering 200. */
    public static <H> AdminOperation<H> of(AdminRoute route, String summary, H handler) {
        return new AdminOperation<>(route, summary, 200, Optional.empty(), handler);
    }

    /** An operation that creates an object: 201. */
    public static <H> AdminOperation<H> created(AdminRoute route, String summary, H handler) {
        return new AdminOperation<>(route, summary, 201, Optional.empty(), handler);
    }

    /** The same operation taking a JSON body of {@code schema}. */
    public AdminOperation<H> takes(ObjectNode schema) {
        return new AdminOperation<>(route, summary, status, Optional.of(schema), handler);
    }

    /** The same operation with another handler (an API wrapping its handlers, e.g. with a body check). */
    public <G> AdminOperation<G> handledBy(G other) {
        return new AdminOperation<>(route, summary, status, requestBody, other);
    }
}
