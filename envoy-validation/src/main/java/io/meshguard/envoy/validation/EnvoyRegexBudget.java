package io.meshguard.envoy.validation;

import com.google.re2j.Pattern;

/**
 * How large a compiled regex the gateway's Envoy accepts. Envoy compiles every {@code safe_regex} with C++ RE2 and
 * refuses one whose program is larger than the runtime value {@code re2.max_program_size.error_level} — 100 unless
 * the bootstrap raises it (envoyproxy/envoy {@code api/envoy/type/matcher/v3/regex.proto}, {@code GoogleRE2};
 * {@code source/common/common/regex.cc}, {@code CompiledGoogleReMatcher}) — and with it the whole
 * RouteConfiguration is NACKed. meshguard's two bootstraps raise it to {@link #ERROR_LEVEL}
 * ({@code manifests/istio/base/envoy/bootstrap.yaml}, {@code deploy/local/envoy-bootstrap.yaml}; a deploy-test
 * keeps them equal to this constant).
 *
 * <p>No C++ RE2 runs here, so the size is estimated from RE2/J's {@code programSize()}: C++ programs come out about
 * twice as large ({@code ^/v4/advisory/[0-9a-z-]{36}/clone$} is 118 in Envoy, envoyproxy/gateway#2543, and 59 in
 * RE2/J; {@code /asdf/.*} is 24 in Envoy's regex test and 10 in RE2/J), so RE2/J × {@value #CPP_PER_RE2J} is the
 * bound checked — a regex refused here might just fit, none accepted here should be NACKed.
 */
public final class EnvoyRegexBudget {
    private EnvoyRegexBudget() {}

    /** {@code re2.max_program_size.error_level} in meshguard's gateway bootstraps. */
    public static final int ERROR_LEVEL = 1000;
    /** C++ RE2 program size per RE2/J program size, rounded up from the calibration points above. */
    public static final double CPP_PER_RE2J = 2.5;

    /** The estimated C++ RE2 program size of a regex RE2/J compiles. */
    public static long estimatedEnvoySize(String regex) {
        return (long) Math.ceil(Pattern.compile(regex).programSize() * CPP_PER_RE2J);
    }

    /** Whether Envoy with meshguard's bootstrap would refuse this (valid) regex as too large. */
    public static boolean tooLarge(String regex) {
        return estimatedEnvoySize(regex) > ERROR_LEVEL;
    }

    /** The error text for a regex that is too large. */
    public static String tooLargeMessage(String regex) {
        return "regex too large for Envoy: estimated RE2 program size " + estimatedEnvoySize(regex)
                + " (RE2/J " + Pattern.compile(regex).programSize() + " × " + CPP_PER_RE2J + ") exceeds "
                + "re2.max_program_size.error_level " + ERROR_LEVEL + "; Envoy would reject the whole route table."
                + " Shorten bounded repeats ({n}) and alternations";
    }
}
