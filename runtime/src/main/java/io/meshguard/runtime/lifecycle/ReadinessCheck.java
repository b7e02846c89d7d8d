package io.meshguard.runtime.lifecycle;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * One condition a server needs before it should receive traffic (policy loaded, JWKS fetched, gRPC
 * serving). {@code /readyz} reports every check; the server is ready only when all are.
 */
public interface ReadinessCheck {

    /** Short stable name shown in {@code /readyz}, e.g. {@code policy:authz}. */
    String name();

    /** Evaluates the check now. Must be cheap and must not block on I/O. */
    Result check();

    /** The outcome of a check; {@code detail} tells an operator why it is not ready (or what is loaded). */
    record Result(boolean ready, String detail) {
        public Result {
            Objects.requireNonNull(detail, "detail");
        }

        /** Ready, with what is in place (e.g. the policy version). */
        public static Result ready(String detail) {
            return new Result(true, detail);
        }

        /** Not ready, with the reason an operator should read. */
        public static Result notReady(String detail) {
            return new Result(false, detail);
        }
    }

    /** A check from a name and a function. */
    static ReadinessCheck of(String name, Supplier<Result> check) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(check, "check");
        return new ReadinessCheck() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Result check() {
                return check.get();
            }

            @Override
            public String toString() {
                return "ReadinessCheck[" + name + "]";
            }
        };
    }
}
