package io.meshguard.authz.policy;

/** One problem found in a policy file, located so a person can jump to it ({@code file:line: message}). */
public record PolicyError(String file, int line, String message) {
    @Override
    public String toString() {
        return file + ":" + line + ": " + message;
    }
}
