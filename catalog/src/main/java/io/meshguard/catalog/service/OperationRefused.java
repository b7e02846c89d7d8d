package io.meshguard.catalog.service;

/**
 * A typed service refused an operation: {@code status} is what the REST API answers for it (403, 404, 409, 422, 502,
 * 503, …) and the message is the one shown to the caller, over HTTP as {@code {"error": …}} and in the console.
 */
public final class OperationRefused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public OperationRefused(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
