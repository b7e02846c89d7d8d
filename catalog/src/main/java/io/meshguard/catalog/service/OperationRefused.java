package io.meshguard.catalog.service;

import io.meshguard.runtime.http.AdminJson;

/**
 * A typed service refused an operation: {@code status} is what the REST API answers for it (403, 404, 409, 422, 502,
 * 503, …, by the admin plane's table of error kinds) and the message is the one shown to the caller, over HTTP as
 * {@code {"error": …}} and in the console.
 */
public final class OperationRefused extends AdminJson.Refusal {
    private static final long serialVersionUID = 1L;

    public OperationRefused(int status, String message) {
        super(status, message);
    }
}
