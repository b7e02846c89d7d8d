package io.meshguard.dlp.policy;

/** One problem in a policy file, with where it is. */
public record PolicyError(String file, int line, String message) {
    @Override
    public String toString() {
        return file + ":" + line + ": " + message;
    }
}
