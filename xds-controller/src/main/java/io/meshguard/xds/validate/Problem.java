package io.meshguard.xds.validate;

/**
 * One finding of the validator: an error refuses the configuration, a warning does not, an info only tells the operator
 * what the gateway will do with it (e.g. the Envoy cluster type an upstream becomes).
 *
 * @param path where it is, e.g. {@code routes[payments-v2-transfers].destinations}
 */
public record Problem(Severity severity, String path, String message) {

    public enum Severity { ERROR, WARNING, INFO }

    public static Problem error(String path, String message) {
        return new Problem(Severity.ERROR, path, message);
    }

    public static Problem warning(String path, String message) {
        return new Problem(Severity.WARNING, path, message);
    }

    public static Problem info(String path, String message) {
        return new Problem(Severity.INFO, path, message);
    }

    @Override
    public String toString() {
        return severity.name().toLowerCase(java.util.Locale.ROOT) + " " + path + ": " + message;
    }
}
