package io.meshguard.cli.canary;

import java.util.Locale;

/**
 * What one canary found.
 *
 * @param detail what the client got, for the log and {@code --once}'s table
 */
public record CanaryResult(String route, CanaryKind kind, Outcome outcome, String detail) {

    /** The metric's {@code result} label. */
    public enum Outcome {
        /** The path refused the canary as it must: the Check denied it, or the DLP blocked it. */
        PASSED,
        /** The canary got through: the route is not protected as it claims. */
        GOT_THROUGH,
        /** The path could not be reached or answered with an error: nothing is proven either way. */
        UNREACHABLE;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public boolean passed() {
        return outcome == Outcome.PASSED;
    }
}
