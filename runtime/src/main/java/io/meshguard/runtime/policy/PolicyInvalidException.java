package io.meshguard.runtime.policy;

import java.util.List;
import java.util.stream.Collectors;

/** Policy files that must not replace the running policy; carries every error found. */
public final class PolicyInvalidException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient List<PolicyError> errors;

    /** @param errors at least one error */
    public PolicyInvalidException(List<PolicyError> errors) {
        super(errors.stream().map(PolicyError::toString).collect(Collectors.joining("\n")));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("an invalid policy needs at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    /** One error. */
    public PolicyInvalidException(PolicyError error) {
        this(List.of(error));
    }

    /** Every error, in the order found. */
    public List<PolicyError> errors() {
        return errors;
    }
}
