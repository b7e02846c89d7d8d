package io.meshguard.authz.condition;

import com.github.benmanes.caffeine.cache.Cache;
import dev.cel.common.CelErrorCode;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelVariableResolver;
import io.meshguard.authz.request.Identity;
import java.util.Optional;

/**
 * One compiled, type-checked {@code when:} expression. Evaluation never throws and never allows by accident: a map key
 * that is not there (a header, query parameter or claim the request lacks) makes the condition false; any other
 * evaluation error (a claim of the wrong type — see {@link ExpectedTypes} —, the iteration budget, a bad time zone) is
 * reported as an error, which the engine turns into a deny with the reason: a route condition does not hold, a deny
 * rule fires.
 *
 * <p>An expression that reads only the credential ({@code claims}, {@code auth.*}, {@code tenant}) gives the same answer
 * for the same verified token every time, so its outcome is remembered per cached identity ({@code memo}): a Check
 * with a cached token then pays a map lookup instead of an evaluation.
 *
 * @param source the expression as written, for errors and audit
 * @param line where it stands in the policy file
 * @param memo outcomes per identity instance (weak keys: they go when the token cache drops the identity); present
 *     only for credential-only expressions
 * @param reads the headers, query parameters and claims the expression reads (what a replayable decision keeps)
 * @param readsMcp the expression reads an {@code mcp.*} variable (a route whose rules decide on the MCP headers)
 * @param readsMcpArguments the expression reads {@code mcp.param}: tool arguments, which no decision row keeps, so
 *     such a decision cannot be replayed
 */
public record Condition(
        String source,
        int line,
        CelRuntime.Program program,
        Optional<Cache<Identity, Outcome>> memo,
        ConditionReads reads,
        boolean readsMcp,
        boolean readsMcpArguments) {
    public sealed interface Outcome {
        record Holds() implements Outcome {}

        record Fails() implements Outcome {}

        /**
         * The expression read a key the request lacks (a header, a query parameter). A route condition fails on it; a
         * deny rule denies on it: Istio's {@code notValues} denies a request without the header, and a deny rule that
         * vanished for an absent key would be the attacker's to switch off.
         */
        record Missing() implements Outcome {}

        /** @param message short, safe to return to the client (names the problem, never a value) */
        record Error(String message) implements Outcome {}
    }

    private static final Outcome HOLDS = new Outcome.Holds();
    private static final Outcome FAILS = new Outcome.Fails();
    private static final Outcome MISSING = new Outcome.Missing();

    /**
     * @param identity the caller's identity when it is a cached, verified token's (the same instance for every Check
     *     with that token); empty otherwise, and then nothing is remembered
     */
    public Outcome test(CelVariableResolver variables, Optional<Identity> identity) {
        if (memo.isPresent() && identity.isPresent()) {
            return memo.get().get(identity.get(), id -> test(variables));
        }
        return test(variables);
    }

    public Outcome test(CelVariableResolver variables) {
        try {
            Object result = program.eval(variables);
            if (!(result instanceof Boolean b)) {
                // only a bool answers; anything else (a claim read as the whole condition) is an error, not "false"
                return new Outcome.Error("not_a_bool");
            }
            return b ? HOLDS : FAILS;
        } catch (CelEvaluationException e) {
            if (e.getErrorCode() == CelErrorCode.ATTRIBUTE_NOT_FOUND) {
                return MISSING;
            }
            return new Outcome.Error(e.getErrorCode().name().toLowerCase(java.util.Locale.ROOT));
        } catch (RuntimeException e) {
            // a runtime bug must still deny, never escape as an RPC error that failure_mode_allow could pass
            return new Outcome.Error("internal");
        }
    }
}
