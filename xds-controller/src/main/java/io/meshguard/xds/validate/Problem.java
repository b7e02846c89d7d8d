package io.meshguard.xds.validate;

/**
 * One finding of the validator: an error refuses the configuration, a warning does not, an info only tells the operator
 * what the gateway will do with it (e.g. the Envoy cluster type an upstream becomes).
 *
 * @param code which rule it is, stable across releases ({@code docs/problem-codes.md})
 * @param path where it is, e.g. {@code routes[payments-v2-transfers].destinations}
 */
public record Problem(ProblemCode code, Severity severity, String path, String message) {

    public enum Severity {
        ERROR,
        WARNING,
        INFO
    }

    public static Problem error(ProblemCode code, String path, String message) {
        return new Problem(code, Severity.ERROR, path, message);
    }

    public static Problem warning(ProblemCode code, String path, String message) {
        return new Problem(code, Severity.WARNING, path, message);
    }

    public static Problem info(ProblemCode code, String path, String message) {
        return new Problem(code, Severity.INFO, path, message);
    }

    /** {@code error routes[edge/buy].api: unknown API 'shop' [MG-ROUTE-003]}: the code last, so lines still read. */
    @Override
    public String toString() {
        return severity.name().toLowerCase(java.util.Locale.ROOT) + " " + path + ": " + message + " [" + code.code()
                + "]";
    }
}
