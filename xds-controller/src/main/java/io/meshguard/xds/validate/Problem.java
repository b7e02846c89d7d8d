package io.meshguard.xds.validate;

/**
 * One finding of the validator.
 *
 * @param path where it is, e.g. {@code routes[payments-v2-transfers].destinations}
 */
public record Problem(Severity severity, String path, String message) {

    public enum Severity { ERROR, WARNING }

    public static Problem error(String path, String message) {
        return new Problem(Severity.ERROR, path, message);
    }

    public static Problem warning(String path, String message) {
        return new Problem(Severity.WARNING, path, message);
    }

    @Override
    public String toString() {
        return severity.name().toLowerCase(java.util.Locale.ROOT) + " " + path + ": " + message;
    }
}
