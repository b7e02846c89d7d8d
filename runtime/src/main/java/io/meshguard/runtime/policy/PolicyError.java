package io.meshguard.runtime.policy;

import io.meshguard.runtime.yaml.InvalidYamlException;

/**
 * One problem in a policy file, printed as {@code file:line: message} so editors and CI can jump to it.
 *
 * @param file the file name ({@link PolicySource#fileName()})
 * @param line 1-based line, 0 when the problem concerns the whole file or the set of files
 */
public record PolicyError(String file, int line, String message) {

    /** The error a YAML accessor raised. */
    public static PolicyError of(InvalidYamlException e) {
        return new PolicyError(e.sourceName(), e.line(), e.reason());
    }

    @Override
    public String toString() {
        return line > 0 ? file + ":" + line + ": " + message : file + ": " + message;
    }
}
