package io.meshguard.catalog.service;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.runtime.http.AdminJson;
import java.util.Optional;

/**
 * A typed service refused an operation: {@code status} is what the REST API answers for it (403, 404, 409, 422, 502,
 * 503, …, by the admin plane's table of error kinds) and the message is the one shown to the caller, over HTTP as
 * {@code {"error": …}} and in the console.
 */
public final class OperationRefused extends AdminJson.Refusal {
    private static final long serialVersionUID = 1L;

    private final transient Optional<String> code;

    public OperationRefused(int status, String message) {
        this(status, Optional.empty(), message);
    }

    /** A refusal with the problem code ({@code docs/problem-codes.md}) tooling matches on. */
    public OperationRefused(int status, Optional<String> code, String message) {
        super(status, message);
        this.code = code;
    }

    public Optional<String> code() {
        return code;
    }

    @Override
    public ObjectNode body() {
        ObjectNode out = super.body();
        code.ifPresent(c -> out.put("code", c));
        return out;
    }
}
