package io.meshguard.authz.policy;

import java.util.List;
import java.util.stream.Collectors;

/** A policy file that cannot be used; carries every error found, each with file and line. */
public final class PolicyInvalidException extends Exception {
    private static final long serialVersionUID = 1L;
    private final List<PolicyError> errors;

    public PolicyInvalidException(List<PolicyError> errors) {
        super(errors.stream().map(PolicyError::toString).collect(Collectors.joining("\n")));
        this.errors = List.copyOf(errors);
    }

    public List<PolicyError> errors() {
        return errors;
    }
}
